import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";

/** Options of {@link embedding}. */
export interface EmbeddingFunctionOptions {
  /** A row that receives no gradient (its stored values are looked up as they are). */
  paddingIdx?: number | null;
  /**
   * Rows looked up whose `normType`-norm exceeds this are rescaled to norm `maxNorm` in the weight itself
   * (PyTorch's in-place `embedding_renorm_`), so the weight must then be a `tf.Variable`.
   */
  maxNorm?: number | null;
  /** The p of the p-norm `maxNorm` limits: a positive number or Infinity (default 2). */
  normType?: number;
  /** Divide each row's gradient by how often its index occurs in the batch (default false). */
  scaleGradByFreq?: boolean;
}

/** Options of {@link oneHot}. */
export interface OneHotOptions {
  /** The number of classes; -1 (default) infers it as the largest index plus one, as PyTorch. */
  numClasses?: number;
}

/** `[rows, 1]`: 1 for every row, 0 for row `idx`. */
function rowMask(rows: number, idx: number): tf.Tensor {
  const mask = new Float32Array(rows).fill(1);
  mask[idx] = 0;
  return tf.tensor2d(mask, [rows, 1]);
}

/** Zeroes row `idx` of `table` (an Embedding's padding row at initialisation). */
export function zeroRow(table: tf.Tensor, idx: number): tf.Tensor {
  return tf.tidy(() => tf.mul(table, rowMask(table.shape[0]!, idx)));
}

/**
 * PyTorch's `embedding_renorm_`: the rows `indices` refers to whose norm exceeds `maxNorm` scaled by
 * `maxNorm / (norm + 1e-7)`, returned as the new table (no gradient flows through the rescaling).
 */
export function renormRows(
  table: tf.Tensor,
  indices: tf.Tensor,
  maxNorm: number,
  normType: number,
): tf.Tensor {
  return tf.tidy(() => {
    const rows = table.shape[0]!;
    const flat = tf.reshape(indices, [-1]) as tf.Tensor1D;
    const used = tf.greater(tf.unsortedSegmentSum(tf.onesLike(flat), flat, rows), 0);
    const magnitude = tf.abs(table);
    const norm =
      normType === Number.POSITIVE_INFINITY
        ? tf.max(magnitude, 1)
        : tf.pow(tf.sum(tf.pow(magnitude, normType), 1), 1 / normType);
    const scale = tf.where(
      tf.logicalAnd(used, tf.greater(norm, maxNorm)),
      tf.div(maxNorm, tf.add(norm, 1e-7)),
      tf.onesLike(norm),
    );
    return tf.mul(table, tf.expandDims(scale, 1));
  });
}

/**
 * `gather(table, indices)` with PyTorch's embedding gradient: dy's rows summed by index, the padding row's
 * left at zero (`paddingIdx`), each row divided by how often its index occurs (`scaleGradByFreq`). The forward
 * pass returns the stored rows, the padding row included, unchanged.
 */
function lookup(
  table: tf.Tensor,
  indices: tf.Tensor,
  paddingIdx: number | null,
  scaleGradByFreq: boolean,
): tf.Tensor {
  const op = tf.customGrad((t: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const weight = t as tf.Tensor;
    const [rows, dim] = weight.shape as [number, number];
    (save as tf.GradSaveFunc)([indices]);
    return {
      value: tf.gather(weight, indices),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const idx = tf.reshape(saved[0]!, [-1]) as tf.Tensor1D;
        let grad = tf.unsortedSegmentSum(tf.reshape(dy, [idx.size, dim]), idx, rows);
        if (scaleGradByFreq) {
          // Counts of every index, the padding one included (its row is zeroed anyway); unused rows stay 0/1.
          const counts = tf.unsortedSegmentSum(tf.ones([idx.size]), idx, rows);
          grad = tf.div(grad, tf.expandDims(tf.maximum(counts, 1), 1));
        }
        return paddingIdx === null ? grad : tf.mul(grad, rowMask(rows, paddingIdx));
      },
    };
  });
  return op(table);
}

