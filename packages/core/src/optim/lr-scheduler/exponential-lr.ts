import { checkOptionNames } from "../../utils/options";
import { type AnyOptimizer, LRScheduler } from "./lr-scheduler";

/** Options of {@link ExponentialLR}. */
export interface ExponentialLROptions {
  /** The factor the learning rate is multiplied by at every step. */
  gamma: number;
  /** The last step taken, to resume a schedule (default -1; otherwise each group needs `initialLr`). */
  lastEpoch?: number;
}

/** Multiplies the learning rate by `gamma` every step, like `torch.optim.lr_scheduler.ExponentialLR`. */
export class ExponentialLR extends LRScheduler {
  /** The factor the learning rate is multiplied by at every step. */
  readonly gamma: number;

  constructor(optimizer: AnyOptimizer, options: ExponentialLROptions) {
    super(optimizer, options.lastEpoch);
    checkOptionNames("ExponentialLR", options, ["gamma", "lastEpoch"]);
    this.gamma = options.gamma;
    this.initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.currentLrs();
    return this.currentLrs().map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** this.lastEpoch);
  }
}
