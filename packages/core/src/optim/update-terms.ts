import { tf } from "../runtime/tfjs";
import type { ParamState } from "./optimizer";

/**
 * The terms `torch.optim`'s update formulas share, written once so that every optimizer evaluates them with the
 * same ops in the same order (float32 results then agree with PyTorch's to the bit, optimizer by optimizer).
 */

/**
 * The gradient an update descends: negated when maximising, plus the L2 penalty `weightDecay · param` (PyTorch's
 * `grad.add(param, alpha=weight_decay)`, skipped when the decay is 0 so that no op rounds the gradient).
 */
export function penalizedGradient(
  grad: tf.Tensor,
  param: tf.Tensor,
  options: {
    /** The L2 penalty's factor; 0 adds nothing. */
    weightDecay: number;
    /** Negate the gradient, to maximise the objective (absent: false). */
    maximize?: boolean;
  },
): tf.Tensor {
  const g = options.maximize ? tf.neg(grad) : grad;
  return options.weightDecay !== 0 ? tf.add(g, tf.mul(param, options.weightDecay)) : g;
}

/**
 * The state tensor `key` as the previous step left it, or zeros shaped like `param` before the first step
 * (PyTorch creates `exp_avg`, `square_avg`, … as `zeros_like(p)`).
 */
export function previousOrZeros(state: ParamState, key: string, param: tf.Tensor): tf.Tensor {
  const previous = state[key];
  return previous instanceof tf.Tensor ? previous : tf.zerosLike(param);
}

/**
 * The exponential moving average `previous · decay + value · (1 - decay)` that adaptive optimizers keep of the
 * gradient and its square (PyTorch's `avg.mul_(decay).add_(value, alpha=1 - decay)`, in that op order).
 */
export function movingAverage(previous: tf.Tensor, value: tf.Tensor, decay: number): tf.Tensor {
  return tf.add(tf.mul(previous, decay), tf.mul(value, 1 - decay));
}
