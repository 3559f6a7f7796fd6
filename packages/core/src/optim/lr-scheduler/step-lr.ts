import { checkNumber, checkOptionNames } from "../../utils/options";
import { type AnyOptimizer, LRScheduler } from "./lr-scheduler";

/** Options of {@link StepLR}. */
export interface StepLROptions {
  stepSize: number;
  gamma?: number;
  lastEpoch?: number;
}

/** Multiplies the learning rate by `gamma` every `stepSize` steps, like `torch.optim.lr_scheduler.StepLR`. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
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
