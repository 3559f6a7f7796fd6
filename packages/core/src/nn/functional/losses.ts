import { toFloat32 } from "../../amp/autocast";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { classMask, type Reduction, range, reduce, sumToShape, weightedMean } from "./losses/common";

export * from "./losses/binary";
export type { Reduction } from "./losses/common";
export * from "./losses/ctc";
export * from "./losses/embedding";
export * from "./losses/kl-div";
export * from "./losses/likelihood";
export * from "./losses/margin";
export * from "./losses/nll";
export * from "./losses/regression";

/** Options of {@link crossEntropy}, as in `torch.nn.functional.cross_entropy`. */
export interface CrossEntropyOptions {
  /**
   * `"mean"` (default) divides the summed loss by the summed weights of the targets not ignored (by the number
   * of samples for class-probability targets); `"sum"` sums it; `"none"` gives the loss of every sample.
   */
  reduction?: Reduction;
  /** Targets equal to this index contribute nothing (default -100); class indices only, as in PyTorch. */
  ignoreIndex?: number;
  /** Mixes the target with the uniform distribution by this amount, in [0, 1] (default 0). */
  labelSmoothing?: number;
  /** A weight per class, `[C]`. */
  weight?: tf.Tensor1D;
}

function toTargetTensor(target: tf.Tensor | number[], owner: string): tf.Tensor {
  const t = Array.isArray(target) ? tf.tensor(target, undefined, "int32") : target;
  if (t.dtype !== "int32") {
    throw new FulmenError(
      `${owner}: class-index targets must be int32, got ${t.dtype}. Cast them with tf.cast(t, "int32").`,
    );
  }
  return t;
}

/**
 * Cross entropy between logits `[N, C]` (or `[N, C, d1, …]`, or unbatched `[C]`) and class indices `[N]`
 * (`[N, d1, …]`), like `torch.nn.functional.cross_entropy`: log-softmax over the class dimension, optional
 * class weights, ignored targets, and label smoothing. The mean divides by the summed weights of the
 * targets that are not ignored, as PyTorch does. A float32 target of the input's shape holds class
 * probabilities instead (PyTorch's soft targets): the mean then divides by the number of samples, and
 * `ignoreIndex` does not apply.
 */
