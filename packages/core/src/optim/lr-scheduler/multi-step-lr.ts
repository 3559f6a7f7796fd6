import { FulmenError } from "../../utils/errors";
import { checkOptionNames } from "../../utils/options";
import { type AnyOptimizer, LRScheduler } from "./lr-scheduler";

/** Options of {@link MultiStepLR}. */
export interface MultiStepLROptions {
  /** Step indices (integers) at which the rate is multiplied by `gamma`; a repeated one counts twice. */
  milestones: number[];
  /** The factor the learning rate is multiplied by at each milestone (default 0.1). */
  gamma?: number;
  /** The last step taken, to resume a schedule (default -1; otherwise each group needs `initialLr`). */
  lastEpoch?: number;
}

/** Multiplies the learning rate by `gamma` at each milestone, like `torch.optim.lr_scheduler.MultiStepLR`. */
export class MultiStepLR extends LRScheduler {
  /** The step indices at which the learning rate is multiplied by `gamma`, sorted in increasing order. */
  readonly milestones: number[];
  /** The factor the learning rate is multiplied by at each milestone. */
  readonly gamma: number;

  constructor(optimizer: AnyOptimizer, options: MultiStepLROptions) {
    super(optimizer, options.lastEpoch);
    checkOptionNames("MultiStepLR", options, ["milestones", "gamma", "lastEpoch"]);
    if (!Array.isArray(options.milestones) || options.milestones.some((m) => !Number.isInteger(m))) {
      throw new FulmenError("MultiStepLR: milestones must be a list of integers.");
    }
    this.milestones = [...options.milestones].sort((a, b) => a - b);
    this.gamma = options.gamma ?? 0.1;
    this.initialStep();
  }

  protected getLr(): number[] {
    const hits = this.milestones.filter((m) => m === this.lastEpoch).length;
    if (hits === 0) return this.currentLrs();
    return this.currentLrs().map((lr) => lr * this.gamma ** hits);
  }

  protected override closedFormLr(): number[] {
    const passed = this.milestones.filter((m) => m <= this.lastEpoch).length;
    return this.baseLrs.map((base) => base * this.gamma ** passed);
  }
}
