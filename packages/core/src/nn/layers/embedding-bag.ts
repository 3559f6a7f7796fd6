import { Parameter } from "../../autograd/parameter";
import type { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { resolvePaddingIdx, zeroRow } from "../functional/embedding";
import { type EmbeddingBagMode, embeddingBag } from "../functional/embedding-bag";
import { normal_ } from "../init";
import { Module } from "../module";

/** Options of {@link EmbeddingBag}, PyTorch's keywords in camelCase. */
export interface EmbeddingBagModuleOptions {
  /** "mean" (default), "sum" or "max". */
  mode?: EmbeddingBagMode;
  /** Offsets include the end of the last bag (default false). */
  includeLastOffset?: boolean;
  /** An index whose row starts at zero and that belongs to no bag. */
  paddingIdx?: number | null;
}

/**
 * Sums, averages or takes the maximum of bags of embeddings, like `torch.nn.EmbeddingBag(numEmbeddings,
 * embeddingDim, { mode })`: weight `[numEmbeddings, embeddingDim]` from N(0, 1). `forward(input, offsets?,
 * perSampleWeights?)` as PyTorch's. PyTorch's `max_norm`, `scale_grad_by_freq` and `sparse` are not implemented.
 */
export class EmbeddingBag extends Module {
  /** The learnable table `[numEmbeddings, embeddingDim]`. */
  weight: Parameter;
  /** How each bag is reduced. */
  readonly mode: EmbeddingBagMode;
  /** Whether offsets include the end of the last bag. */
  readonly includeLastOffset: boolean;
  /** The padding index, made non-negative; null if none. */
  readonly paddingIdx: number | null;

  constructor(
    /** The number of rows of the table. */
    readonly numEmbeddings: number,
    /** The size of each embedding vector. */
    readonly embeddingDim: number,
    options: EmbeddingBagModuleOptions = {},
  ) {
    super();
    for (const unsupported of ["maxNorm", "scaleGradByFreq", "sparse"]) {
      if (unsupported in options) {
        throw new FulmenError(
          `EmbeddingBag: ${unsupported} is not implemented yet; leave it out (nn.Embedding supports maxNorm and scaleGradByFreq).`,
        );
      }
    }
    checkOptionNames("EmbeddingBag", options, ["mode", "includeLastOffset", "paddingIdx"]);
    for (const [name, value] of [
      ["numEmbeddings", numEmbeddings],
      ["embeddingDim", embeddingDim],
    ] as const)
      checkNumber("EmbeddingBag", name, value, (v) => Number.isInteger(v) && v > 0, "a positive integer");
    this.mode = options.mode ?? "mean";
    if (!["sum", "mean", "max"].includes(this.mode)) {
      throw new FulmenError(`EmbeddingBag: mode must be 'sum', 'mean' or 'max', got '${String(this.mode)}'.`);
    }
    this.includeLastOffset = options.includeLastOffset ?? false;
    this.paddingIdx = resolvePaddingIdx("EmbeddingBag", options.paddingIdx, numEmbeddings);
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

  /**
   * `input` `[B, N]` (B bags of N indices) or 1-D with `offsets` `[B]` where each bag starts; with mode "sum",
   * `perSampleWeights` of the input's shape scale each embedding. Returns `[B, embeddingDim]`.
   */
  forward(
    input: tf.Tensor,
    offsets: tf.Tensor | readonly number[] | null = null,
    perSampleWeights: tf.Tensor | null = null,
  ): tf.Tensor {
    return embeddingBag(input, this.weight.data, {
      offsets,
      mode: this.mode,
      perSampleWeights,
      includeLastOffset: this.includeLastOffset,
      paddingIdx: this.paddingIdx,
    });
  }

  protected override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}, mode='${this.mode}'${this.paddingIdx === null ? "" : `, paddingIdx=${this.paddingIdx}`}`;
  }
}
