import { checkOptionNames } from "../../utils/options";
import { type AnyOptimizer, LRScheduler } from "./lr-scheduler";

/** Options of {@link PolynomialLR}. */
export interface PolynomialLROptions {
  /** The number of steps over which the learning rate decays to zero (default 5). */
  totalIters?: number;
  /** The power of the polynomial: the factor is `(1 - step / totalIters) ** power` (default 1). */
  power?: number;
  /** The last step taken, to resume a schedule (default -1; otherwise each group needs `initialLr`). */
  lastEpoch?: number;
}

/** Decays the learning rate polynomially to zero over `totalIters` steps, like `torch.optim.lr_scheduler.PolynomialLR`. */
export class PolynomialLR extends LRScheduler {
  /** The number of steps over which the learning rate decays to zero. */
  readonly totalIters: number;
  /** The power of the polynomial: the factor is `(1 - step / totalIters) ** power`. */
  readonly power: number;

  constructor(optimizer: AnyOptimizer, options: PolynomialLROptions = {}) {
    super(optimizer, options.lastEpoch);
    checkOptionNames("PolynomialLR", options, ["totalIters", "power", "lastEpoch"]);
    this.totalIters = options.totalIters ?? 5;
    this.power = options.power ?? 1;
    this.initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch > this.totalIters) return this.currentLrs();
    const factor =
      ((1 - this.lastEpoch / this.totalIters) / (1 - (this.lastEpoch - 1) / this.totalIters)) ** this.power;
    return this.currentLrs().map((lr) => lr * factor);
  }

  protected override closedFormLr(): number[] {
    const progress = Math.min(this.totalIters, this.lastEpoch) / this.totalIters;
    return this.baseLrs.map((base) => base * (1 - progress) ** this.power);
  }
}
