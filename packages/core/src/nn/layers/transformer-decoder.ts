import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { Module } from "../module";
import { ModuleList } from "./containers";
import { Dropout } from "./dropout";
import { LayerNorm } from "./layer-norm";
import { Linear } from "./linear";
import { MultiheadAttention } from "./multihead-attention";
import { deepCopyModule, resolveActivation, type TransformerActivation } from "./transformer-common";
import { layerSettings, type TransformerLayerOptions } from "./transformer-encoder";

/** Options of {@link TransformerDecoderLayer.forward} and {@link TransformerDecoder.forward}, PyTorch's keywords in camelCase. */
export interface TransformerDecoderForwardOptions {
  /** The self-attention mask (boolean true = blocked, or float added). */
  tgtMask?: tf.Tensor | null;
  /** The cross-attention mask over the memory. */
  memoryMask?: tf.Tensor | null;
  /** `[N, T]`: true = padding in the target. */
  tgtKeyPaddingMask?: tf.Tensor | null;
  /** `[N, S]`: true = padding in the memory. */
  memoryKeyPaddingMask?: tf.Tensor | null;
  /** A hint that tgtMask is the causal mask (it needs tgtMask, as in PyTorch). */
  tgtIsCausal?: boolean;
  /** A hint that memoryMask is the causal mask (it needs memoryMask, as in PyTorch). */
  memoryIsCausal?: boolean;
}

const FORWARD_OPTIONS = [
  "tgtMask",
  "memoryMask",
  "tgtKeyPaddingMask",
  "memoryKeyPaddingMask",
  "tgtIsCausal",
  "memoryIsCausal",
];

/**
 * One transformer decoder layer, like `torch.nn.TransformerDecoderLayer`: self-attention, cross-attention
 * over `memory`, then the feed-forward block, each with a residual connection and LayerNorm (post-norm by
 * default, pre-norm with normFirst). State-dict names are PyTorch's: `self_attn.*`, `multihead_attn.*`,
 * `linear1`, `linear2`, `norm1`, `norm2`, `norm3`.
 */
export class TransformerDecoderLayer extends Module {
  /** The self-attention over the target (PyTorch's `self_attn`). */
  selfAttn: MultiheadAttention;
  /** The cross-attention from the target to the memory (PyTorch's `multihead_attn`). */
  multiheadAttn: MultiheadAttention;
  /** The feed-forward block's first projection, `dModel` to `dimFeedforward`. */
  linear1: Linear;
  /** The dropout between the feed-forward block's activation and `linear2`. */
  dropout: Dropout;
  /** The feed-forward block's second projection, `dimFeedforward` to `dModel`. */
  linear2: Linear;
  /** The LayerNorm of the self-attention block. */
  norm1: LayerNorm;
  /** The LayerNorm of the cross-attention block. */
  norm2: LayerNorm;
  /** The LayerNorm of the feed-forward block. */
  norm3: LayerNorm;
  /** The dropout on the self-attention's output, before the residual sum. */
  dropout1: Dropout;
  /** The dropout on the cross-attention's output, before the residual sum. */
  dropout2: Dropout;
  /** The dropout on the feed-forward block's output, before the residual sum. */
  dropout3: Dropout;
  /** Whether each block normalises its input (pre-norm) rather than the residual sum (default false). */
  readonly normFirst: boolean;
  /** Whether inputs and output are `[batch, seq, feature]` (default false: `[seq, batch, feature]`). */
  readonly batchFirst: boolean;
  /** The activation as given (a module given here is a child, as in PyTorch). */
  activation: TransformerActivation;

  constructor(dModel: number, nhead: number, options: TransformerLayerOptions = {}) {
    super();
    const owner = "TransformerDecoderLayer";
    const s = layerSettings(owner, dModel, nhead, options);
    resolveActivation(owner, s.activation);
    const attention = () =>
      new MultiheadAttention(dModel, nhead, { dropout: s.dropout, bias: s.bias, batchFirst: s.batchFirst });
    this.selfAttn = attention();
    this.multiheadAttn = attention();
    this.linear1 = new Linear(dModel, s.dimFeedforward, { bias: s.bias });
    this.dropout = new Dropout(s.dropout);
    this.linear2 = new Linear(s.dimFeedforward, dModel, { bias: s.bias });
    this.norm1 = new LayerNorm(dModel, { eps: s.eps, bias: s.bias });
    this.norm2 = new LayerNorm(dModel, { eps: s.eps, bias: s.bias });
    this.norm3 = new LayerNorm(dModel, { eps: s.eps, bias: s.bias });
    this.dropout1 = new Dropout(s.dropout);
    this.dropout2 = new Dropout(s.dropout);
    this.dropout3 = new Dropout(s.dropout);
    this.normFirst = s.normFirst;
    this.batchFirst = s.batchFirst;
    this.activation = s.activation;
    this.setStateDictKey("selfAttn", "self_attn");
    this.setStateDictKey("multiheadAttn", "multihead_attn");
  }

