import type { Parameter } from "../autograd/parameter";
import { tf } from "../runtime/tfjs";
import { AdamFamilyOptimizer, type AdamFamilyOptions, adamFamilyDefaults } from "./adam-family";
import { advanceStep, type ParamGroup, type ParamState, type ParamsInput } from "./optimizer";
import { previousOrZeros } from "./update-terms";

/** Hyperparameters of {@link Adam} and {@link AdamW}, as in `torch.optim.Adam`. */
export interface AdamOptions extends AdamFamilyOptions {
  /**
   * Weight decay: an L2 penalty added to the gradient in {@link Adam} (default 0), a decoupled shrinking of
   * the parameter by `lr * weightDecay` in {@link AdamW} (default 1e-2).
   */
  weightDecay: number;
  /** Use the AMSGrad variant, dividing by the running maximum of the second moment (default false). */
  amsgrad: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

const NAMES = ["lr", "betas", "eps", "weightDecay", "amsgrad", "maximize"] as const;

/**
 * An optional fused kernel a backend may register for the Adam/AdamW update (the native engine does): inputs
 * `param`, `grad`, `expAvg`, `expAvgSq` (and `maxExpAvgSq` with amsgrad); attrs `lr`, `beta1`, `beta2`, `eps`,
 * `weightDecay`, `stepSize`, `biasCorrection2Sqrt`, `decoupled`, `amsgrad`, `maximize`; outputs the new param,
 * expAvg, expAvgSq (and maxExpAvgSq). It must equal the op-by-op update below bit for bit: each element-wise op
 * rounded to float32, scalar hyperparameters as float32.
 */
export const ADAM_UPDATE_KERNEL = "FulmenAdamUpdate";

// A function, so that no two optimizers share one betas array.
const adamDefaults = (): AdamOptions => ({
  lr: 1e-3,
  ...adamFamilyDefaults(),
  amsgrad: false,
  maximize: false,
});

/**
 * Shared by Adam and AdamW, which differ only in how weight decay is applied: Adam adds it to the gradient
 * (L2), AdamW shrinks the parameter directly (decoupled).
 */
abstract class AdamBase extends AdamFamilyOptimizer<AdamOptions> {
  /** Whether weight decay shrinks the parameter directly (AdamW), not as an L2 term in the gradient. */
  protected abstract readonly decoupledWeightDecay: boolean;

  protected updateParameter(
    param: Parameter,
    grad: tf.Tensor,
    group: ParamGroup<AdamOptions>,
    state: ParamState,
  ): void {
    const [beta1, beta2] = group.betas;
    const step = advanceStep(state);
    if (this.hasFusedKernel(ADAM_UPDATE_KERNEL)) {
      this.fusedUpdate(param, grad, group, state, step);
      return;
    }
    let g = group.maximize ? tf.neg(grad) : grad;
    let value: tf.Tensor = param.data;
    if (group.weightDecay !== 0) {
      if (this.decoupledWeightDecay) value = tf.mul(value, 1 - group.lr * group.weightDecay);
      else g = tf.add(g, tf.mul(value, group.weightDecay));
    }
    const [expAvg, expAvgSq] = this.updateMoments(state, g, param.data, group.betas);
    const biasCorrection1 = 1 - beta1 ** step;
    const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** step);
    let second = expAvgSq;
    if (group.amsgrad) {
      second = tf.maximum(previousOrZeros(state, "maxExpAvgSq", param.data), expAvgSq);
      this.setState(state, "maxExpAvgSq", second);
    }
    const denom = tf.add(tf.div(tf.sqrt(second), biasCorrection2Sqrt), group.eps);
    const stepSize = group.lr / biasCorrection1;
    param.data.assign(tf.sub(value, tf.mul(tf.div(expAvg, denom), stepSize)));
  }

  /** The same update through the backend's fused kernel (see {@link ADAM_UPDATE_KERNEL}). */
  private fusedUpdate(
    param: Parameter,
    grad: tf.Tensor,
    group: ParamGroup<AdamOptions>,
    state: ParamState,
    step: number,
  ): void {
    const [beta1, beta2] = group.betas;
    const previous = (key: string) => previousOrZeros(state, key, param.data);
    const inputs: Record<string, tf.Tensor> = {
      param: param.data,
      grad,
      expAvg: previous("expAvg"),
      expAvgSq: previous("expAvgSq"),
    };
    if (group.amsgrad) inputs.maxExpAvgSq = previous("maxExpAvgSq");
    const attrs = {
      lr: group.lr,
      beta1,
      beta2,
      eps: group.eps,
      weightDecay: group.weightDecay,
      stepSize: group.lr / (1 - beta1 ** step),
      biasCorrection2Sqrt: Math.sqrt(1 - beta2 ** step),
      decoupled: this.decoupledWeightDecay,
      amsgrad: group.amsgrad,
      maximize: group.maximize,
    };
    const outputs = this.runFusedKernel(ADAM_UPDATE_KERNEL, inputs, attrs);
    this.setState(state, "expAvg", outputs[1]!);
    this.setState(state, "expAvgSq", outputs[2]!);
    if (group.amsgrad) this.setState(state, "maxExpAvgSq", outputs[3]!);
    param.data.assign(outputs[0]!);
  }
}

/** Adam with L2 weight decay and AMSGrad, equal to `torch.optim.Adam`. */
export class Adam extends AdamBase {
  /** False: Adam adds weight decay to the gradient as an L2 penalty. */
  protected readonly decoupledWeightDecay = false;

  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, { ...adamDefaults(), weightDecay: 0, ...options }, NAMES);
  }
}

/** Adam with decoupled weight decay (default 0.01) and AMSGrad, equal to `torch.optim.AdamW`. */
export class AdamW extends AdamBase {
  /** True: AdamW multiplies the parameter by `1 - lr * weightDecay` before the Adam step. */
  protected readonly decoupledWeightDecay = true;

  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, { ...adamDefaults(), weightDecay: 1e-2, ...options }, NAMES);
  }
}
