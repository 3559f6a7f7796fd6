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

/** Hyperparameters of {@link NAdam}, as in `torch.optim.NAdam` (PyTorch 1.13). */
export interface NAdamOptions extends BaseOptimizerOptions {
  /** Decays of the first and second moments (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** How fast the momentum schedule μ_t approaches beta1 (default 4e-3). */
  momentumDecay: number;
}

const NAMES = ["lr", "betas", "eps", "weightDecay", "momentumDecay"] as const;

/**
 * Adam with Nesterov momentum and L2 weight decay, equal to `torch.optim.NAdam`. State per parameter: `step`,
 * `muProduct` (a number, rounded to float32 after each product as PyTorch's float32 tensor is), `expAvg`,
 * `expAvgSq` (PyTorch's `mu_product`, `exp_avg`, `exp_avg_sq`).
 */
export class NAdam extends Optimizer<NAdamOptions> {
  constructor(params: ParamsInput<NAdamOptions>, options: Partial<NAdamOptions> = {}) {
    super(
      params,
      { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, ...options },
      NAMES,
    );
  }

  protected override validate(options: Partial<NAdamOptions>): void {
    super.validate(options);
    this.checkNonNegative(options, ["eps", "weightDecay", "momentumDecay"]);
    if (options.betas !== undefined) checkBetas("NAdam", options.betas);
  }

  protected updateParameter(
    param: Parameter,
    grad: tf.Tensor,
    group: ParamGroup<NAdamOptions>,
    state: ParamState,
  ): void {
    const [beta1, beta2] = group.betas;
    const step = advanceStep(state);
    const biasCorrection2 = 1 - beta2 ** step;
    const g = group.weightDecay !== 0 ? tf.add(grad, tf.mul(param.data, group.weightDecay)) : grad;
    // The momentum schedule μ_t and μ_{t+1}; their running product is a float32 tensor in PyTorch, so each
    // product is rounded to float32 (with the factor itself as float32) to follow it exactly.
    const mu = beta1 * (1 - 0.5 * 0.96 ** (step * group.momentumDecay));
    const muNext = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * group.momentumDecay));
    const previous = typeof state.muProduct === "number" ? state.muProduct : 1;
    const muProduct = Math.fround(previous * Math.fround(mu));
    const muProductNext = Math.fround(Math.fround(muProduct * Math.fround(mu)) * Math.fround(muNext));
    state.muProduct = muProduct;
    const avgPrev = state.expAvg instanceof tf.Tensor ? state.expAvg : tf.zerosLike(param.data);
    const sqPrev = state.expAvgSq instanceof tf.Tensor ? state.expAvgSq : tf.zerosLike(param.data);
    const expAvg = tf.add(tf.mul(avgPrev, beta1), tf.mul(g, 1 - beta1));
    const expAvgSq = tf.add(tf.mul(sqPrev, beta2), tf.mul(tf.mul(g, g), 1 - beta2));
    this.setState(state, "expAvg", expAvg);
    this.setState(state, "expAvgSq", expAvgSq);
    const denom = tf.add(tf.sqrt(tf.div(expAvgSq, biasCorrection2)), group.eps);
    const gradStep = (group.lr * (1 - mu)) / (1 - muProduct);
    const avgStep = (group.lr * muNext) / (1 - muProductNext);
    const afterGrad = tf.sub(param.data, tf.mul(tf.div(g, denom), gradStep));
    param.data.assign(tf.sub(afterGrad, tf.mul(tf.div(expAvg, denom), avgStep)));
  }
}
