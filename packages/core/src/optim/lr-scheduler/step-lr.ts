import { checkNumber, checkOptionNames } from "../../utils/options";
import { type AnyOptimizer, LRScheduler } from "./lr-scheduler";

/** Options of {@link StepLR}. */
export interface StepLROptions {
  /** The period of the decay, in steps: a positive integer (PyTorch's `step_size`). */
  stepSize: number;
  /** The factor the learning rate is multiplied by every `stepSize` steps (default 0.1). */
  gamma?: number;
  /** The last step taken, to resume a schedule (default -1; otherwise each group needs `initialLr`). */
  lastEpoch?: number;
}

/** Multiplies the learning rate by `gamma` every `stepSize` steps, like `torch.optim.lr_scheduler.StepLR`. */
export class StepLR extends LRScheduler {
  /** The period of the decay, in steps (PyTorch's `step_size`). */
  readonly stepSize: number;
  /** The factor the learning rate is multiplied by every `stepSize` steps. */
  readonly gamma: number;

  constructor(optimizer: AnyOptimizer, options: StepLROptions) {
    super(optimizer, options.lastEpoch);
    checkOptionNames("StepLR", options, ["stepSize", "gamma", "lastEpoch"]);
    checkNumber(
      "StepLR",
      "stepSize",
      options.stepSize,
      (v) => Number.isInteger(v) && v > 0,
      "a positive integer",
    );
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
    this.initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.currentLrs();
    return this.currentLrs().map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}
