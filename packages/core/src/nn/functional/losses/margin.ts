import { toFloat32 } from "../../../amp/autocast";
import { tf } from "../../../runtime/tfjs";
import { FulmenError } from "../../../utils/errors";
import { checkNumber } from "../../../utils/options";
import {
  asFloat,
  broadcastPair,
  checkLossOptions,
  classMask,
  labelMask,
  type Reduction,
  reduce,
} from "./common";

/** Options of {@link softMarginLoss}, as in `torch.nn.functional.soft_margin_loss`. */
export interface SoftMarginLossOptions {
  /** `"mean"` (default) or `"sum"` of the element-wise losses, or `"none"` for the loss of every element. */
  reduction?: Reduction;
}

/**
 * Soft margin loss, like `torch.nn.functional.soft_margin_loss`: `log(1 + exp(-y·x))` per element for labels
 * `y` of 1 or -1, computed as PyTorch 1.13 computes it (`log1p(exp(-y·x))`, so `-y·x` above about 88 overflows
 * to infinity there as here). Input and target broadcast, as in PyTorch.
 */
export function softMarginLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options?: SoftMarginLossOptions & { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every element. */
export function softMarginLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: SoftMarginLossOptions,
): tf.Tensor;
export function softMarginLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: SoftMarginLossOptions = {},
): tf.Tensor {
  const owner = "softMarginLoss";
  const reduction = checkLossOptions(owner, options, ["reduction"]);
  return tf.tidy(() => {
    const [x, y] = broadcastPair(owner, toFloat32(input), asFloat(target));
    return reduce(tf.log1p(tf.exp(tf.neg(tf.mul(x, y)))), reduction, owner);
  });
}

/** Options of {@link multilabelSoftMarginLoss}, as in `torch.nn.functional.multilabel_soft_margin_loss`. */
export interface MultiLabelSoftMarginLossOptions {
  /** `"mean"` (default) or `"sum"` of the per-sample losses, or `"none"` for the loss of every sample. */
  reduction?: Reduction;
  /** A weight per class, `[C]` (or any shape that broadcasts to the input's), multiplying each class's term. */
  weight?: tf.Tensor;
}

/**
 * Multi-label soft margin loss of logits `[N, C]` (or `[C]`, or `[N, …, C]`) and 0/1 targets of the same shape,
 * like `torch.nn.functional.multilabel_soft_margin_loss`: per sample
 * `-(1/C)·Σ_c w_c·(y_c·log σ(x_c) + (1 - y_c)·log σ(-x_c))`, the sum over the last dimension. Input and target
 * broadcast, as in PyTorch; the reduction then applies to the per-sample losses (the input's shape without its
 * last dimension).
 */
export function multilabelSoftMarginLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options?: MultiLabelSoftMarginLossOptions & { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every sample. */
export function multilabelSoftMarginLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: MultiLabelSoftMarginLossOptions,
): tf.Tensor;
export function multilabelSoftMarginLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: MultiLabelSoftMarginLossOptions = {},
): tf.Tensor {
  const owner = "multilabelSoftMarginLoss";
  const reduction = checkLossOptions(owner, options, ["reduction", "weight"]);
  if (input.rank === 0) {
    throw new FulmenError(
      `${owner}: the input must have a class dimension ([C], [N, C] or [N, …, C]); got a scalar. Reshape it to [1].`,
    );
  }
  return tf.tidy(() => {
    const [x, y] = broadcastPair(owner, toFloat32(input), asFloat(target));
    let loss = tf.neg(tf.add(tf.mul(y, logSigmoid(x)), tf.mul(tf.sub(1, y), logSigmoid(tf.neg(x)))));
    if (options.weight !== undefined) {
      const w = options.weight;
      if (!broadcastsTo(w.shape, loss.shape)) {
        throw new FulmenError(
          `${owner}: weight of shape [${w.shape}] does not broadcast to the input's shape [${loss.shape}]; give one weight per class ([${loss.shape.at(-1)}]).`,
        );
      }
      loss = tf.mul(loss, asFloat(w));
    }
    const numClasses = input.shape[input.rank - 1]!;
    const perSample = tf.div(tf.sum(loss, input.rank - 1), numClasses);
    return reduce(perSample, reduction, owner);
  });
}

/**
 * `log σ(x)` as PyTorch's `log_sigmoid` computes it, `min(x, 0) - log1p(exp(-|x|))`, with its backward kernel:
 * `1 - z/(1 + z)` for x < 0 and `z/(1 + z)` otherwise, z = exp(-|x|) (tfjs's own logSigmoid fails to
 * differentiate on some backends).
 */
