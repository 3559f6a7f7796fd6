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
}

/** A lookup table, like `torch.nn.Embedding`: weight `[numEmbeddings, embeddingDim]` drawn from N(0, 1). */
export class Embedding extends Module {
  weight: Parameter;
  readonly paddingIdx: number | null;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    options: EmbeddingOptions = {},
  ) {
    super();
    checkOptionNames("Embedding", options, ["paddingIdx"]);
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
      if (this.paddingIdx === null) return tf.gather(this.weight.data, indices);
      return paddedLookup(this.weight.data, indices, this.paddingIdx);
    });
  }

  protected override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx === null ? "" : `, paddingIdx=${this.paddingIdx}`}`;
  }
}

/** `[rows, 1]`: 1 for every row, 0 for row `idx`. */
function rowMask(rows: number, idx: number): tf.Tensor {
  const mask = new Float32Array(rows).fill(1);
  mask[idx] = 0;
  return tf.tensor2d(mask, [rows, 1]);
}

/**
 * `gather(table, indices)` whose gradient for the table skips row `paddingIdx`, as PyTorch's padding_idx
 * does: the forward pass returns the stored rows, the padding row included, unchanged.
 */
function paddedLookup(table: tf.Tensor, indices: tf.Tensor, paddingIdx: number): tf.Tensor {
  const op = tf.customGrad((t: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const weight = t as tf.Tensor;
    const [rows, dim] = weight.shape as [number, number];
    (save as tf.GradSaveFunc)([indices]);
    return {
      value: tf.gather(weight, indices),
      // gather's own gradient (dy's rows summed by index), then the padding row zeroed.
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const idx = saved[0]!;
        const flatDy = tf.reshape(dy, [idx.size, dim]);
        const grad = tf.unsortedSegmentSum(flatDy, tf.reshape(idx, [-1]), rows);
        return tf.mul(grad, rowMask(rows, paddingIdx));
      },
    };
  });
  return op(table);
}
