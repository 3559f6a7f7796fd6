import { checkNumber, checkOptionNames } from "../../utils/options";
import { type AnyOptimizer, LRScheduler } from "./lr-scheduler";

/** Options of {@link ConstantLR}. */
export interface ConstantLROptions {
  /** Factor applied to the learning rate until `totalIters` steps are done, in [0, 1] (default 1/3). */
  factor?: number;
  /** The number of steps the factor applies for (default 5). */
  totalIters?: number;
  /** The last step taken, to resume a schedule (default -1; otherwise each group needs `initialLr`). */
  lastEpoch?: number;
}

/** Scales the learning rate by `factor` for the first `totalIters` steps, like `torch.optim.lr_scheduler.ConstantLR`. */
export class ConstantLR extends LRScheduler {
  /** The factor the learning rate is multiplied by for the first `totalIters` steps. */
  readonly factor: number;
  /** The number of steps the factor applies for; from this step on the base rate is back. */
  readonly totalIters: number;

  constructor(optimizer: AnyOptimizer, options: ConstantLROptions = {}) {
    super(optimizer, options.lastEpoch);
    checkOptionNames("ConstantLR", options, ["factor", "totalIters", "lastEpoch"]);
    this.factor = options.factor ?? 1 / 3;
    this.totalIters = options.totalIters ?? 5;
    checkNumber("ConstantLR", "factor", this.factor, (v) => v >= 0 && v <= 1, "between 0 and 1");
    this.initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.currentLrs().map((lr) => lr * this.factor);
    if (this.lastEpoch !== this.totalIters) return this.currentLrs();
    return this.currentLrs().map((lr) => lr * (1 / this.factor));
  }

  protected override closedFormLr(): number[] {
    const done = this.lastEpoch >= this.totalIters ? 1 : 0;
    return this.baseLrs.map((base) => base * (this.factor + done * (1 - this.factor)));
  }
}
