import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { xavierUniform_ } from "../init";
import { Module } from "../module";
import { LayerNorm } from "./layer-norm";
import { generateSquareSubsequentMask } from "./multihead-attention";
import type { TransformerActivation } from "./transformer-common";
import { TransformerDecoder, TransformerDecoderLayer } from "./transformer-decoder";
import { TransformerEncoder, TransformerEncoderLayer } from "./transformer-encoder";

/** Options of {@link Transformer}, PyTorch's keywords in camelCase with its defaults. */
export interface TransformerOptions {
  /** The model width (default 512). */
  dModel?: number;
  /** The number of attention heads (default 8). */
  nhead?: number;
  /** Encoder layers (default 6). */
  numEncoderLayers?: number;
  /** Decoder layers (default 6). */
  numDecoderLayers?: number;
  /** The feed-forward width (default 2048). */
  dimFeedforward?: number;
  /** Dropout probability in every layer (default 0.1). */
  dropout?: number;
  /** The feed-forward activation: "relu" (default), "gelu", a function or a module. */
  activation?: TransformerActivation;
  /** An encoder module used instead of the stack built from the options (`forward(src, options)`). */
  customEncoder?: Module | null;
  /** A decoder module used instead of the stack built from the options (`forward(tgt, memory, options)`). */
  customDecoder?: Module | null;
  /** The LayerNorms' eps (default 1e-5). */
  layerNormEps?: number;
  /** Inputs and output as `[batch, seq, feature]` (default false: `[seq, batch, feature]`). */
  batchFirst?: boolean;
  /** Pre-norm layers (default false). */
  normFirst?: boolean;
  /** Biases in the linear layers and LayerNorms (default true). */
  bias?: boolean;
}

/** Options of {@link Transformer.forward}, PyTorch's keywords in camelCase. */
export interface TransformerForwardOptions {
  /** The encoder's self-attention mask, `[S, S]`: true = blocked, or float added. */
  srcMask?: tf.Tensor | null;
  /** The decoder's self-attention mask, `[T, T]` (e.g. {@link Transformer.generateSquareSubsequentMask}). */
  tgtMask?: tf.Tensor | null;
  /** The decoder's cross-attention mask, `[T, S]`. */
  memoryMask?: tf.Tensor | null;
  /** `[N, S]`: true = padding in the source. */
  srcKeyPaddingMask?: tf.Tensor | null;
  /** `[N, T]`: true = padding in the target. */
  tgtKeyPaddingMask?: tf.Tensor | null;
  /** `[N, S]`: true = padding in the memory (usually the source's mask). */
  memoryKeyPaddingMask?: tf.Tensor | null;
  /** A hint that srcMask is the causal mask. */
  srcIsCausal?: boolean;
  /** A hint that tgtMask is the causal mask. */
  tgtIsCausal?: boolean;
  /** A hint that memoryMask is the causal mask. */
  memoryIsCausal?: boolean;
}

const OPTIONS = [
  "dModel",
  "nhead",
  "numEncoderLayers",
  "numDecoderLayers",
  "dimFeedforward",
  "dropout",
  "activation",
  "customEncoder",
  "customDecoder",
  "layerNormEps",
  "batchFirst",
  "normFirst",
  "bias",
];

const FORWARD_OPTIONS = [
  "srcMask",
  "tgtMask",
  "memoryMask",
  "srcKeyPaddingMask",
  "tgtKeyPaddingMask",
  "memoryKeyPaddingMask",
  "srcIsCausal",
  "tgtIsCausal",
  "memoryIsCausal",
];

/**
 * The encoder–decoder transformer of "Attention Is All You Need", like `torch.nn.Transformer`: a
 * {@link TransformerEncoder} and a {@link TransformerDecoder}, each ending in a LayerNorm (state dict
 * `encoder.layers.0.…`, `encoder.norm.…`, `decoder.…`). Every weight matrix starts Xavier-uniform, as PyTorch's
 * `_reset_parameters` does (custom encoders' and decoders' too).
 */
export class Transformer extends Module {
  /** The encoder (PyTorch's `encoder`). */
  encoder: Module;
  /** The decoder (PyTorch's `decoder`). */
  decoder: Module;
  /** The model width. */
  readonly dModel: number;
  /** The number of attention heads. */
  readonly nhead: number;
  /** Whether inputs and output are `[batch, seq, feature]`. */
  readonly batchFirst: boolean;

