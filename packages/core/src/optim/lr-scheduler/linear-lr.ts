import { checkNumber, checkOptionNames } from "../../utils/options";
import { type AnyOptimizer, LRScheduler } from "./lr-scheduler";

/** Options of {@link LinearLR}. */
export interface LinearLROptions {
  startFactor?: number;
  endFactor?: number;
  totalIters?: number;
  lastEpoch?: number;
}

/**
 * Moves the learning-rate factor linearly from `startFactor` to `endFactor` over `totalIters` steps, like
 * `torch.optim.lr_scheduler.LinearLR`.
 */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
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
