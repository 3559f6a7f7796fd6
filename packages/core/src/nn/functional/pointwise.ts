import { currentAutocast, followInputOp, toFloat32 } from "../../amp/autocast";
import { tf } from "../../runtime/tfjs";

/**
 * Building blocks of the element-wise activations: PyTorch's backward formulas differ from what tfjs's autodiff
 * gives at kinks and comparisons, so most activations state their derivative.
 */

/**
 * Runs `fn` as PyTorch's autocast runs softmax, log_softmax and softplus: in float32 inside a mixed autocast
 * region (a half input is upcast), else in the input's precision.
 */
export function float32UnderAutocast(fn: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (currentAutocast()?.mode === "mixed") return fn(toFloat32(x));
  return followInputOp(fn, x);
}

/**
 * An element-wise op with its derivative written out, as PyTorch's backward formula: `value(x)` and
 * `slope(x)` (dy/dx), both of the saved input. tfjs cannot differentiate through the comparisons these use.
 */
export function pointwise(
  value: (x: tf.Tensor) => tf.Tensor,
  slope: (x: tf.Tensor) => tf.Tensor,
  precision: (fn: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor) => tf.Tensor = followInputOp,
): (x: tf.Tensor) => tf.Tensor {
  const op = tf.customGrad((v: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const input = v as tf.Tensor;
    (save as tf.GradSaveFunc)([input]);
    return {
      value: tf.tidy(() => value(input)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => tf.mul(dy, slope(saved[0]!))),
    };
  });
  return (x) => precision((v) => op(v), x);
}

/**
 * An element-wise op that passes the gradient through where `keep(x)` holds and stops it elsewhere (PyTorch's
 * `threshold_backward`, `hardshrink_backward`, …): `value(x)` forward, `dy · keep(x)` backward.
 */
export function masked(
  value: (x: tf.Tensor) => tf.Tensor,
  keep: (x: tf.Tensor) => tf.Tensor,
): (x: tf.Tensor) => tf.Tensor {
  return pointwise(value, (v) => tf.cast(keep(v), v.dtype));
}
