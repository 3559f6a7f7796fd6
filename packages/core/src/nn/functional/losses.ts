import { toFloat32 } from "../../amp/autocast";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";

/** How a loss reduces its per-element values, as in PyTorch. */
export type Reduction = "mean" | "sum" | "none";

/** Options of {@link crossEntropy}, as in `torch.nn.functional.cross_entropy`. */
export interface CrossEntropyOptions {
  reduction?: Reduction;
  /** Targets equal to this index contribute nothing (default -100). */
  ignoreIndex?: number;
  /** Mixes the target with the uniform distribution by this amount, in [0, 1] (default 0). */
  labelSmoothing?: number;
  /** A weight per class, `[C]`. */
  weight?: tf.Tensor1D;
}

function reduce(values: tf.Tensor, reduction: Reduction, owner: string): tf.Tensor {
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
 * targets that are not ignored, as PyTorch does.
 */
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
      const oneHot = tf.cast(tf.oneHot(flatTarget, numClasses), "float32");
      const total = tf.neg(tf.sum(tf.mul(oneHot, logp)));
      return reduction === "sum" ? total : tf.div(total, tf.sum(oneHot));
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
    if (reduction === "mean") return tf.div(tf.sum(perSample), tf.sum(sampleWeight));
    const reduced = reduce(perSample, reduction, "crossEntropy");
    return reduction === "none" ? tf.reshape(reduced, input.rank === 1 ? [] : targetTensor.shape) : reduced;
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
  reduction?: Reduction;
  /** A weight per element, broadcast against the input. */
  weight?: tf.Tensor;
  /** A weight for positive examples, broadcast along the last dimension. */
  posWeight?: tf.Tensor;
}

/**
 * Binary cross entropy on logits, like `torch.nn.functional.binary_cross_entropy_with_logits`, computed in the
 * numerically stable form `(1 - y)·x + (1 + (pw - 1)·y)·(log(1 + e^-|x|) + max(-x, 0))`.
 */
export function binaryCrossEntropyWithLogits(
  input: tf.Tensor,
  target: tf.Tensor,
  options: BCEWithLogitsOptions = {},
): tf.Tensor {
  checkOptionNames("binaryCrossEntropyWithLogits", options, ["reduction", "weight", "posWeight"]);
  checkSameShape("binaryCrossEntropyWithLogits", input, target);
  return tf.tidy(() => {
    input = toFloat32(input);
    const softplusNeg = tf.add(tf.log1p(tf.exp(tf.neg(tf.abs(input)))), tf.relu(tf.neg(input)));
    const logWeight =
      options.posWeight === undefined ? 1 : tf.add(1, tf.mul(tf.sub(options.posWeight, 1), target));
    let loss = tf.add(tf.mul(tf.sub(1, target), input), tf.mul(logWeight, softplusNeg));
    if (options.weight !== undefined) loss = tf.mul(loss, options.weight);
    return reduce(loss, options.reduction ?? "mean", "binaryCrossEntropyWithLogits");
  });
}

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}
