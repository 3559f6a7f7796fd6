import { Parameter } from "../../autograd/parameter";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { normal_ } from "../init";
import { Module } from "../module";

/** Options of {@link Embedding}. */
export interface EmbeddingOptions {
  /** An index whose row is initialised to zeros and receives no gradient. */
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
      tf.tidy(() => this.weight.assign(tf.mul(this.weight.data, this.rowMask(idx))));
    }
  }

  forward(indices: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      if (indices.dtype !== "int32") {
        throw new FulmenError(`Embedding: indices must be an int32 tensor, got ${indices.dtype}.`);
      }
      // Masking the padding row makes its gradient zero, as PyTorch's padding_idx does.
      const table =
        this.paddingIdx === null ? this.weight.data : tf.mul(this.weight.data, this.rowMask(this.paddingIdx));
      return tf.gather(table, indices);
    });
  }

  private rowMask(idx: number): tf.Tensor {
    const mask = new Float32Array(this.numEmbeddings).fill(1);
    mask[idx] = 0;
    return tf.tensor2d(mask, [this.numEmbeddings, 1]);
  }

  protected override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx === null ? "" : `, paddingIdx=${this.paddingIdx}`}`;
  }
}
