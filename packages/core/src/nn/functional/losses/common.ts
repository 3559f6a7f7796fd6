import { tf } from "../../../runtime/tfjs";
import { FulmenError } from "../../../utils/errors";
import { checkOptionNames } from "../../../utils/options";

/** How a loss reduces its per-element values, as in PyTorch. */
export type Reduction = "mean" | "sum" | "none";

/** Applies `reduction` to per-element losses, refusing an unknown reduction by name. */
export function reduce(values: tf.Tensor, reduction: Reduction, owner: string): tf.Tensor {
  switch (reduction) {
    case "mean":
      return tf.mean(values);
    case "sum":
      return tf.sum(values);
    case "none":
      return values;
    default:
      throw new FulmenError(
        `${owner}: unknown reduction '${String(reduction)}'; use "mean", "sum" or "none".`,
      );
  }
}

/** Throws unless `reduction` is one PyTorch's losses take (checked before any work, so no tensor leaks). */
export function checkReduction(owner: string, reduction: string, extra: readonly string[] = []): void {
  const valid = ["mean", "sum", "none", ...extra];
  if (!valid.includes(reduction)) {
    throw new FulmenError(
      `${owner}: unknown reduction '${String(reduction)}'; use ${valid.map((r) => `"${r}"`).join(", ")}.`,
    );
  }
}

/**
 * The opening every functional loss shares: checks the option names (`names`, "reduction" among them) and the
 * reduction before any work, and returns the reduction ("mean" when unset, as in PyTorch). `extra` lists the
 * reductions the loss takes beyond PyTorch's three (kl_div's "batchmean").
 */
export function checkLossOptions<R extends string>(
  owner: string,
  options: {
    /** The loss's reduction, if given. */
    reduction?: R;
  },
  names: readonly string[],
  extra: readonly string[] = [],
): R | "mean" {
  checkOptionNames(owner, options, names);
  const reduction = options.reduction ?? "mean";
  checkReduction(owner, reduction, extra);
  return reduction;
}

/** Sums `grad` (of the broadcast shape) down to `shape`, the gradient of a broadcast operand. */
export function sumToShape(grad: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.broadcast_util.getReductionAxes(shape, grad.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(grad, axes) : grad, shape);
}

/**
 * Broadcasts two operands to their common shape (as PyTorch's element-wise losses do), with a clear error when
 * they do not broadcast. `tf.broadcastTo`'s gradient sums back to each operand's shape.
 */
export function broadcastPair(owner: string, a: tf.Tensor, b: tf.Tensor): [tf.Tensor, tf.Tensor] {
  if (tf.util.arraysEqual(a.shape, b.shape)) return [a, b];
  let shape: number[];
  try {
    shape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
  } catch {
    throw new FulmenError(
      `${owner}: input shape [${a.shape}] and target shape [${b.shape}] do not broadcast; give tensors of the same shape.`,
    );
  }
  return [tf.broadcastTo(a, shape), tf.broadcastTo(b, shape)];
}

/** `[start, end)` as an array. */
export function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}

/** A float32 copy of a target given as float (PyTorch's float targets), or the tensor itself. */
export function asFloat(t: tf.Tensor): tf.Tensor {
  return t.dtype === "float32" ? t : tf.cast(t, "float32");
}

/**
 * `sum / total` for a mean over weighted targets, as PyTorch's `nll_loss` computes it: NaN when every target is
 * ignored (total 0) but a gradient of 0 there, not the NaN of differentiating `x / 0`.
 */
export function weightedMean(sum: tf.Tensor, total: tf.Tensor): tf.Tensor {
  const empty = tf.equal(total, 0);
  const safeTotal = tf.where(empty, tf.onesLike(total), total);
  // The total depends on the weights and targets only, never on the input: the NaN added when nothing counted
  // carries no gradient to the input, and dividing by the safe total keeps the input's gradient finite (0).
  const nanIfEmpty = tf.where(empty, tf.fill(total.shape, Number.NaN), tf.zerosLike(total));
  return tf.add(tf.div(sum, safeTotal), nanIfEmpty);
}

/**
 * `test(x)`, a comparison of labels, as one op whose gradient to `x` is 0: tfjs has no gradient for comparisons
 * and refuses to differentiate a target that reaches one (PyTorch's masks carry none).
 */
export function labelMask(x: tf.Tensor, test: (labels: tf.Tensor) => tf.Tensor): tf.Tensor {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const labels = args[0] as tf.Tensor;
    save([labels]);
    return { value: test(labels), gradFunc: (_dy: tf.Tensor, saved: tf.Tensor[]) => tf.zerosLike(saved[0]!) };
  }) as (labels: tf.Tensor) => tf.Tensor;
  return f(x);
}

/**
 * `[..., depth]` rows of 1.0 at each index (all 0 for an index outside `[0, depth)`): `tf.oneHot` in float32 (a
 * kernel the engines implement), and for a depth of 1, which tfjs's oneHot refuses and a loss over one class has,
 * a comparison with the one class.
 */
export function classMask(indices: tf.Tensor, depth: number): tf.Tensor {
  const ids = indices.dtype === "int32" ? indices : tf.cast(indices, "int32");
  if (depth >= 2) return tf.cast(tf.oneHot(ids, depth), "float32");
  return tf.cast(tf.expandDims(tf.equal(ids, 0), -1), "float32");
}