  constructor(options: TransformerOptions = {}) {
    super();
    checkOptionNames("Transformer", options, OPTIONS);
    const dModel = options.dModel ?? 512;
    const nhead = options.nhead ?? 8;
    for (const [name, value] of [
      ["numEncoderLayers", options.numEncoderLayers ?? 6],
      ["numDecoderLayers", options.numDecoderLayers ?? 6],
    ] as const) {
      checkNumber("Transformer", name, value, (v) => Number.isInteger(v) && v > 0, "a positive integer");
    }
    const batchFirst = options.batchFirst ?? false;
    const eps = options.layerNormEps ?? 1e-5;
    const bias = options.bias ?? true;
    const layerOptions = {
      dimFeedforward: options.dimFeedforward ?? 2048,
      dropout: options.dropout ?? 0.1,
      activation: options.activation ?? "relu",
      layerNormEps: eps,
      batchFirst,
      normFirst: options.normFirst ?? false,
      bias,
    };
    if (options.customEncoder != null) {
      this.encoder = options.customEncoder;
    } else {
      const layer = new TransformerEncoderLayer(dModel, nhead, layerOptions);
      this.encoder = new TransformerEncoder(layer, options.numEncoderLayers ?? 6, {
        norm: new LayerNorm(dModel, { eps, bias }),
      });
      disposeTemplate(layer, layerOptions.activation);
    }
    if (options.customDecoder != null) {
      this.decoder = options.customDecoder;
    } else {
      const layer = new TransformerDecoderLayer(dModel, nhead, layerOptions);
      this.decoder = new TransformerDecoder(layer, options.numDecoderLayers ?? 6, {
        norm: new LayerNorm(dModel, { eps, bias }),
      });
      disposeTemplate(layer, layerOptions.activation);
    }
    this.dModel = dModel;
    this.nhead = nhead;
    this.batchFirst = batchFirst;
    // PyTorch's _reset_parameters: Xavier-uniform for every parameter of more than one dimension.
    for (const p of this.parameters()) if (p.shape.length > 1) xavierUniform_(p);
  }

  /**
   * `src` `[S, N, E]` and `tgt` `[T, N, E]` (batch first: `[N, S, E]`, `[N, T, E]`; unbatched `[S, E]`, `[T, E]`)
   * → `[T, N, E]`: the source encoded, then the target decoded against it.
   */
  forward(src: tf.Tensor, tgt: tf.Tensor, options: TransformerForwardOptions = {}): tf.Tensor {
    checkOptionNames("Transformer.forward", options, FORWARD_OPTIONS);
    const batchAxis = this.batchFirst ? 0 : 1;
    if (src.rank !== tgt.rank || (src.rank === 3 && src.shape[batchAxis] !== tgt.shape[batchAxis])) {
      throw new FulmenError(
        `Transformer: src (shape [${src.shape}]) and tgt (shape [${tgt.shape}]) must have the same batch size${this.batchFirst ? " (batchFirst: dimension 0)" : " (dimension 1; pass batchFirst: true for [N, S, E])"}.`,
      );
    }
    if (src.shape.at(-1) !== this.dModel || tgt.shape.at(-1) !== this.dModel) {
      throw new FulmenError(
        `Transformer: the feature size of src (shape [${src.shape}]) and tgt (shape [${tgt.shape}]) must equal dModel (${this.dModel}).`,
      );
    }
    return tf.tidy(() => {
      const encode = this.encoder.forward as (x: tf.Tensor, o: object) => tf.Tensor;
      const decode = this.decoder.forward as (x: tf.Tensor, m: tf.Tensor, o: object) => tf.Tensor;
      const memory = encode.call(this.encoder, src, {
        mask: options.srcMask ?? null,
        srcKeyPaddingMask: options.srcKeyPaddingMask ?? null,
        isCausal: options.srcIsCausal ?? false,
      });
      return decode.call(this.decoder, tgt, memory, {
        tgtMask: options.tgtMask ?? null,
        memoryMask: options.memoryMask ?? null,
        tgtKeyPaddingMask: options.tgtKeyPaddingMask ?? null,
        memoryKeyPaddingMask: options.memoryKeyPaddingMask ?? null,
        tgtIsCausal: options.tgtIsCausal ?? false,
        memoryIsCausal: options.memoryIsCausal ?? false,
      });
    });
  }

  /** The `[size, size]` causal mask, −∞ above the diagonal and 0 elsewhere, like PyTorch's static method. */
  static generateSquareSubsequentMask(size: number): tf.Tensor2D {
    return generateSquareSubsequentMask(size);
  }
}

/**
 * Frees the template layer the stacks deep-copied (PyTorch lets it be garbage-collected), unless its activation
 * is the caller's module, which the template holds and dispose would free too.
 */
function disposeTemplate(layer: Module, activation: TransformerActivation): void {
  if (!(activation instanceof Module)) layer.dispose();
}