export function crossEntropy(
  input: tf.Tensor,
  target: tf.Tensor | number[],
  options?: CrossEntropyOptions & { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every sample. */
export function crossEntropy(
  input: tf.Tensor,
  target: tf.Tensor | number[],
  options: CrossEntropyOptions,
): tf.Tensor;
export function crossEntropy(
  input: tf.Tensor,
  target: tf.Tensor | number[],
  options: CrossEntropyOptions = {},
): tf.Tensor {
  checkOptionNames("crossEntropy", options, ["reduction", "ignoreIndex", "labelSmoothing", "weight"]);
  const reduction = options.reduction ?? "mean";
  const ignoreIndex = options.ignoreIndex ?? -100;
  const smoothing = options.labelSmoothing ?? 0;
  checkNumber("crossEntropy", "labelSmoothing", smoothing, (v) => v >= 0 && v <= 1, "between 0 and 1");
  if (
    target instanceof tf.Tensor &&
    target.dtype === "float32" &&
    tf.util.arraysEqual(target.shape, input.shape)
  ) {
    // PyTorch refuses an ignoreIndex with class probabilities (there is no class index to ignore) rather
    // than ignore it silently.
    if (ignoreIndex >= 0) {
      throw new FulmenError(
        `crossEntropy: ignoreIndex (${ignoreIndex}) does not apply to class-probability targets (a float32 target of the input's shape); leave it out, or give class indices as an int32 target.`,
      );
    }
    return probabilityCrossEntropy(input, target, options.weight, smoothing, reduction);
  }
  return tf.tidy(() => {
    input = toFloat32(input);
    const targetTensor = toTargetTensor(target, "crossEntropy");
    // Move the class dimension last and flatten: logits [M, C], targets [M].
    const logits = input.rank === 1 ? tf.expandDims(input, 0) : input;
    const numClasses = logits.shape[1]!;
    const classLast = logits.rank > 2 ? tf.transpose(logits, [0, ...range(2, logits.rank), 1]) : logits;
    const expectedTarget = [logits.shape[0]!, ...logits.shape.slice(2)];
    const targetShape = input.rank === 1 ? [1] : targetTensor.shape;
    if (!tf.util.arraysEqual(targetShape, expectedTarget)) {
      throw new FulmenError(
        `crossEntropy: target shape [${targetTensor.shape}] does not match input shape [${input.shape}]; expected [${input.rank === 1 ? "" : expectedTarget}].`,
      );
    }
    const flatLogits = classLast.rank === 2 ? classLast : tf.reshape(classLast, [-1, numClasses]);
    const flatTarget = targetTensor.rank === 1 ? targetTensor : tf.reshape(targetTensor, [-1]);
    if (options.weight !== undefined && options.weight.size !== numClasses) {
      throw new FulmenError(
        `crossEntropy: weight has ${options.weight.size} entries but there are ${numClasses} classes.`,
      );
    }
    const logp = tf.logSoftmax(flatLogits);
    const plain = options.weight === undefined && smoothing === 0 && reduction !== "none";
    if (plain && (ignoreIndex < 0 || ignoreIndex >= numClasses)) {
      // oneHot gives all-zero rows for indices outside [0, C), so ignored targets drop out of the sum and of
      // the count without a mask: fewer ops on the hot path, same result.
      // One explicit cast: the wasm backend's OneHot ignores a float32 dtype (it writes int32 bits).
      const oneHot = classMask(flatTarget, numClasses);
      const total = tf.neg(tf.sum(tf.mul(oneHot, logp)));
      return reduction === "sum" ? total : weightedMean(total, tf.sum(oneHot));
    }
    const valid = tf.cast(tf.notEqual(flatTarget, ignoreIndex), "float32");
    const safeTarget = tf.mul(flatTarget, tf.cast(valid, "int32"));
    const oneHot = tf.cast(tf.oneHot(safeTarget, numClasses), "float32");
    const classWeight = options.weight ?? null;
    const sampleWeight = tf.mul(valid, classWeight === null ? 1 : tf.sum(tf.mul(oneHot, classWeight), 1));
    const nll = tf.mul(tf.neg(tf.sum(tf.mul(oneHot, logp), 1)), sampleWeight);
    let perSample = nll;
    if (smoothing > 0) {
      const weightedLogp = classWeight === null ? logp : tf.mul(logp, classWeight);
      const smooth = tf.mul(tf.neg(tf.sum(weightedLogp, 1)), valid);
      perSample = tf.add(tf.mul(nll, 1 - smoothing), tf.mul(smooth, smoothing / numClasses));
    }
    if (reduction === "mean") return weightedMean(tf.sum(perSample), tf.sum(sampleWeight));
    const reduced = reduce(perSample, reduction, "crossEntropy");
    return reduction === "none" ? tf.reshape(reduced, input.rank === 1 ? [] : targetTensor.shape) : reduced;
  });
}

/** Moves dimension 1 (the classes) last: `[N, C, d1, …]` → `[N, d1, …, C]`. */
function classesLast(x: tf.Tensor): tf.Tensor {
  return x.rank > 2 ? tf.transpose(x, [0, ...range(2, x.rank), 1]) : x;
}

/**
 * Cross entropy with class-probability targets of the input's shape, as PyTorch computes it:
 * `-Σ_c w_c·t'_c·log softmax(x)_c` per sample with `t' = (1 - ε)·t + ε/C`; the mean divides by the number
 * of samples (not by the weights).
 */
function probabilityCrossEntropy(
  input: tf.Tensor,
  target: tf.Tensor,
  weight: tf.Tensor | undefined,
  smoothing: number,
  reduction: Reduction,
): tf.Tensor {
  return tf.tidy(() => {
    const x = toFloat32(input);
    const unbatched = x.rank === 1;
    const logits = classesLast(unbatched ? tf.expandDims(x, 0) : x);
    const probs = classesLast(unbatched ? tf.expandDims(target, 0) : target);
    const numClasses = logits.shape[logits.rank - 1]!;
    if (weight !== undefined && weight.size !== numClasses) {
      throw new FulmenError(
        `crossEntropy: weight has ${weight.size} entries but there are ${numClasses} classes.`,
      );
    }
    const smoothed = smoothing > 0 ? tf.add(tf.mul(probs, 1 - smoothing), smoothing / numClasses) : probs;
    const logp = tf.logSoftmax(logits);
    const weighted = weight === undefined ? tf.mul(smoothed, logp) : tf.mul(tf.mul(smoothed, logp), weight);
    const perSample = tf.neg(tf.sum(weighted, -1));
    if (reduction === "mean") return tf.div(tf.sum(perSample), perSample.size);
    const reduced = reduce(perSample, reduction, "crossEntropy");
    return reduction === "none" && unbatched ? tf.reshape(reduced, []) : reduced;
  });
}

function checkSameShape(owner: string, input: tf.Tensor, target: tf.Tensor): void {
  if (!tf.util.arraysEqual(input.shape, target.shape)) {
    throw new FulmenError(
      `${owner}: input shape [${input.shape}] and target shape [${target.shape}] must match.`,
    );
  }
}

/** Mean squared error, like `torch.nn.functional.mse_loss`. */
export function mseLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options?: { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every element. */
export function mseLoss(input: tf.Tensor, target: tf.Tensor, options: { reduction?: Reduction }): tf.Tensor;
export function mseLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: { reduction?: Reduction } = {},
): tf.Tensor {
  checkOptionNames("mseLoss", options, ["reduction"]);
  checkSameShape("mseLoss", input, target);
  return tf.tidy(() =>
    reduce(tf.squaredDifference(toFloat32(input), target), options.reduction ?? "mean", "mseLoss"),
  );
}

/** Options of {@link binaryCrossEntropyWithLogits}. */
export interface BCEWithLogitsOptions {
  /** `"mean"` (default) or `"sum"` of the element-wise losses, or `"none"` for the loss of every element. */
  reduction?: Reduction;
  /** A weight per element, broadcast against the input. */
  weight?: tf.Tensor;
  /** A weight for positive examples, broadcast along the last dimension. */
  posWeight?: tf.Tensor;
}

/**
 * The element-wise loss `(1 - y)·x + lw·softplus(-x)` with `lw = 1 + (pw - 1)·y`, computed stably as
 * `softplus(-x) = log(1 + e^-|x|) + max(-x, 0)`, with PyTorch's gradients written out: for the logits
 * `lw·σ(x) - pw·y` (σ(x) - y without pw) at every x. Differentiating the stable form op by op instead takes
 * tfjs's slopes of abs and relu at 0 (+1 and 0), which gives +0.5 instead of −0.5 at x = 0, y = 1.
 */
const bceWithLogitsElementwise = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const save = args.pop() as tf.GradSaveFunc;
  const [x, y, pw] = args as [tf.Tensor, tf.Tensor, tf.Tensor | undefined];
  const softplusNeg = tf.add(tf.log1p(tf.exp(tf.neg(tf.abs(x)))), tf.relu(tf.neg(x)));
  const logWeight = pw === undefined ? null : tf.add(1, tf.mul(tf.sub(pw, 1), y));
  const value = tf.add(
    tf.mul(tf.sub(1, y), x),
    logWeight === null ? softplusNeg : tf.mul(logWeight, softplusNeg),
  );
  save(pw === undefined ? [x, y] : [x, y, pw]);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sy, spw] = saved as [tf.Tensor, tf.Tensor, tf.Tensor | undefined];
      const sig = tf.sigmoid(sx);
      const spNeg = tf.add(tf.log1p(tf.exp(tf.neg(tf.abs(sx)))), tf.relu(tf.neg(sx)));
      if (spw === undefined) {
        // d/dx = σ(x) − y; d/dy = −x.
        return [tf.mul(dy, tf.sub(sig, sy)), tf.mul(dy, tf.neg(sx))];
      }
      const pwy = tf.mul(spw, sy);
      const lw = tf.add(tf.sub(pwy, sy), 1);
      const dx = tf.mul(dy, tf.sub(tf.mul(lw, sig), pwy));
      // d/dy = −x + (pw − 1)·softplus(−x); d/dpw = y·softplus(−x), summed over the broadcast dimensions.
      const dTarget = tf.mul(dy, tf.add(tf.neg(sx), tf.mul(tf.sub(spw, 1), spNeg)));
      const dPosWeight = sumToShape(tf.mul(dy, tf.mul(sy, spNeg)), spw.shape);
      return [dx, dTarget, dPosWeight];
    },
  };
});

