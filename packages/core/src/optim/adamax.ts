import type { Parameter } from "../autograd/parameter";
import { tf } from "../runtime/tfjs";
import { AdamFamilyOptimizer, type AdamFamilyOptions, adamFamilyDefaults } from "./adam-family";
import { advanceStep, type ParamGroup, type ParamState, type ParamsInput } from "./optimizer";
import { movingAverage, penalizedGradient, previousOrZeros } from "./update-terms";

/** Hyperparameters of {@link Adamax}, as in `torch.optim.Adamax`. */
export interface AdamaxOptions extends AdamFamilyOptions {
  /** Decays of the first moment and of the infinity norm (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to |gradient| before the infinity norm's maximum (default 1e-8). */
  eps: number;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

const NAMES = ["lr", "betas", "eps", "weightDecay", "maximize"] as const;

/**
 * Adamax (Adam with the infinity norm) with L2 weight decay, equal to `torch.optim.Adamax`. State per
 * parameter: `step`, `expAvg`, `expInf` (PyTorch's `exp_avg`, `exp_inf`).
 */
export class Adamax extends AdamFamilyOptimizer<AdamaxOptions> {
  constructor(params: ParamsInput<AdamaxOptions>, options: Partial<AdamaxOptions> = {}) {
    super(params, { lr: 2e-3, ...adamFamilyDefaults(), maximize: false, ...options }, NAMES);
  }

  protected updateParameter(
    param: Parameter,
    grad: tf.Tensor,
    group: ParamGroup<AdamaxOptions>,
    state: ParamState,
  ): void {
    const [beta1, beta2] = group.betas;
    const step = advanceStep(state);
    const g = penalizedGradient(grad, param.data, group);
    const expAvg = movingAverage(previousOrZeros(state, "expAvg", param.data), g, beta1);
    const infPrev = previousOrZeros(state, "expInf", param.data);
    const expInf = tf.maximum(tf.mul(infPrev, beta2), tf.add(tf.abs(g), group.eps));
    this.setState(state, "expAvg", expAvg);
    this.setState(state, "expInf", expInf);
    const clr = group.lr / (1 - beta1 ** step);
    param.data.assign(tf.sub(param.data, tf.mul(tf.div(expAvg, expInf), clr)));
  }
}
