import type { Parameter } from "../autograd/parameter";
import { tf } from "../runtime/tfjs";
import { checkNumber } from "../utils/options";
import {
  type BaseOptimizerOptions,
  Optimizer,
  type ParamGroup,
  type ParamState,
  type ParamsInput,
} from "./optimizer";

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
    if (options.eps !== undefined) checkNumber("Adadelta", "eps", options.eps, (v) => v >= 0, ">= 0");
    if (options.weightDecay !== undefined)
      checkNumber("Adadelta", "weightDecay", options.weightDecay, (v) => v >= 0, ">= 0");
  }

  protected updateParameter(
    param: Parameter,
    grad: tf.Tensor,
    group: ParamGroup<AdadeltaOptions>,
    state: ParamState,
  ): void {
    state.step = (typeof state.step === "number" ? state.step : 0) + 1;
    const { rho, eps } = group;
    let g = group.maximize ? tf.neg(grad) : grad;
    if (group.weightDecay !== 0) g = tf.add(g, tf.mul(param.data, group.weightDecay));
    const sqPrev = state.squareAvg instanceof tf.Tensor ? state.squareAvg : tf.zerosLike(param.data);
    const accPrev = state.accDelta instanceof tf.Tensor ? state.accDelta : tf.zerosLike(param.data);
    const squareAvg = tf.add(tf.mul(sqPrev, rho), tf.mul(tf.mul(g, g), 1 - rho));
    const std = tf.sqrt(tf.add(squareAvg, eps));
    const delta = tf.mul(tf.div(tf.sqrt(tf.add(accPrev, eps)), std), g);
    const accDelta = tf.add(tf.mul(accPrev, rho), tf.mul(tf.mul(delta, delta), 1 - rho));
    this.setState(state, "squareAvg", squareAvg);
    this.setState(state, "accDelta", accDelta);
    param.data.assign(tf.sub(param.data, tf.mul(delta, group.lr)));
  }
}