/**
 * Binary cross entropy on logits, like `torch.nn.functional.binary_cross_entropy_with_logits`: the stable form
 * `(1 - y)·x + (1 + (pw - 1)·y)·(log(1 + e^-|x|) + max(-x, 0))`, times `weight`, with PyTorch's gradient
 * `σ(x) - y` (with posWeight: `(1 + (pw - 1)·y)·σ(x) - pw·y`) at every logit, 0 included.
 */
export function binaryCrossEntropyWithLogits(
  input: tf.Tensor,
  target: tf.Tensor,
  options?: BCEWithLogitsOptions & { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every element. */
export function binaryCrossEntropyWithLogits(
  input: tf.Tensor,
  target: tf.Tensor,
  options: BCEWithLogitsOptions,
): tf.Tensor;
export function binaryCrossEntropyWithLogits(
  input: tf.Tensor,
  target: tf.Tensor,
  options: BCEWithLogitsOptions = {},
): tf.Tensor {
  checkOptionNames("binaryCrossEntropyWithLogits", options, ["reduction", "weight", "posWeight"]);
  checkSameShape("binaryCrossEntropyWithLogits", input, target);
  return tf.tidy(() => {
    const x = toFloat32(input);
    const y = tf.cast(target, "float32");
    const pw = options.posWeight;
    if (pw !== undefined) {
      const offset = x.rank - pw.rank;
      const fits = offset >= 0 && pw.shape.every((d, i) => d === 1 || d === x.shape[offset + i]);
      if (!fits) {
        throw new FulmenError(
          `binaryCrossEntropyWithLogits: posWeight of shape [${pw.shape}] does not broadcast to the input's shape [${x.shape}]; give one weight per class (the last dimension).`,
        );
      }
    }
    let loss = pw === undefined ? bceWithLogitsElementwise(x, y) : bceWithLogitsElementwise(x, y, pw);
    if (options.weight !== undefined) loss = tf.mul(loss, options.weight);
    return reduce(loss, options.reduction ?? "mean", "binaryCrossEntropyWithLogits");
  });
}
