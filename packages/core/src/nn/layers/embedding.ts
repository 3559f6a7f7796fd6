import { Parameter } from "../../autograd/parameter";
import type { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { embedding, resolvePaddingIdx, zeroRow } from "../functional/embedding";
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
  /** The learnable table `[numEmbeddings, embeddingDim]` (PyTorch's `weight`), drawn from N(0, 1). */
  weight: Parameter;
  /** The index whose row is zero-initialised and gets no gradient, made non-negative; null if none. */
  readonly paddingIdx: number | null;
  /** The largest norm of a looked-up row, larger ones being rescaled in place; null (default): no limit. */
  readonly maxNorm: number | null;
  /** The p of the p-norm that `maxNorm` limits (default 2). */
  readonly normType: number;
  /** Whether each row's gradient is divided by how often its index occurs in the batch (default false). */
  readonly scaleGradByFreq: boolean;

  constructor(
    /** The number of rows of the table: indices range over `[0, numEmbeddings)`. */
    readonly numEmbeddings: number,
    /** The size of each embedding vector. */
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
    this.paddingIdx = resolvePaddingIdx("Embedding", options.paddingIdx, numEmbeddings);
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
    if (this.paddingIdx !== null && !this.weight.isDeferred) {
      const zeroed = zeroRow(this.weight.data, this.paddingIdx);
      this.weight.assign(zeroed);
      zeroed.dispose();
    }
  }

  forward(indices: tf.Tensor): tf.Tensor {
    return embedding(indices, this.weight.data, {
      paddingIdx: this.paddingIdx,
      maxNorm: this.maxNorm,
      normType: this.normType,
      scaleGradByFreq: this.scaleGradByFreq,
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