/** A `paddingIdx` checked against a table of `rows` rows and made non-negative; null when none is given. */
export function resolvePaddingIdx(
  owner: string,
  paddingIdx: number | null | undefined,
  rows: number,
): number | null {
  if (paddingIdx == null) return null;
  if (!Number.isInteger(paddingIdx) || paddingIdx >= rows || paddingIdx < -rows) {
    throw new FulmenError(`${owner}: paddingIdx must be within [-${rows}, ${rows}), got ${paddingIdx}.`);
  }
  return paddingIdx < 0 ? paddingIdx + rows : paddingIdx;
}

/**
 * Looks `indices` (int32) up in `weight` `[numEmbeddings, dim]`, like `F.embedding`, with PyTorch's
 * `padding_idx`, `max_norm` (in place: `weight` must be a `tf.Variable`), `norm_type` and
 * `scale_grad_by_freq`.
 */
export function embedding(
  indices: tf.Tensor,
  weight: tf.Tensor,
  options: EmbeddingFunctionOptions = {},
): tf.Tensor {
  checkOptionNames("embedding", options, ["paddingIdx", "maxNorm", "normType", "scaleGradByFreq"]);
  if (indices.dtype !== "int32") {
    throw new FulmenError(`embedding: indices must be an int32 tensor, got ${indices.dtype}.`);
  }
  if (weight.rank !== 2) {
    throw new FulmenError(
      `embedding: weight must be [numEmbeddings, embeddingDim], got shape [${weight.shape}].`,
    );
  }
  const rows = weight.shape[0]!;
  const paddingIdx = resolvePaddingIdx("embedding", options.paddingIdx, rows);
  const normType = options.normType ?? 2;
  checkNumber("embedding", "normType", normType, (v) => v > 0, "a positive number or Infinity");
  const maxNorm = options.maxNorm ?? null;
  if (maxNorm !== null) {
    checkNumber("embedding", "maxNorm", maxNorm, (v) => v >= 0 && v < Infinity, "a non-negative number");
    if (!(weight instanceof tf.Variable)) {
      throw new FulmenError(
        "embedding: maxNorm rescales rows of the weight in place, so the weight must be a tf.Variable (a Parameter's data); or leave maxNorm out.",
      );
    }
    const renormed = renormRows(weight, indices, maxNorm, normType);
    weight.assign(renormed);
    renormed.dispose();
  }
  const scaleGradByFreq = options.scaleGradByFreq ?? false;
  return tf.tidy(() => {
    if (paddingIdx === null && !scaleGradByFreq) return tf.gather(weight, indices);
    return lookup(weight, indices, paddingIdx, scaleGradByFreq);
  });
}

/**
 * One-hot encodings of int32 class indices, like `F.one_hot`: an int32 tensor of shape `[...indices, numClasses]`.
 * `numClasses` -1 (default) infers the count from the largest index (read back from the device).
 */
export function oneHot(indices: tf.Tensor, options: OneHotOptions | number = {}): tf.Tensor {
  const opts = typeof options === "number" ? { numClasses: options } : options;
  checkOptionNames("oneHot", opts, ["numClasses"]);
  if (indices.dtype !== "int32") {
    throw new FulmenError(`oneHot: indices must be an int32 tensor of class indices, got ${indices.dtype}.`);
  }
  let numClasses = opts.numClasses ?? -1;
  checkNumber(
    "oneHot",
    "numClasses",
    numClasses,
    (v) => Number.isInteger(v) && (v === -1 || v > 0),
    "a positive integer, or -1 to infer it",
  );
  return tf.tidy(() => {
    const flat = tf.reshape(indices, [-1]) as tf.Tensor1D;
    if (flat.size > 0) {
      const lo = tf.min(flat).dataSync()[0]!;
      if (lo < 0) throw new FulmenError("oneHot: class indices must be non-negative.");
      const hi = tf.max(flat).dataSync()[0]!;
      if (numClasses === -1) numClasses = hi + 1;
      else if (hi >= numClasses) {
        throw new FulmenError(
          `oneHot: class index ${hi} is not below numClasses (${numClasses}); raise numClasses.`,
        );
      }
    } else if (numClasses === -1) {
      throw new FulmenError(
        "oneHot: cannot infer the number of classes from an empty tensor; pass numClasses.",
      );
    }
    return tf.reshape(tf.oneHot(flat, numClasses, 1, 0, "int32"), [...indices.shape, numClasses]);
  });
}
