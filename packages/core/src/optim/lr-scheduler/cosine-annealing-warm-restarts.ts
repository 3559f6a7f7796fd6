import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { type AnyOptimizer, LRScheduler } from "./lr-scheduler";

/** Options of {@link CosineAnnealingWarmRestarts} (PyTorch's `T_0`, `T_mult`, `eta_min`). */
export interface CosineAnnealingWarmRestartsOptions {
  /** The number of steps before the first restart: a positive integer (PyTorch's `T_0`). */
  t0: number;
  /** The factor the period grows by after each restart: an integer >= 1 (PyTorch's `T_mult`; default 1). */
  tMult?: number;
  /** The minimum learning rate (PyTorch's `eta_min`; default 0). */
  etaMin?: number;
  /** The last step taken, to resume a schedule (default -1; otherwise each group needs `initialLr`). */
  lastEpoch?: number;
}

/**
 * SGDR: cosine annealing restarted every `tI` steps, the period growing by `tMult` after each restart, like
 * `torch.optim.lr_scheduler.CosineAnnealingWarmRestarts`. `step(epoch)` accepts fractional epochs.
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  /** The number of steps before the first restart (PyTorch's `T_0`). */
  readonly t0: number;
  /** The factor the period grows by after each restart (PyTorch's `T_mult`). */
  readonly tMult: number;
  /** The minimum learning rate (PyTorch's `eta_min`). */
  readonly etaMin: number;
  /** The length of the current period, in steps (PyTorch's `T_i`). */
  tI: number;
  /** Steps since the last restart (PyTorch's `T_cur`); fractional after a fractional `step(epoch)`. */
  tCur: number;

  constructor(optimizer: AnyOptimizer, options: CosineAnnealingWarmRestartsOptions) {
    super(optimizer, options.lastEpoch);
    checkOptionNames("CosineAnnealingWarmRestarts", options, ["t0", "tMult", "etaMin", "lastEpoch"]);
    checkNumber(
      "CosineAnnealingWarmRestarts",
      "t0",
      options.t0,
      (v) => Number.isInteger(v) && v > 0,
      "a positive integer",
    );
    this.t0 = options.t0;
    this.tMult = options.tMult ?? 1;
    checkNumber(
      "CosineAnnealingWarmRestarts",
      "tMult",
      this.tMult,
      (v) => Number.isInteger(v) && v >= 1,
      "an integer >= 1",
    );
    this.etaMin = options.etaMin ?? 0;
    this.tI = this.t0;
    this.tCur = this.lastEpoch;
    this.initialStep();
  }

  protected getLr(): number[] {
    return this.baseLrs.map(
      (base) => this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * this.tCur) / this.tI))) / 2,
    );
  }

  override step(epoch?: number): void {
    this.stepCount += 1;
    let e = epoch;
    if (e === undefined && this.lastEpoch < 0) e = 0;
    if (e === undefined) {
      e = this.lastEpoch + 1;
      this.tCur += 1;
      if (this.tCur >= this.tI) {
        this.tCur -= this.tI;
        this.tI *= this.tMult;
      }
    } else {
      if (e < 0)
        throw new FulmenError(`CosineAnnealingWarmRestarts: expected a non-negative epoch, got ${e}.`);
      if (e >= this.t0) {
        if (this.tMult === 1) {
          this.tCur = e % this.t0;
        } else {
          const n = Math.floor(Math.log((e / this.t0) * (this.tMult - 1) + 1) / Math.log(this.tMult));
          this.tCur = e - (this.t0 * (this.tMult ** n - 1)) / (this.tMult - 1);
          this.tI = this.t0 * this.tMult ** n;
        }
      } else {
        this.tI = this.t0;
        this.tCur = e;
      }
    }
    this.lastEpoch = Math.floor(e);
    this.applyLrs(this.getLr());
  }
}
