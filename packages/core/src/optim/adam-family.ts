import { tf } from "../runtime/tfjs";
import { checkBetas } from "./check-betas";
import { type BaseOptimizerOptions, Optimizer, type ParamState } from "./optimizer";
import { movingAverage, previousOrZeros } from "./update-terms";

/** The hyperparameters every Adam variant has (Adam, AdamW, Adamax, NAdam, RAdam), as `torch.optim` names them. */
export interface AdamFamilyOptions extends BaseOptimizerOptions {
  /** Decays of the first and second moments (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
}

/** PyTorch's defaults of {@link AdamFamilyOptions}; a function, so that no two optimizers share one betas array. */
export function adamFamilyDefaults(): Pick<AdamFamilyOptions, "betas" | "eps" | "weightDecay"> {
  return { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 };
}

/**
 * The base of the Adam variants, for what they do alike: refuse invalid betas and negative hyperparameters, and
 * keep Adam's running moments of the gradient (each variant then steps in its own way).
 */
export abstract class AdamFamilyOptimizer<O extends AdamFamilyOptions> extends Optimizer<O> {
  protected override validate(options: Partial<O>): void {
    super.validate(options);
    this.checkNonNegative(options, this.nonNegativeOptions());
    if (options.betas !== undefined) checkBetas(this.constructor.name, options.betas);
  }

  /**
   * The hyperparameters refused when negative, in the order they are checked (before the betas). A method, not a
   * field: the base constructor validates the defaults before a subclass's fields exist.
   */
  protected nonNegativeOptions(): ReadonlyArray<keyof O & string> {
    return ["eps", "weightDecay"];
  }

  /**
   * Advances the first and second moments of the gradient `g` (PyTorch's `exp_avg` and `exp_avg_sq`, zeros
   * before the first step), stores them in `state` and returns them.
   */
  protected updateMoments(
    state: ParamState,
    g: tf.Tensor,
    param: tf.Tensor,
    [beta1, beta2]: [number, number],
  ): [expAvg: tf.Tensor, expAvgSq: tf.Tensor] {
    const expAvg = movingAverage(previousOrZeros(state, "expAvg", param), g, beta1);
    const expAvgSq = movingAverage(previousOrZeros(state, "expAvgSq", param), tf.mul(g, g), beta2);
    this.setState(state, "expAvg", expAvg);
    this.setState(state, "expAvgSq", expAvgSq);
    return [expAvg, expAvgSq];
  }
}
