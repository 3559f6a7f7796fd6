import type { Parameter } from "../autograd/parameter";
import { tf } from "../runtime/tfjs";
import { AdamFamilyOptimizer, type AdamFamilyOptions, adamFamilyDefaults } from "./adam-family";
import { advanceStep, type ParamGroup, type ParamState, type ParamsInput } from "./optimizer";
import { penalizedGradient } from "./update-terms";

/** Hyperparameters of {@link RAdam}, as in `torch.optim.RAdam` (PyTorch 1.13). */
export interface RAdamOptions extends AdamFamilyOptions {}

const NAMES = ["lr", "betas", "eps", "weightDecay"] as const;

/**
 * Rectified Adam with L2 weight decay, equal to `torch.optim.RAdam`: while the variance estimate is too young
 * (ρ_t ≤ 5) it takes plain momentum steps, then rectified adaptive ones. State per parameter: `step`,
 * `expAvg`, `expAvgSq` (PyTorch's `exp_avg`, `exp_avg_sq`).
 */
export class RAdam extends AdamFamilyOptimizer<RAdamOptions> {
  constructor(params: ParamsInput<RAdamOptions>, options: Partial<RAdamOptions> = {}) {
    super(params, { lr: 1e-3, ...adamFamilyDefaults(), ...options }, NAMES);
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
    const g = penalizedGradient(grad, param.data, group);
    const [expAvg, expAvgSq] = this.updateMoments(state, g, param.data, group.betas);
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
