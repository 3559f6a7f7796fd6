import { Parameter } from "../../autograd/parameter";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { normal_ } from "../init";
import { Module } from "../module";

/** Options of {@link Embedding}. */
export interface EmbeddingOptions {
  /**
   * An index whose row is initialised to zeros and receives no gradient. Its stored row is looked up as it
   * is (a loaded checkpoint may hold a non-zero one), as in PyTorch.
   */
  paddingIdx?: number;
  /**
   * Rows looked up whose `normType`-norm exceeds this are rescaled to norm `maxNorm` in place before the
   * lookup (no gradient flows through the rescaling), as PyTorch's `max_norm`.
   */
  maxNorm?: number | null;
  /** The p of the p-norm `maxNorm` limits: a positive number or Infinity (default 2). */
  normType?: number;
  /** Divide each row's gradient by how often its index occurs in the batch (default false). */
  scaleGradByFreq?: boolean;
}

/** A lookup table, like `torch.nn.Embedding`: weight `[numEmbeddings, embeddingDim]` drawn from N(0, 1). */
export class Embedding extends Module {
  weight: Parameter;
  readonly paddingIdx: number | null;
  readonly maxNorm: number | null;
  readonly normType: number;
  readonly scaleGradByFreq: boolean;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: EmbeddingOptions = {},
  ) {
    super();
    checkOptionNames("Embedding", options, ["paddingIdx", "maxNorm", "normType", "scaleGradByFreq"]);
    checkNumber(
      "Embedding",
      "numEmbeddings",
      numEmbeddings,
      (v) => Number.isInteger(v) && v > 0,
      "a positive integer",
    );
    checkNumber(
      "Embedding",
      "embeddingDim",
      embeddingDim,
      (v) => Number.isInteger(v) && v > 0,
      "a positive integer",
    );
    let paddingIdx = options.paddingIdx ?? null;
    if (paddingIdx !== null) {
      if (!Number.isInteger(paddingIdx) || paddingIdx >= numEmbeddings || paddingIdx < -numEmbeddings) {
        throw new FulmenError(
          `Embedding: paddingIdx must be within [-${numEmbeddings}, ${numEmbeddings}), got ${paddingIdx}.`,
        );
      }
      if (paddingIdx < 0) paddingIdx += numEmbeddings;
    }
    this.paddingIdx = paddingIdx;
    this.maxNorm = options.maxNorm ?? null;
    if (this.maxNorm !== null)
      checkNumber(
        "Embedding",
        "maxNorm",
        this.maxNorm,
        (v) => v >= 0 && v < Infinity,
        "a non-negative number",
      );
    this.normType = options.normType ?? 2;
    checkNumber("Embedding", "normType", this.normType, (v) => v > 0, "a positive number or Infinity");
    this.scaleGradByFreq = options.scaleGradByFreq ?? false;
    if (typeof this.scaleGradByFreq !== "boolean") {
      throw new FulmenError(
        `Embedding: scaleGradByFreq must be true or false, got ${String(this.scaleGradByFreq)}.`,
      );
    }
    this.weight = Parameter.full([numEmbeddings, embeddingDim], 0);
    this.resetParameters();
  }

  /** Re-draws the table from N(0, 1) and zeroes the padding row. */
  resetParameters(): void {
    normal_(this.weight);
    if (this.paddingIdx !== null) {
      const idx = this.paddingIdx;
      tf.tidy(() => this.weight.assign(tf.mul(this.weight.data, rowMask(this.numEmbeddings, idx))));
    }
  }

  forward(indices: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      if (indices.dtype !== "int32") {
        throw new FulmenError(`Embedding: indices must be an int32 tensor, got ${indices.dtype}.`);
      }
      if (this.maxNorm !== null) this.renorm(indices, this.maxNorm);
      if (this.paddingIdx === null && !this.scaleGradByFreq) return tf.gather(this.weight.data, indices);
      return lookup(this.weight.data, indices, this.paddingIdx, this.scaleGradByFreq);
    });
  }

  /**
   * PyTorch's `embedding_renorm_`: every row that `indices` refers to and whose norm exceeds `maxNorm` is
   * scaled by `maxNorm / (norm + 1e-7)` in the weight itself, outside the autograd graph.
   */
  private renorm(indices: tf.Tensor, maxNorm: number): void {
    tf.tidy(() => {
      const w = this.weight.data;
      const rows = this.numEmbeddings;
      const flat = tf.reshape(indices, [-1]) as tf.Tensor1D;
      const used = tf.greater(tf.unsortedSegmentSum(tf.onesLike(flat), flat, rows), 0);
      const magnitude = tf.abs(w);
      const norm =
        this.normType === Number.POSITIVE_INFINITY
          ? tf.max(magnitude, 1)
          : tf.pow(tf.sum(tf.pow(magnitude, this.normType), 1), 1 / this.normType);
      const scale = tf.where(
        tf.logicalAnd(used, tf.greater(norm, maxNorm)),
        tf.div(maxNorm, tf.add(norm, 1e-7)),
        tf.onesLike(norm),
      );
      this.weight.assign(tf.mul(w, tf.expandDims(scale, 1)));
    });
  }

  protected override extraRepr(): string {
    const extras = [
      this.paddingIdx === null ? "" : `, paddingIdx=${this.paddingIdx}`,
      this.maxNorm === null ? "" : `, maxNorm=${this.maxNorm}`,
      this.scaleGradByFreq ? ", scaleGradByFreq=true" : "",
    ];
    return `${this.numEmbeddings}, ${this.embeddingDim}${extras.join("")}`;
  }
}

/** `[rows, 1]`: 1 for every row, 0 for row `idx`. */
function rowMask(rows: number, idx: number): tf.Tensor {
  const mask = new Float32Array(rows).fill(1);
  mask[idx] = 0;
  return tf.tensor2d(mask, [rows, 1]);
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
