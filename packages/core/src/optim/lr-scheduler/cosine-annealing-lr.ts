import { checkNumber, checkOptionNames } from "../../utils/options";
import { type AnyOptimizer, LRScheduler, pyMod } from "./lr-scheduler";

/** Options of {@link CosineAnnealingLR} (PyTorch's `T_max`, `eta_min`). */
export interface CosineAnnealingLROptions {
  /** The number of steps in half a cosine period, from the base rate down to `etaMin` (PyTorch's `T_max`). */
  tMax: number;
  /** The minimum learning rate (PyTorch's `eta_min`; default 0). */
  etaMin?: number;
  /** The last step taken, to resume a schedule (default -1; otherwise each group needs `initialLr`). */
  lastEpoch?: number;
}

/** Cosine annealing from the base rate to `etaMin` over `tMax` steps, like `torch.optim.lr_scheduler.CosineAnnealingLR`. */
export class CosineAnnealingLR extends LRScheduler {
  /** The number of steps from the base rate down to `etaMin` (PyTorch's `T_max`). */
  readonly tMax: number;
  /** The minimum learning rate (PyTorch's `eta_min`). */
  readonly etaMin: number;

  constructor(optimizer: AnyOptimizer, options: CosineAnnealingLROptions) {
    super(optimizer, options.lastEpoch);
    checkOptionNames("CosineAnnealingLR", options, ["tMax", "etaMin", "lastEpoch"]);
    checkNumber("CosineAnnealingLR", "tMax", options.tMax, (v) => v > 0, "> 0");
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
    this.initialStep();
  }

  protected getLr(): number[] {
    const { tMax, etaMin, lastEpoch } = this;
    if (lastEpoch === 0) return this.currentLrs();
    if (this.stepCount === 1 && lastEpoch > 0) return this.closedFormLr();
    if (pyMod(lastEpoch - 1 - tMax, 2 * tMax) === 0) {
      return this.currentLrs().map(
        (lr, i) => lr + ((this.baseLrs[i]! - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2,
      );
    }
    const ratio =
      (1 + Math.cos((Math.PI * lastEpoch) / tMax)) / (1 + Math.cos((Math.PI * (lastEpoch - 1)) / tMax));
    return this.currentLrs().map((lr) => ratio * (lr - etaMin) + etaMin);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map(
      (base) =>
        this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2,
    );
  }
}
