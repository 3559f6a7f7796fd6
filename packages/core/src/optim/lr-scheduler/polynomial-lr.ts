import { checkOptionNames } from "../../utils/options";
import { type AnyOptimizer, LRScheduler } from "./lr-scheduler";

/** Options of {@link PolynomialLR}. */
export interface PolynomialLROptions {
  totalIters?: number;
  power?: number;
  lastEpoch?: number;
}

/** Decays the learning rate polynomially to zero over `totalIters` steps, like `torch.optim.lr_scheduler.PolynomialLR`. */
export class PolynomialLR extends LRScheduler {
  readonly totalIters: number;
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