const logSigmoid = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const save = args.pop() as tf.GradSaveFunc;
  const x = args[0] as tf.Tensor;
  save([x]);
  return {
    value: tf.sub(tf.minimum(x, 0), tf.log1p(tf.exp(tf.neg(tf.abs(x))))),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const sx = saved[0]!;
      const z = tf.exp(tf.neg(tf.abs(sx)));
      const ratio = tf.div(z, tf.add(z, 1));
      return tf.mul(dy, tf.where(tf.less(sx, 0), tf.sub(1, ratio), ratio));
    },
  };
}) as (x: tf.Tensor) => tf.Tensor;

/** Whether `shape` broadcasts to `target` without growing it (PyTorch's in-place multiply). */
function broadcastsTo(shape: number[], target: number[]): boolean {
  const offset = target.length - shape.length;
  return offset >= 0 && shape.every((d, i) => d === 1 || d === target[offset + i]);
}

/** Options of {@link multiMarginLoss}, as in `torch.nn.functional.multi_margin_loss`. */
export interface MultiMarginLossOptions {
  /**
   * `"mean"` (default) divides the summed per-sample losses by the number of samples (not by the weights);
   * `"sum"` sums them; `"none"` gives the loss of every sample.
   */
  reduction?: Reduction;
  /** The exponent of each hinge term: 1 (default) or 2, the only ones PyTorch takes. */
  p?: 1 | 2;
  /** Default 1. */
  margin?: number;
  /** A weight per class, `[C]`: each sample's terms are multiplied by the weight of its target class. */
  weight?: tf.Tensor;
}

/** Class indices as an int32 tensor (from an array, or refused when they are float), checked against `C`. */
function classTargets(owner: string, target: tf.Tensor | number[] | number[][]): tf.Tensor {
  const t = Array.isArray(target) ? tf.tensor(target, undefined, "int32") : target;
  if (t.dtype !== "int32") {
    throw new FulmenError(
      `${owner}: class-index targets must be int32, got ${t.dtype}. Cast them with tf.cast(t, "int32").`,
    );
  }
  return t;
}

/** The matrix form `[N, C]` of an input that is `[N, C]` or unbatched `[C]`, refusing any other rank. */
function checkMatrixInput(owner: string, input: tf.Tensor): void {
  if ((input.rank !== 1 && input.rank !== 2) || input.size === 0) {
    throw new FulmenError(
      `${owner}: expected a non-empty input of [N, C] (or unbatched [C]), got [${input.shape}]; PyTorch takes no other shape (flatten the extra dimensions into N).`,
    );
  }
}

/**
 * Multi-class margin loss of scores `[N, C]` (or unbatched `[C]`) and class indices `[N]` (a scalar or `[1]`
 * for `[C]`), like `torch.nn.functional.multi_margin_loss`: per sample
 * `(1/C)·Σ_{i≠y} w_y·max(0, margin - x_y + x_i)^p`, p being 1 or 2. The gradient is PyTorch's: a term counts
 * only where `margin - x_y + x_i > 0` (0 at exactly 0). A target outside `[0, C)` is an error, as in PyTorch.
 */
