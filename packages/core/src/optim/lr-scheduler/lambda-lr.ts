import { FulmenError } from "../../utils/errors";
import { checkOptionNames } from "../../utils/options";
import { type AnyOptimizer, LRScheduler } from "./lr-scheduler";

/** A function of the step index that returns a factor. */
export type LrLambda = (epoch: number) => number;

function lambdas(owner: string, given: LrLambda | LrLambda[], groups: number): LrLambda[] {
  if (!Array.isArray(given)) return Array.from({ length: groups }, () => given);
  if (given.length !== groups)
    throw new FulmenError(`${owner}: expected ${groups} lrLambda functions, got ${given.length}.`);
  return [...given];
}

/** Sets each group's rate to its base rate times `lrLambda(step)`, like `torch.optim.lr_scheduler.LambdaLR`. */
export class LambdaLR extends LRScheduler {
  private readonly lrLambdas: LrLambda[];

  constructor(optimizer: AnyOptimizer, options: { lrLambda: LrLambda | LrLambda[]; lastEpoch?: number }) {
    super(optimizer, options.lastEpoch);
    checkOptionNames("LambdaLR", options, ["lrLambda", "lastEpoch"]);
    this.lrLambdas = lambdas("LambdaLR", options.lrLambda, optimizer.paramGroups.length);
    this.initialStep();
  }

  protected getLr(): number[] {
    return this.baseLrs.map((base, i) => base * this.lrLambdas[i]!(this.lastEpoch));
  }
}

/** Multiplies each group's current rate by `lrLambda(step)` after the first step, like `MultiplicativeLR`. */
export class MultiplicativeLR extends LRScheduler {
  private readonly lrLambdas: LrLambda[];

  constructor(optimizer: AnyOptimizer, options: { lrLambda: LrLambda | LrLambda[]; lastEpoch?: number }) {
    super(optimizer, options.lastEpoch);
    checkOptionNames("MultiplicativeLR", options, ["lrLambda", "lastEpoch"]);
    this.lrLambdas = lambdas("MultiplicativeLR", options.lrLambda, optimizer.paramGroups.length);
    this.initialStep();
  }

  protected getLr(): number[] {
    if (this.lastEpoch <= 0) return this.currentLrs();
    return this.currentLrs().map((lr, i) => lr * this.lrLambdas[i]!(this.lastEpoch));
  }
}
