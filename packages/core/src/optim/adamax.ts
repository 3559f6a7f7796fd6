import type { Parameter } from "../autograd/parameter";
import { tf } from "../runtime/tfjs";
import { checkBetas } from "./check-betas";
import {
  advanceStep,
  type BaseOptimizerOptions,
  Optimizer,
  type ParamGroup,
  type ParamState,
  type ParamsInput,
} from "./optimizer";

/** Hyperparameters of {@link Adamax}, as in `torch.optim.Adamax`. */
export interface AdamaxOptions extends BaseOptimizerOptions {
  /** Decays of the first moment and of the infinity norm (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to |gradient| before the infinity norm's maximum (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

const NAMES = ["lr", "betas", "eps", "weightDecay", "maximize"] as const;

/**
 * Adamax (Adam with the infinity norm) with L2 weight decay, equal to `torch.optim.Adamax`. State per
 * parameter: `step`, `expAvg`, `expInf` (PyTorch's `exp_avg`, `exp_inf`).
 */
export class Adamax extends Optimizer<AdamaxOptions> {
  constructor(params: ParamsInput<AdamaxOptions>, options: Partial<AdamaxOptions> = {}) {
    // A fresh default betas array per optimizer, so that no two share one.
    super(
      params,
      { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false, ...options },
      NAMES,
    );
  }

  protected override validate(options: Partial<AdamaxOptions>): void {
    super.validate(options);
    this.checkNonNegative(options, ["eps", "weightDecay"]);
    if (options.betas !== undefined) checkBetas("Adamax", options.betas);
  }

  protected updateParameter(
    param: Parameter,
    grad: tf.Tensor,
    group: ParamGroup<AdamaxOptions>,
    state: ParamState,
  ): void {
    const [beta1, beta2] = group.betas;
    const step = advanceStep(state);
    let g = group.maximize ? tf.neg(grad) : grad;
    if (group.weightDecay !== 0) g = tf.add(g, tf.mul(param.data, group.weightDecay));
    const avgPrev = state.expAvg instanceof tf.Tensor ? state.expAvg : tf.zerosLike(param.data);
    const infPrev = state.expInf instanceof tf.Tensor ? state.expInf : tf.zerosLike(param.data);
    const expAvg = tf.add(tf.mul(avgPrev, beta1), tf.mul(g, 1 - beta1));
    const expInf = tf.maximum(tf.mul(infPrev, beta2), tf.add(tf.abs(g), group.eps));
    this.setState(state, "expAvg", expAvg);
    this.setState(state, "expInf", expInf);
    const clr = group.lr / (1 - beta1 ** step);
    param.data.assign(tf.sub(param.data, tf.mul(tf.div(expAvg, expInf), clr)));
  }
}
