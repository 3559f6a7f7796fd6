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

/** Hyperparameters of {@link RAdam}, as in `torch.optim.RAdam` (PyTorch 1.13). */
export interface RAdamOptions extends BaseOptimizerOptions {
  /** Decays of the first and second moments (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
}

const NAMES = ["lr", "betas", "eps", "weightDecay"] as const;

/**
 * Rectified Adam with L2 weight decay, equal to `torch.optim.RAdam`: while the variance estimate is too young
 * (ρ_t ≤ 5) it takes plain momentum steps, then rectified adaptive ones. State per parameter: `step`,
 * `expAvg`, `expAvgSq` (PyTorch's `exp_avg`, `exp_avg_sq`).
 */
export class RAdam extends Optimizer<RAdamOptions> {
  constructor(params: ParamsInput<RAdamOptions>, options: Partial<RAdamOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, ...options }, NAMES);
  }

  protected override validate(options: Partial<RAdamOptions>): void {
    super.validate(options);
    this.checkNonNegative(options, ["eps", "weightDecay"]);
    if (options.betas !== undefined) checkBetas("RAdam", options.betas);
  }

  protected updateParameter(
    param: Parameter,
    grad: tf.Tensor,
    group: ParamGroup<RAdamOptions>,
    state: ParamState,
  ): void {
    const [beta1, beta2] = group.betas;
    const step = advanceStep(state);
    const biasCorrection1 = 1 - beta1 ** step;
    const biasCorrection2 = 1 - beta2 ** step;
    const g = group.weightDecay !== 0 ? tf.add(grad, tf.mul(param.data, group.weightDecay)) : grad;
    const avgPrev = state.expAvg instanceof tf.Tensor ? state.expAvg : tf.zerosLike(param.data);
    const sqPrev = state.expAvgSq instanceof tf.Tensor ? state.expAvgSq : tf.zerosLike(param.data);
    const expAvg = tf.add(tf.mul(avgPrev, beta1), tf.mul(g, 1 - beta1));
    const expAvgSq = tf.add(tf.mul(sqPrev, beta2), tf.mul(tf.mul(g, g), 1 - beta2));
    this.setState(state, "expAvg", expAvg);
    this.setState(state, "expAvgSq", expAvgSq);
    const corrected = tf.div(expAvg, biasCorrection1);
    // The length of the approximated simple moving average, and its limit.
    const rhoInf = 2 / (1 - beta2) - 1;
    const rhoT = rhoInf - (2 * step * beta2 ** step) / biasCorrection2;
    let update: tf.Tensor;
    if (rhoT > 5) {
      const rect = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
      const adaptiveLr = tf.div(Math.sqrt(biasCorrection2), tf.add(tf.sqrt(expAvgSq), group.eps));
      // PyTorch's order: ((m̂ · lr) · adaptive) · rect, each rounded to float32.
      update = tf.mul(tf.mul(tf.mul(corrected, group.lr), adaptiveLr), rect);
    } else {
      update = tf.mul(corrected, group.lr);
    }
    param.data.assign(tf.sub(param.data, update));
  }
}
