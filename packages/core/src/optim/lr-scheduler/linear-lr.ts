import { checkNumber, checkOptionNames } from "../../utils/options";
import { type AnyOptimizer, LRScheduler } from "./lr-scheduler";

/** Options of {@link LinearLR}. */
export interface LinearLROptions {
  /** The factor applied to the base rate at the first step, in (0, 1] (default 1/3). */
  startFactor?: number;
  /** The factor reached after `totalIters` steps and kept from then on, in [0, 1] (default 1). */
  endFactor?: number;
  /** The number of steps over which the factor moves from `startFactor` to `endFactor` (default 5). */
  totalIters?: number;
  /** The last step taken, to resume a schedule (default -1; otherwise each group needs `initialLr`). */
  lastEpoch?: number;
}

/**
 * Moves the learning-rate factor linearly from `startFactor` to `endFactor` over `totalIters` steps, like
 * `torch.optim.lr_scheduler.LinearLR`.
 */
export class LinearLR extends LRScheduler {
  /** The factor applied to the base rate at the first step. */
  readonly startFactor: number;
  /** The factor reached after `totalIters` steps and kept from then on. */
  readonly endFactor: number;
  /** The number of steps over which the factor moves from `startFactor` to `endFactor`. */
  readonly totalIters: number;

  constructor(optimizer: AnyOptimizer, options: LinearLROptions = {}) {
    super(optimizer, options.lastEpoch);
    checkOptionNames("LinearLR", options, ["startFactor", "endFactor", "totalIters", "lastEpoch"]);
    this.startFactor = options.startFactor ?? 1 / 3;
    this.endFactor = options.endFactor ?? 1;
    this.totalIters = options.totalIters ?? 5;
    checkNumber("LinearLR", "startFactor", this.startFactor, (v) => v > 0 && v <= 1, "in (0, 1]");
    checkNumber("LinearLR", "endFactor", this.endFactor, (v) => v >= 0 && v <= 1, "in [0, 1]");
    this.initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.currentLrs().map((lr) => lr * this.startFactor);
    if (this.lastEpoch > this.totalIters) return this.currentLrs();
    const delta = this.endFactor - this.startFactor;
    const factor = 1 + delta / (this.totalIters * this.startFactor + (this.lastEpoch - 1) * delta);
    return this.currentLrs().map((lr) => lr * factor);
  }

  protected override closedFormLr(): number[] {
    const progress = Math.min(this.totalIters, this.lastEpoch) / this.totalIters;
    return this.baseLrs.map(
      (base) => base * (this.startFactor + (this.endFactor - this.startFactor) * progress),
    );
  }
}