  /** `tgt` `[T, N, E]` attending to `memory` `[S, N, E]` (batch first with batchFirst) → `tgt`'s shape. */
  forward(tgt: tf.Tensor, memory: tf.Tensor, options: TransformerDecoderForwardOptions = {}): tf.Tensor {
    checkOptionNames("TransformerDecoderLayer.forward", options, FORWARD_OPTIONS);
    if (!(memory instanceof tf.Tensor)) {
      throw new FulmenError(
        "TransformerDecoderLayer: forward(tgt, memory, options) needs the memory tensor.",
      );
    }
    return tf.tidy(() => {
      const sa = (x: tf.Tensor) => {
        const [y] = this.selfAttn.forward(x, x, x, {
          attnMask: options.tgtMask ?? null,
          keyPaddingMask: options.tgtKeyPaddingMask ?? null,
          needWeights: false,
          isCausal: options.tgtIsCausal ?? false,
        });
        return this.dropout1.forward(y);
      };
      const mha = (x: tf.Tensor) => {
        const [y] = this.multiheadAttn.forward(x, memory, memory, {
          attnMask: options.memoryMask ?? null,
          keyPaddingMask: options.memoryKeyPaddingMask ?? null,
          needWeights: false,
          isCausal: options.memoryIsCausal ?? false,
        });
        return this.dropout2.forward(y);
      };
      const act = resolveActivation("TransformerDecoderLayer", this.activation);
      const ff = (x: tf.Tensor) =>
        this.dropout3.forward(this.linear2.forward(this.dropout.forward(act(this.linear1.forward(x)))));
      let x = tgt;
      if (this.normFirst) {
        x = tf.add(x, sa(this.norm1.forward(x)));
        x = tf.add(x, mha(this.norm2.forward(x)));
        x = tf.add(x, ff(this.norm3.forward(x)));
      } else {
        x = this.norm1.forward(tf.add(x, sa(x)));
        x = this.norm2.forward(tf.add(x, mha(x)));
        x = this.norm3.forward(tf.add(x, ff(x)));
      }
      return x;
    });
  }
}

/** Options of {@link TransformerDecoder}. */
export interface TransformerDecoderOptions {
  /** A final normalisation (saved as `norm.*`). */
  norm?: Module | null;
}

/**
 * A stack of `numLayers` deep copies of `decoderLayer`, like `torch.nn.TransformerDecoder` (state dict
 * `layers.0.…`, then `norm.…`), with an optional final norm.
 */
export class TransformerDecoder extends Module {
  /** The `numLayers` deep copies of the decoder layer, run in order. */
  layers: ModuleList<TransformerDecoderLayer>;
  /** The normalisation applied to the last layer's output, or null (default) for none. */
  norm: Module | null;
  /** The number of stacked layers. */
  readonly numLayers: number;

  constructor(
    decoderLayer: TransformerDecoderLayer,
    numLayers: number,
    options: TransformerDecoderOptions = {},
  ) {
    super();
    checkOptionNames("TransformerDecoder", options, ["norm"]);
    if (!(decoderLayer instanceof Module)) {
      throw new FulmenError("TransformerDecoder: decoderLayer must be a TransformerDecoderLayer module.");
    }
    checkNumber(
      "TransformerDecoder",
      "numLayers",
      numLayers,
      (v) => Number.isInteger(v) && v > 0,
      "a positive integer",
    );
    this.layers = new ModuleList(Array.from({ length: numLayers }, () => deepCopyModule(decoderLayer)));
    this.norm = options.norm ?? null;
    this.numLayers = numLayers;
  }

  /** Runs `tgt` through every layer against `memory` with the same masks, then the final norm. */
  forward(tgt: tf.Tensor, memory: tf.Tensor, options: TransformerDecoderForwardOptions = {}): tf.Tensor {
    checkOptionNames("TransformerDecoder.forward", options, FORWARD_OPTIONS);
    return tf.tidy(() => {
      let x = tgt;
      for (const layer of this.layers) x = layer.forward(x, memory, options);
      if (this.norm !== null) x = (this.norm.forward as (x: tf.Tensor) => tf.Tensor)(x);
      return x;
    });
  }
}
