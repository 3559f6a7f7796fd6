import { toFloat32 } from "../../../amp/autocast";
import { tf } from "../../../runtime/tfjs";
import { FulmenError } from "../../../utils/errors";
import { asFloat, checkLossOptions, type Reduction, reduce } from "./common";

/** Options of {@link binaryCrossEntropy}, as in `torch.nn.functional.binary_cross_entropy`. */
export interface BCELossOptions {
  /** `"mean"` (default) or `"sum"` of the element-wise losses, or `"none"` for the loss of every element. */
  reduction?: Reduction;
  /** A weight per element, broadcast against the input. */
  weight?: tf.Tensor;
}

/** PyTorch clamps each log at -100 so that a probability of exactly 0 or 1 gives a finite loss. */
const LOG_FLOOR = -100;
/** PyTorch's floor of `x·(1 - x)` in the input's gradient (`EPSILON` in its BCE backward kernel). */
const GRAD_EPSILON = 1e-12;

/**
 * `-(y·max(log x, -100) + (1 - y)·max(log(1 - x), -100))` with PyTorch's gradients written out: for the input
 * `(x - y) / max(x·(1 - x), 1e-12)`, for the target `log(1 - x) - log(x)` (unclamped, as PyTorch's).
 */
const bceElementwise = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const save = args.pop() as tf.GradSaveFunc;
  const [x, y] = args as [tf.Tensor, tf.Tensor];
  const logX = tf.maximum(tf.log(x), LOG_FLOOR);
  const log1mX = tf.maximum(tf.log(tf.sub(1, x)), LOG_FLOOR);
  const value = tf.neg(tf.add(tf.mul(y, logX), tf.mul(tf.sub(1, y), log1mX)));
  save([x, y]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sy] = saved as [tf.Tensor, tf.Tensor];
      const denom = tf.maximum(tf.mul(tf.sub(1, sx), sx), GRAD_EPSILON);
      const dx = tf.mul(dy, tf.div(tf.sub(sx, sy), denom));
      const dTarget = tf.mul(dy, tf.sub(tf.log(tf.sub(1, sx)), tf.log(sx)));
      return [dx, dTarget];
    },
  };
}) as (x: tf.Tensor, y: tf.Tensor) => tf.Tensor;

/**
 * Binary cross entropy of probabilities, like `torch.nn.functional.binary_cross_entropy`:
 * `-w·(y·log x + (1 - y)·log(1 - x))` with each log clamped at -100 (a probability of 0 or 1 gives 100, not
 * infinity), and PyTorch's gradient `w·(x - y) / max(x·(1 - x), 1e-12)`. Input and target must have the same
 * shape, as PyTorch requires; probabilities outside [0, 1] give NaN. For logits use
 * {@link binaryCrossEntropyWithLogits}, which is stabler.
 */
export function binaryCrossEntropy(
  input: tf.Tensor,
  target: tf.Tensor,
  options?: BCELossOptions & { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every element. */
export function binaryCrossEntropy(input: tf.Tensor, target: tf.Tensor, options: BCELossOptions): tf.Tensor;
export function binaryCrossEntropy(
  input: tf.Tensor,
  target: tf.Tensor,
  options: BCELossOptions = {},
): tf.Tensor {
  const owner = "binaryCrossEntropy";
  const reduction = checkLossOptions(owner, options, ["reduction", "weight"]);
  if (!tf.util.arraysEqual(input.shape, target.shape)) {
    throw new FulmenError(
      `${owner}: target shape [${target.shape}] differs from input shape [${input.shape}]; PyTorch requires the same shape (reshape the target).`,
    );
  }
  return tf.tidy(() => {
    let loss = bceElementwise(toFloat32(input), asFloat(target));
    if (options.weight !== undefined) {
      const w = options.weight;
      // PyTorch multiplies in place: the weight broadcasts to the input's shape, never beyond it.
      let shape: number[] | null = null;
      try {
        shape = tf.broadcast_util.assertAndGetBroadcastShape(w.shape, input.shape);
      } catch {
        shape = null;
      }
      if (shape === null || !tf.util.arraysEqual(shape, input.shape)) {
        throw new FulmenError(
          `${owner}: weight of shape [${w.shape}] does not broadcast to the input's shape [${input.shape}]; give one weight per element or a shape that broadcasts to it.`,
        );
      }
      loss = tf.mul(loss, asFloat(w));
    }
    return reduce(loss, reduction, owner);
  });
}
