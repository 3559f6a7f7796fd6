import type { Parameter } from "../autograd/parameter";
import { tf } from "../runtime/tfjs";
import {
  advanceStep,
  type BaseOptimizerOptions,
  Optimizer,
  type ParamGroup,
  type ParamState,
  type ParamsInput,
} from "./optimizer";
import { movingAverage, penalizedGradient, previousOrZeros } from "./update-terms";

/** Hyperparameters of {@link RMSprop}, as in `torch.optim.RMSprop`. */
export interface RMSpropOptions extends BaseOptimizerOptions {
  /** Smoothing constant: decay of the running average of squared gradients (default 0.99). */
  alpha: number;
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0: no momentum buffer). */
  momentum: number;
  /** Normalise by an estimate of the gradient's variance, not its raw second moment (default false). */
  centered: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

const NAMES = ["lr", "alpha", "eps", "weightDecay", "momentum", "centered", "maximize"] as const;

/**
 * An optional fused kernel a backend may register for the RMSprop update (the native engine does): inputs
 * `param`, `grad`, `squareAvg` (and `gradAvg` when centered, `momentumBuffer` when momentum > 0); attrs `lr`,
 * `alpha`, `eps`, `weightDecay`, `momentum`, `centered`, `maximize`; outputs the new param and squareAvg (then
 * gradAvg, momentumBuffer). It must equal the op-by-op update below bit for bit: each element-wise op rounded to
 * float32, scalar hyperparameters as float32.
 */
export const RMSPROP_UPDATE_KERNEL = "FulmenRmspropUpdate";

/** RMSprop with momentum, centering and L2 weight decay, equal to `torch.optim.RMSprop`. */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: ParamsInput<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    super(
      params,
      {
        lr: 1e-2,
        alpha: 0.99,
        eps: 1e-8,
        weightDecay: 0,
        momentum: 0,
        centered: false,
        maximize: false,
        ...options,
      },
      NAMES,
    );
  }

  protected override validate(options: Partial<RMSpropOptions>): void {
    super.validate(options);
    this.checkNonNegative(options, ["alpha", "eps", "momentum", "weightDecay"]);
  }

  protected updateParameter(
    param: Parameter,
    grad: tf.Tensor,
    group: ParamGroup<RMSpropOptions>,
    state: ParamState,
  ): void {
    advanceStep(state);
    if (this.hasFusedKernel(RMSPROP_UPDATE_KERNEL)) {
      this.fusedUpdate(param, grad, group, state);
      return;
    }
    const g = penalizedGradient(grad, param.data, group);
    const previous = (key: string) => previousOrZeros(state, key, param.data);
    const squareAvg = movingAverage(previous("squareAvg"), tf.mul(g, g), group.alpha);
    this.setState(state, "squareAvg", squareAvg);
    let avg: tf.Tensor;
    if (group.centered) {
      const gradAvg = movingAverage(previous("gradAvg"), g, group.alpha);
      this.setState(state, "gradAvg", gradAvg);
      avg = tf.sqrt(tf.sub(squareAvg, tf.mul(gradAvg, gradAvg)));
    } else {
      avg = tf.sqrt(squareAvg);
    }
    avg = tf.add(avg, group.eps);
    if (group.momentum > 0) {
      const buf = tf.add(tf.mul(previous("momentumBuffer"), group.momentum), tf.div(g, avg));
      this.setState(state, "momentumBuffer", buf);
      param.data.assign(tf.sub(param.data, tf.mul(buf, group.lr)));
    } else {
      param.data.assign(tf.sub(param.data, tf.mul(tf.div(g, avg), group.lr)));
    }
  }

  /** The same update through the backend's fused kernel (see {@link RMSPROP_UPDATE_KERNEL}). */
  private fusedUpdate(
    param: Parameter,
    grad: tf.Tensor,
    group: ParamGroup<RMSpropOptions>,
    state: ParamState,
  ): void {
    const previous = (key: string) => previousOrZeros(state, key, param.data);
    const momentum = group.momentum > 0;
    const inputs: Record<string, tf.Tensor> = { param: param.data, grad, squareAvg: previous("squareAvg") };
    if (group.centered) inputs.gradAvg = previous("gradAvg");
    if (momentum) inputs.momentumBuffer = previous("momentumBuffer");
    const outputs = this.runFusedKernel(RMSPROP_UPDATE_KERNEL, inputs, {
      lr: group.lr,
      alpha: group.alpha,
      eps: group.eps,
      weightDecay: group.weightDecay,
      momentum: group.momentum,
      centered: group.centered,
      maximize: group.maximize,
    });
    let next = 1;
    this.setState(state, "squareAvg", outputs[next++]!);
    if (group.centered) this.setState(state, "gradAvg", outputs[next++]!);
    if (momentum) this.setState(state, "momentumBuffer", outputs[next++]!);
    param.data.assign(outputs[0]!);
  }
}