export function multiMarginLoss(
  input: tf.Tensor,
  target: tf.Tensor | number[],
  options?: MultiMarginLossOptions & { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every sample, of the target's shape. */
export function multiMarginLoss(
  input: tf.Tensor,
  target: tf.Tensor | number[],
  options: MultiMarginLossOptions,
): tf.Tensor;
export function multiMarginLoss(
  input: tf.Tensor,
  target: tf.Tensor | number[],
  options: MultiMarginLossOptions = {},
): tf.Tensor {
  const owner = "multiMarginLoss";
  const reduction = checkLossOptions(owner, options, ["reduction", "p", "margin", "weight"]);
  const p = options.p ?? 1;
  const margin = options.margin ?? 1;
  checkMultiMarginOptions(owner, p, margin, options.weight);
  checkMatrixInput(owner, input);
  return tf.tidy(() => {
    const t = classTargets(owner, target);
    const numClasses = input.shape[input.rank - 1]!;
    const numSamples = input.rank === 2 ? input.shape[0]! : 1;
    if (t.rank > 1 || t.size !== numSamples) {
      throw new FulmenError(
        `${owner}: target of shape [${t.shape}] does not fit input [${input.shape}]; give one class index per sample (${input.rank === 2 ? `[${numSamples}]` : "a scalar or [1]"}).`,
      );
    }
    for (const v of t.dataSync()) {
      if (v < 0 || v >= numClasses) {
        throw new FulmenError(
          `${owner}: target ${v} is out of range for ${numClasses} classes; class indices must be in [0, ${numClasses}).`,
        );
      }
    }
    const weight = options.weight;
    if (weight !== undefined && weight.size !== numClasses) {
      throw new FulmenError(
        `${owner}: weight has ${weight.size} entries but there are ${numClasses} classes; give one weight per class.`,
      );
    }
    const x = tf.reshape(toFloat32(input), [numSamples, numClasses]);
    const flatTarget = tf.reshape(t, [numSamples]);
    const oneHot = classMask(flatTarget, numClasses);
    const xTarget = tf.sum(tf.mul(x, oneHot), 1, true);
    // PyTorch's kernel: z = margin - x_y + x_i, counted (and differentiated) only where z > 0 — relu's slope.
    let terms = tf.relu(tf.add(tf.sub(margin, xTarget), x));
    if (p === 2) terms = tf.square(terms);
    if (weight !== undefined) {
      // Every term of a sample is multiplied by the weight of its target class.
      terms = tf.mul(terms, tf.expandDims(tf.gather(asFloat(weight), flatTarget), 1));
    }
    const masked = tf.mul(terms, tf.sub(1, oneHot));
    const perSample = tf.div(tf.sum(masked, 1), numClasses);
    const reduced = reduce(perSample, reduction, owner);
    return reduction === "none" ? tf.reshape(reduced, t.shape) : reduced;
  });
}

/** Checks {@link multiMarginLoss}'s `p`, `margin` and `weight` as PyTorch does. */
function checkMultiMarginOptions(
  owner: string,
  p: number,
  margin: number,
  weight: tf.Tensor | undefined,
): void {
  checkNumber(owner, "p", p, (v) => v === 1 || v === 2, "1 or 2 (PyTorch supports only p == 1 and p == 2)");
  checkNumber(owner, "margin", margin, Number.isFinite, "a finite number");
  if (weight !== undefined && weight.rank !== 1) {
    throw new FulmenError(
      `${owner}: weight must be one-dimensional, one weight per class, got [${weight.shape}]; reshape it to [C].`,
    );
  }
}

/** Options of {@link multilabelMarginLoss}, as in `torch.nn.functional.multilabel_margin_loss`. */
export interface MultiLabelMarginLossOptions {
  /** `"mean"` (default) or `"sum"` of the per-sample losses, or `"none"` for the loss of every sample. */
  reduction?: Reduction;
}

/**
 * The masks of {@link multilabelMarginLoss} from its targets `[N, C]`: each sample's target classes are the
 * indices before its first -1. Returns the target index at every position (0 past the end), whether each
 * position counts, and whether each class is one of the sample's targets. Refuses values outside `[-1, C)`.
 */
function multilabelMasks(
  owner: string,
  target: tf.Tensor,
  numSamples: number,
  numClasses: number,
): { indices: tf.Tensor; positions: tf.Tensor; isTarget: tf.Tensor } {
  const values = target.dataSync();
  const indices = new Int32Array(numSamples * numClasses);
  const positions = new Float32Array(numSamples * numClasses);
  const isTarget = new Float32Array(numSamples * numClasses);
  for (const v of values) {
    if (v < -1 || v >= numClasses) {
      throw new FulmenError(
        `${owner}: target ${v} is out of range for ${numClasses} classes; targets must be class indices in [0, ${numClasses}), ended by -1 where a sample has fewer than ${numClasses}.`,
      );
    }
  }
  for (let n = 0; n < numSamples; n++) {
    for (let j = 0; j < numClasses; j++) {
      const v = values[n * numClasses + j]!;
      if (v < 0) break;
      indices[n * numClasses + j] = v;
      positions[n * numClasses + j] = 1;
      isTarget[n * numClasses + v] = 1;
    }
  }
  const shape = [numSamples, numClasses];
  return {
    indices: tf.tensor2d(indices, shape as [number, number], "int32"),
    positions: tf.tensor2d(positions, shape as [number, number]),
    isTarget: tf.tensor2d(isTarget, shape as [number, number]),
  };
}

/**
 * Multi-label margin loss of scores `[N, C]` (or unbatched `[C]`) and int32 targets of the same shape (or nested
 * arrays), like `torch.nn.functional.multilabel_margin_loss`: each sample's target classes are the indices
 * before its first -1 (the rest is ignored), and its loss is `(1/C)·Σ_j Σ_{i not a target} max(0, 1 - (x_{y_j} - x_i))` over
 * its targets `y_j` (a repeated target counts twice, as in PyTorch). A term counts, and has a gradient, only
 * where it is above 0, as in PyTorch's kernel. Targets outside `[-1, C)` are an error.
 */
export function multilabelMarginLoss(
  input: tf.Tensor,
  target: tf.Tensor | number[] | number[][],
  options?: MultiLabelMarginLossOptions & { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every sample (`[N]`, or a scalar for an unbatched input). */
export function multilabelMarginLoss(
  input: tf.Tensor,
  target: tf.Tensor | number[] | number[][],
  options: MultiLabelMarginLossOptions,
): tf.Tensor;
export function multilabelMarginLoss(
  input: tf.Tensor,
  target: tf.Tensor | number[] | number[][],
  options: MultiLabelMarginLossOptions = {},
): tf.Tensor {
  const owner = "multilabelMarginLoss";
  const reduction = checkLossOptions(owner, options, ["reduction"]);
  checkMatrixInput(owner, input);
  return tf.tidy(() => {
    const t = classTargets(owner, target);
    if (!tf.util.arraysEqual(t.shape, input.shape)) {
      throw new FulmenError(
        `${owner}: target shape [${t.shape}] differs from input shape [${input.shape}]; give a row of class indices per sample, padded after a -1 to the input's shape.`,
      );
    }
    const numClasses = input.shape[input.rank - 1]!;
    const numSamples = input.rank === 2 ? input.shape[0]! : 1;
    const { indices, positions, isTarget } = multilabelMasks(owner, t, numSamples, numClasses);
    const x = tf.reshape(toFloat32(input), [numSamples, numClasses]);
    // x at each target position j: [N, C_j], by a one-hot sum over the classes (exact, and differentiable).
    const oneHot = classMask(indices, numClasses);
    const xTarget = tf.sum(tf.mul(oneHot, tf.expandDims(x, 1)), 2);
    // z[n, j, i] = 1 - x_{y_j} + x_i, counted where position j is a target and class i is not one.
    const z = tf.add(tf.sub(1, tf.expandDims(xTarget, 2)), tf.expandDims(x, 1));
    const mask = tf.mul(tf.expandDims(positions, 2), tf.expandDims(tf.sub(1, isTarget), 1));
    const perSample = tf.div(tf.sum(tf.mul(tf.relu(z), mask), [1, 2]), numClasses);
    const reduced = reduce(perSample, reduction, owner);
    return reduction === "none" && input.rank === 1 ? tf.reshape(reduced, []) : reduced;
  });
}

/** Options of {@link hingeEmbeddingLoss}, as in `torch.nn.functional.hinge_embedding_loss`. */
export interface HingeEmbeddingLossOptions {
  /** `"mean"` (default) or `"sum"` of the element-wise losses, or `"none"` for the loss of every element. */
  reduction?: Reduction;
  /** Elements labelled -1 cost `max(0, margin - x)` (default 1). */
  margin?: number;
}

/**
 * Hinge embedding loss, like `torch.nn.functional.hinge_embedding_loss`: `x` where the label is 1,
 * `max(0, margin - x)` where it is -1. As in PyTorch, a label that is neither gets both terms, and the gradient
 * at `x = margin` is that of PyTorch's `clamp_min` (-1 for a -1 label). Input and target broadcast.
 */
export function hingeEmbeddingLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options?: HingeEmbeddingLossOptions & { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every element. */
export function hingeEmbeddingLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: HingeEmbeddingLossOptions,
): tf.Tensor;
export function hingeEmbeddingLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: HingeEmbeddingLossOptions = {},
): tf.Tensor {
  const owner = "hingeEmbeddingLoss";
  const reduction = checkLossOptions(owner, options, ["reduction", "margin"]);
  const margin = options.margin ?? 1;
  checkNumber(owner, "margin", margin, Number.isFinite, "a finite number");
  return tf.tidy(() => {
    const [x, y] = broadcastPair(owner, toFloat32(input), asFloat(target));
    const zeros = tf.zerosLike(x);
    // tf.maximum passes the gradient where margin - x is exactly 0, as PyTorch's clamp_min does.
    const marginTerm = tf.where(
      labelMask(y, (t) => tf.notEqual(t, 1)),
      tf.maximum(tf.sub(margin, x), 0),
      zeros,
    );
    const selfTerm = tf.where(
      labelMask(y, (t) => tf.notEqual(t, -1)),
      x,
      zeros,
    );
    return reduce(tf.add(marginTerm, selfTerm), reduction, owner);
  });
}
