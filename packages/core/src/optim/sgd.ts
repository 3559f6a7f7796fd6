import type { Parameter } from "../autograd/parameter";
import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";
import {
  type BaseOptimizerOptions,
  Optimizer,
  type ParamGroup,
  type ParamState,
  type ParamsInput,
} from "./optimizer";
import { penalizedGradient } from "./update-terms";

/** Hyperparameters of {@link SGD}, as in `torch.optim.SGD`. */
export interface SGDOptions extends BaseOptimizerOptions {
  /** Momentum factor (default 0). */
  momentum: number;
  /** Dampening for momentum: the gradient enters the buffer scaled by `1 - dampening` (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Use Nesterov momentum; needs momentum > 0 and zero dampening (default false). */
  nesterov: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

const NAMES = ["lr", "momentum", "dampening", "weightDecay", "nesterov", "maximize"] as const;

/**
 * An optional fused kernel a backend may register for the SGD update: inputs `param`, `grad` (and
 * `momentumBuffer` with momentum); attrs `lr`, `momentum`, `dampening`, `weightDecay`, `nesterov`, `maximize`,
 * `hasBuffer` (false on the first step, when the buffer starts as the gradient); outputs the new param (and
 * buffer). It must equal the op-by-op update bit for bit.
 */
export const SGD_UPDATE_KERNEL = "FulmenSgdUpdate";

/** Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay, equal to `torch.optim.SGD`. */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, options: Partial<SGDOptions> = {}) {
    super(
      params,
      { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...options },
      NAMES,
    );
  }

  protected override validate(options: Partial<SGDOptions>): void {
    super.validate(options);
    this.checkNonNegative(options, ["momentum", "weightDecay"]);
    const momentum = options.momentum ?? this.defaults?.momentum ?? 0;
    const dampening = options.dampening ?? this.defaults?.dampening ?? 0;
    if ((options.nesterov ?? this.defaults?.nesterov) && (momentum <= 0 || dampening !== 0)) {
      throw new FulmenError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening.");
    }
  }

  protected updateParameter(
    param: Parameter,
    grad: tf.Tensor,
    group: ParamGroup<SGDOptions>,
    state: ParamState,
  ): void {
    if (this.hasFusedKernel(SGD_UPDATE_KERNEL)) {
      this.fusedUpdate(param, grad, group, state);
      return;
    }
    let d = penalizedGradient(grad, param.data, group);
    if (group.momentum !== 0) {
      const previous = state.momentumBuffer;
      const buf =
        previous instanceof tf.Tensor
          ? tf.add(tf.mul(previous, group.momentum), tf.mul(d, 1 - group.dampening))
          : tf.clone(d);
      this.setState(state, "momentumBuffer", buf);
      d = group.nesterov ? tf.add(d, tf.mul(buf, group.momentum)) : buf;
    }
    param.data.assign(tf.sub(param.data, tf.mul(d, group.lr)));
  }

  /** The same update through the backend's fused kernel (see {@link SGD_UPDATE_KERNEL}). */
  private fusedUpdate(
    param: Parameter,
    grad: tf.Tensor,
    group: ParamGroup<SGDOptions>,
    state: ParamState,
  ): void {
    const previous = state.momentumBuffer;
    const hasBuffer = previous instanceof tf.Tensor;
    const inputs: Record<string, tf.Tensor> = { param: param.data, grad };
    if (group.momentum !== 0) inputs.momentumBuffer = hasBuffer ? previous : tf.zerosLike(param.data);
    const attrs = {
      lr: group.lr,
      momentum: group.momentum,
      dampening: group.dampening,
      weightDecay: group.weightDecay,
      nesterov: group.nesterov,
      maximize: group.maximize,
      hasBuffer,
    };
    const outputs = this.runFusedKernel(SGD_UPDATE_KERNEL, inputs, attrs);
    if (group.momentum !== 0) this.setState(state, "momentumBuffer", outputs[1]!);
    param.data.assign(outputs[0]!);
  }
}
