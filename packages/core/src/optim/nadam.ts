import type { Parameter } from "../autograd/parameter";
import { tf } from "../runtime/tfjs";
import { AdamFamilyOptimizer, type AdamFamilyOptions, adamFamilyDefaults } from "./adam-family";
import { advanceStep, type ParamGroup, type ParamState, type ParamsInput } from "./optimizer";
import { penalizedGradient } from "./update-terms";

/** Hyperparameters of {@link NAdam}, as in `torch.optim.NAdam` (PyTorch 1.13). */
export interface NAdamOptions extends AdamFamilyOptions {
  /** How fast the momentum schedule μ_t approaches beta1 (default 4e-3). */
  momentumDecay: number;
}

const NAMES = ["lr", "betas", "eps", "weightDecay", "momentumDecay"] as const;

/**
 * Adam with Nesterov momentum and L2 weight decay, equal to `torch.optim.NAdam`. State per parameter: `step`,
 * `muProduct` (a number, rounded to float32 after each product as PyTorch's float32 tensor is), `expAvg`,
 * `expAvgSq` (PyTorch's `mu_product`, `exp_avg`, `exp_avg_sq`).
 */
export class NAdam extends AdamFamilyOptimizer<NAdamOptions> {
  constructor(params: ParamsInput<NAdamOptions>, options: Partial<NAdamOptions> = {}) {
    super(params, { lr: 2e-3, ...adamFamilyDefaults(), momentumDecay: 4e-3, ...options }, NAMES);
  }

  /** eps, weightDecay and momentumDecay: none may be negative. */
  protected override nonNegativeOptions(): ReadonlyArray<keyof NAdamOptions & string> {
    return ["eps", "weightDecay", "momentumDecay"];
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
    const g = penalizedGradient(grad, param.data, group);
    // The momentum schedule μ_t and μ_{t+1}; their running product is a float32 tensor in PyTorch, so each
    // product is rounded to float32 (with the factor itself as float32) to follow it exactly.
    const mu = beta1 * (1 - 0.5 * 0.96 ** (step * group.momentumDecay));
    const muNext = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * group.momentumDecay));
    const previous = typeof state.muProduct === "number" ? state.muProduct : 1;
    const muProduct = Math.fround(previous * Math.fround(mu));
    const muProductNext = Math.fround(Math.fround(muProduct * Math.fround(mu)) * Math.fround(muNext));
    state.muProduct = muProduct;
    const [expAvg, expAvgSq] = this.updateMoments(state, g, param.data, group.betas);
    const denom = tf.add(tf.sqrt(tf.div(expAvgSq, biasCorrection2)), group.eps);
    const gradStep = (group.lr * (1 - mu)) / (1 - muProduct);
    const avgStep = (group.lr * muNext) / (1 - muProductNext);
    const afterGrad = tf.sub(param.data, tf.mul(tf.div(g, denom), gradStep));
    param.data.assign(tf.sub(afterGrad, tf.mul(tf.div(expAvg, denom), avgStep)));
  }
}
