import { toFloat32 } from "../../../amp/autocast";
import { tf } from "../../../runtime/tfjs";
import { FulmenError } from "../../../utils/errors";
import { checkLossOptions, classMask, type Reduction, range, weightedMean } from "./common";

/** Options of {@link nllLoss}, as in `torch.nn.functional.nll_loss`. */
export interface NLLLossOptions {
  /**
   * `"mean"` (default) divides the summed loss by the summed weights of the targets not ignored; `"sum"` sums
   * it; `"none"` gives the loss of every target, of the target's shape.
   */
  reduction?: Reduction;
  /** A weight per class, `[C]`. */
  weight?: tf.Tensor;
  /** Targets equal to this index contribute nothing, to the sum nor to the mean's divisor (default -100). */
  ignoreIndex?: number;
}

/**
 * Checks the class-index targets against the number of classes, as PyTorch does ("Target 7 is out of
 * bounds"): an index outside `[0, C)` would otherwise select nothing and silently count as 0.
 */
function checkTargetRange(owner: string, target: tf.Tensor, numClasses: number, ignoreIndex: number): void {
  const values = target.dataSync();
  for (const v of values) {
    if (v !== ignoreIndex && (v < 0 || v >= numClasses)) {
      throw new FulmenError(
        `${owner}: target ${v} is out of bounds for ${numClasses} classes; targets must be in [0, ${numClasses}) or equal ignoreIndex (${ignoreIndex}).`,
      );
    }
  }
}

/**
 * Negative log likelihood of log-probabilities `[N, C]` (`[N, C, d1, …]`, or unbatched `[C]`) for class indices
 * `[N]` (`[N, d1, …]`, or a scalar), like `torch.nn.functional.nll_loss`: `-weight[t]·input[t]` per target,
 * ignored targets contributing 0. The mean divides by the summed weights of the targets not ignored, so a
 * batch where every target is ignored gives NaN (with a gradient of 0), as PyTorch 1.13 does.
 */
export function nllLoss(
  input: tf.Tensor,
  target: tf.Tensor | number[],
  options?: NLLLossOptions & { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every target, of the target's shape. */
export function nllLoss(input: tf.Tensor, target: tf.Tensor | number[], options: NLLLossOptions): tf.Tensor;
export function nllLoss(
  input: tf.Tensor,
  target: tf.Tensor | number[],
  options: NLLLossOptions = {},
): tf.Tensor {
  const owner = "nllLoss";
  const reduction = checkLossOptions(owner, options, ["reduction", "weight", "ignoreIndex"]);
  const ignoreIndex = options.ignoreIndex ?? -100;
  return tf.tidy(() => {
    const t = Array.isArray(target) ? tf.tensor(target, undefined, "int32") : target;
    if (t.dtype !== "int32") {
      throw new FulmenError(
        `${owner}: class-index targets must be int32, got ${t.dtype}. Cast them with tf.cast(t, "int32").`,
      );
    }
    if (input.rank === 0) {
      throw new FulmenError(
        `${owner}: input must have a class dimension ([C], [N, C] or [N, C, d1, …]); got a scalar.`,
      );
    }
    const x = toFloat32(input);
    const unbatched = x.rank === 1;
    const numClasses = unbatched ? x.shape[0]! : x.shape[1]!;
    const expected = unbatched ? [] : [x.shape[0]!, ...x.shape.slice(2)];
    if (!tf.util.arraysEqual(t.shape, expected)) {
      throw new FulmenError(
        `${owner}: target shape [${t.shape}] does not match input shape [${x.shape}]; expected [${expected}].`,
      );
    }
    const weight = options.weight;
    if (weight !== undefined && (weight.rank !== 1 || weight.size !== numClasses)) {
      throw new FulmenError(
        `${owner}: weight has shape [${weight.shape}] but there are ${numClasses} classes; give one weight per class, [${numClasses}].`,
      );
    }
    checkTargetRange(owner, t, numClasses, ignoreIndex);
    // Classes last, flattened: log-probabilities [M, C], targets [M].
    const batched = unbatched ? tf.expandDims(x, 0) : x;
    const classLast = batched.rank > 2 ? tf.transpose(batched, [0, ...range(2, batched.rank), 1]) : batched;
    const flat = tf.reshape(classLast, [-1, numClasses]);
    const flatTarget = tf.reshape(t, [-1]);
    const valid = tf.notEqual(flatTarget, ignoreIndex);
    const safeTarget = tf.where(valid, flatTarget, tf.zerosLike(flatTarget));
    const oneHot = classMask(safeTarget, numClasses);
    const validF = tf.cast(valid, "float32");
    const sampleWeight =
      weight === undefined ? validF : tf.mul(validF, tf.sum(tf.mul(oneHot, asRow(weight)), 1));
    const perTarget = tf.mul(tf.neg(tf.sum(tf.mul(oneHot, flat), 1)), sampleWeight);
    if (reduction === "none") return tf.reshape(perTarget, t.shape);
    if (reduction === "sum") return tf.sum(perTarget);
    return weightedMean(tf.sum(perTarget), tf.sum(sampleWeight));
  });
}

function asRow(weight: tf.Tensor): tf.Tensor {
  return tf.reshape(tf.cast(weight, "float32"), [1, -1]);
}
