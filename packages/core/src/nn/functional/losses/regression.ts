import { toFloat32 } from "../../../amp/autocast";
import { tf } from "../../../runtime/tfjs";
import { checkNumber, checkOptionNames } from "../../../utils/options";
import { asFloat, broadcastPair, checkReduction, type Reduction, reduce } from "./common";

/**
 * An element-wise loss of the difference `d = input - target` with PyTorch's derivative `slope(d)` written out
 * (the input's gradient is `slope(d)`, the target's `slope(-d)`, the same kernel on `target - input`): tfjs's own slopes of `abs` at 0 (-1) and of
 * comparisons differ from PyTorch's backward kernels at the kinks.
 */
function differenceLoss(
  value: (d: tf.Tensor) => tf.Tensor,
  slope: (d: tf.Tensor) => tf.Tensor,
): (x: tf.Tensor, y: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [x, y] = args as [tf.Tensor, tf.Tensor];
    const d = tf.sub(x, y);
    save([d]);
    return {
      value: value(d),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const d = saved[0]!;
        // PyTorch differentiates the target with the same kernel on target - input, slope(-d), which
        // differs from -slope(d) at the kinks (smooth L1 with beta 0 at d = 0: -1 for both operands).
        return [tf.mul(dy, slope(d)), tf.mul(dy, slope(tf.neg(d)))];
      },
    };
  }) as (x: tf.Tensor, y: tf.Tensor) => tf.Tensor;
}

/** Runs an element-wise loss on the broadcast input and target, then reduces. */
function elementwise(
  owner: string,
  input: tf.Tensor,
  target: tf.Tensor,
  reduction: Reduction,
  loss: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor,
): tf.Tensor {
  checkReduction(owner, reduction);
  return tf.tidy(() => {
    const [x, y] = broadcastPair(owner, toFloat32(input), asFloat(target));
    return reduce(loss(x, y), reduction, owner);
  });
}

const l1 = differenceLoss(tf.abs, tf.sign);

/**
 * Mean absolute error, like `torch.nn.functional.l1_loss`: `|input - target|`, with PyTorch's gradient
 * `sign(input - target)` (0 where they are equal). Input and target broadcast, as in PyTorch.
 */
export function l1Loss(
  input: tf.Tensor,
  target: tf.Tensor,
  options?: { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every element. */
export function l1Loss(input: tf.Tensor, target: tf.Tensor, options: { reduction?: Reduction }): tf.Tensor;
export function l1Loss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: { reduction?: Reduction } = {},
): tf.Tensor {
  checkOptionNames("l1Loss", options, ["reduction"]);
  return elementwise("l1Loss", input, target, options.reduction ?? "mean", l1);
}

/** Options of {@link smoothL1Loss}, as in `torch.nn.functional.smooth_l1_loss`. */
export interface SmoothL1LossOptions {
  /** `"mean"` (default) or `"sum"` of the element-wise losses, or `"none"` for the loss of every element. */
  reduction?: Reduction;
  /** Where the quadratic part ends (default 1); 0 gives the L1 loss. */
  beta?: number;
}

/**
 * Smooth L1 loss, like `torch.nn.functional.smooth_l1_loss`: `0.5·d²/β` where `|d| < β`, else `|d| - 0.5·β`,
 * with `d = input - target`. The gradient is PyTorch's kernel's: `-1` where `d <= -β`, `1` where `d >= β`,
 * else `d/β` — so with `β = 0` the slope at `d = 0` is -1, as PyTorch 1.13 gives.
 */
export function smoothL1Loss(
  input: tf.Tensor,
  target: tf.Tensor,
  options?: SmoothL1LossOptions & { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every element. */
export function smoothL1Loss(input: tf.Tensor, target: tf.Tensor, options: SmoothL1LossOptions): tf.Tensor;
export function smoothL1Loss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: SmoothL1LossOptions = {},
): tf.Tensor {
  checkOptionNames("smoothL1Loss", options, ["reduction", "beta"]);
  const beta = options.beta ?? 1;
  checkNumber("smoothL1Loss", "beta", beta, (v) => v >= 0, "non-negative (PyTorch refuses a negative beta)");
  const loss = differenceLoss(
    (d) => {
      const a = tf.abs(d);
      if (beta === 0) return a;
      return tf.where(tf.less(a, beta), tf.div(tf.mul(tf.square(d), 0.5), beta), tf.sub(a, 0.5 * beta));
    },
    (d) => {
      const outer = tf.where(tf.lessEqual(d, -beta), tf.fill(d.shape, -1), tf.onesLike(d));
      if (beta === 0) return outer;
      const inner = tf.logicalAnd(tf.greater(d, -beta), tf.less(d, beta));
      return tf.where(inner, tf.div(d, beta), outer);
    },
  );
  return elementwise("smoothL1Loss", input, target, options.reduction ?? "mean", loss);
}

/** Options of {@link huberLoss}, as in `torch.nn.functional.huber_loss`. */
export interface HuberLossOptions {
  /** `"mean"` (default) or `"sum"` of the element-wise losses, or `"none"` for the loss of every element. */
  reduction?: Reduction;
  /** Where the quadratic part ends (default 1); must be positive. */
  delta?: number;
}

/**
 * Huber loss, like `torch.nn.functional.huber_loss`: `0.5·d²` where `|d| < δ`, else `δ·(|d| - 0.5·δ)`, with
 * PyTorch's gradient `clamp(d, -δ, δ)`.
 */
export function huberLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options?: HuberLossOptions & { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every element. */
export function huberLoss(input: tf.Tensor, target: tf.Tensor, options: HuberLossOptions): tf.Tensor;
export function huberLoss(input: tf.Tensor, target: tf.Tensor, options: HuberLossOptions = {}): tf.Tensor {
  checkOptionNames("huberLoss", options, ["reduction", "delta"]);
  const delta = options.delta ?? 1;
  checkNumber("huberLoss", "delta", delta, (v) => v > 0, "positive (PyTorch refuses delta <= 0)");
  const loss = differenceLoss(
    (d) => {
      const a = tf.abs(d);
      return tf.where(tf.less(a, delta), tf.mul(tf.square(d), 0.5), tf.mul(tf.sub(a, 0.5 * delta), delta));
    },
    (d) => tf.clipByValue(d, -delta, delta),
  );
  return elementwise("huberLoss", input, target, options.reduction ?? "mean", loss);
}
