import type { Parameter } from "../autograd/parameter";
import { tf } from "../runtime/tfjs";
import { checkNumber } from "../utils/options";
import {
  advanceStep,
  type BaseOptimizerOptions,
  Optimizer,
  type ParamGroup,
  type ParamState,
  type ParamsInput,
} from "./optimizer";
import { movingAverage, penalizedGradient, previousOrZeros } from "./update-terms";

/** Hyperparameters of {@link Adadelta}, as in `torch.optim.Adadelta`. */
export interface AdadeltaOptions extends BaseOptimizerOptions {
  /** Decay of the running averages of squared gradients and squared updates (default 0.9). */
  rho: number;
  /** Added inside both square roots (default 1e-6). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

const NAMES = ["lr", "rho", "eps", "weightDecay", "maximize"] as const;

/**
 * Adadelta with L2 weight decay, equal to `torch.optim.Adadelta` (learning rate 1 by default: it scales the
 * update, which Adadelta sizes itself). State per parameter: `step`, `squareAvg`, `accDelta` (PyTorch's
 * `square_avg`, `acc_delta`).
 */
export class Adadelta extends Optimizer<AdadeltaOptions> {
  constructor(params: ParamsInput<AdadeltaOptions>, options: Partial<AdadeltaOptions> = {}) {
    super(params, { lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0, maximize: false, ...options }, NAMES);
  }

  protected override validate(options: Partial<AdadeltaOptions>): void {
    super.validate(options);
    if (options.rho !== undefined)
      checkNumber("Adadelta", "rho", options.rho, (v) => v >= 0 && v <= 1, "in [0, 1]");
    this.checkNonNegative(options, ["eps", "weightDecay"]);
  }

  protected updateParameter(
    param: Parameter,
    grad: tf.Tensor,
    group: ParamGroup<AdadeltaOptions>,
    state: ParamState,
  ): void {
    advanceStep(state);
    const { rho, eps } = group;
    const g = penalizedGradient(grad, param.data, group);
    const accPrev = previousOrZeros(state, "accDelta", param.data);
    const squareAvg = movingAverage(previousOrZeros(state, "squareAvg", param.data), tf.mul(g, g), rho);
    const std = tf.sqrt(tf.add(squareAvg, eps));
    const delta = tf.mul(tf.div(tf.sqrt(tf.add(accPrev, eps)), std), g);
    const accDelta = movingAverage(accPrev, tf.mul(delta, delta), rho);
    this.setState(state, "squareAvg", squareAvg);
    this.setState(state, "accDelta", accDelta);
    param.data.assign(tf.sub(param.data, tf.mul(delta, group.lr)));
  }
}
