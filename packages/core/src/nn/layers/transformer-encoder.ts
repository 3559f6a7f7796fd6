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

/** Options of {@link TransformerEncoderLayer} and {@link TransformerDecoderLayer}, PyTorch's keywords in camelCase. */
export interface TransformerLayerOptions {
  /** Width of the feed-forward block (default 2048). */
  dimFeedforward?: number;
  /** Dropout probability (default 0.1), in attention and after each block, in training mode. */
  dropout?: number;
  /** The feed-forward activation (default "relu"). */
  activation?: TransformerActivation;
  /** LayerNorm's epsilon (default 1e-5). */
  layerNormEps?: number;
  /** Inputs are `[batch, seq, feature]` (default false: `[seq, batch, feature]`). */
  batchFirst?: boolean;
  /** Normalise before each block (pre-norm) instead of after the residual sum (default false). */
  normFirst?: boolean;
  /** Biases in the linear layers, attention and layer norms (default true). */
  bias?: boolean;
}

/** Options of {@link TransformerEncoderLayer.forward}, PyTorch's keywords in camelCase. */
export interface TransformerEncoderLayerForwardOptions {
  /** The self-attention mask (`attnMask` of {@link MultiheadAttention}: boolean true = blocked, or float added). */
  srcMask?: tf.Tensor | null;
  /** `[N, S]`: boolean true = padding, ignored as a key (or float, added). */
  srcKeyPaddingMask?: tf.Tensor | null;
  /** A hint that srcMask is the causal mask (it needs srcMask, as in PyTorch). */
  isCausal?: boolean;
}

export const LAYER_OPTIONS = [
  "dimFeedforward",
  "dropout",
  "activation",
  "layerNormEps",
  "batchFirst",
  "normFirst",
  "bias",
] as const;

/** Validated sizes shared by the encoder and decoder layers. */
export function layerSettings(
  owner: string,
  dModel: number,
  nhead: number,
  options: TransformerLayerOptions,
) {
  checkOptionNames(owner, options, LAYER_OPTIONS);
  const positive = (v: number) => Number.isInteger(v) && v > 0;
  checkNumber(owner, "dModel", dModel, positive, "a positive integer");
  checkNumber(owner, "nhead", nhead, positive, "a positive integer");
  const dimFeedforward = options.dimFeedforward ?? 2048;
  checkNumber(owner, "dimFeedforward", dimFeedforward, positive, "a positive integer");
  const dropout = options.dropout ?? 0.1;
  checkNumber(owner, "dropout", dropout, (v) => v >= 0 && v <= 1, "a probability between 0 and 1");
  const eps = options.layerNormEps ?? 1e-5;
  checkNumber(owner, "layerNormEps", eps, (v) => v > 0, "a positive number");
  return {
    dimFeedforward,
    dropout,
    eps,
    bias: options.bias ?? true,
    batchFirst: options.batchFirst ?? false,
    normFirst: options.normFirst ?? false,
    activation: options.activation ?? "relu",
  };
}

/**
 * One transformer encoder layer, like `torch.nn.TransformerEncoderLayer`: self-attention then a feed-forward
 * block (`linear2(dropout(activation(linear1(x))))`), each with a residual connection and LayerNorm, after
 * the sum (default) or before the block (normFirst). State-dict names are PyTorch's: `self_attn.*`, `linear1`,
 * `linear2`, `norm1`, `norm2`.
 */
export class TransformerEncoderLayer extends Module {
  /** The self-attention (PyTorch's `self_attn`). */
  selfAttn: MultiheadAttention;
  /** The feed-forward block's first projection, `dModel` to `dimFeedforward`. */
  linear1: Linear;
  /** The dropout between the feed-forward block's activation and `linear2`. */
  dropout: Dropout;
  /** The feed-forward block's second projection, `dimFeedforward` to `dModel`. */
  linear2: Linear;
  /** The LayerNorm of the self-attention block. */
  norm1: LayerNorm;
  /** The LayerNorm of the feed-forward block. */
  norm2: LayerNorm;
  /** The dropout on the self-attention's output, before the residual sum. */
  dropout1: Dropout;
  /** The dropout on the feed-forward block's output, before the residual sum. */
  dropout2: Dropout;
  /** Whether each block normalises its input (pre-norm) rather than the residual sum (default false). */
  readonly normFirst: boolean;
  /** Whether inputs and output are `[batch, seq, feature]` (default false: `[seq, batch, feature]`). */
  readonly batchFirst: boolean;
  /** The activation as given (a module given here is a child, as in PyTorch). */
  activation: TransformerActivation;

  constructor(dModel: number, nhead: number, options: TransformerLayerOptions = {}) {
    super();
    const owner = "TransformerEncoderLayer";
    const s = layerSettings(owner, dModel, nhead, options);
    resolveActivation(owner, s.activation);
    this.selfAttn = new MultiheadAttention(dModel, nhead, {
      dropout: s.dropout,
      bias: s.bias,
      batchFirst: s.batchFirst,
    });
    this.linear1 = new Linear(dModel, s.dimFeedforward, { bias: s.bias });
    this.dropout = new Dropout(s.dropout);
    this.linear2 = new Linear(s.dimFeedforward, dModel, { bias: s.bias });
    this.norm1 = new LayerNorm(dModel, { eps: s.eps, bias: s.bias });
    this.norm2 = new LayerNorm(dModel, { eps: s.eps, bias: s.bias });
    this.dropout1 = new Dropout(s.dropout);
    this.dropout2 = new Dropout(s.dropout);
    this.normFirst = s.normFirst;
    this.batchFirst = s.batchFirst;
    this.activation = s.activation;
    this.setStateDictKey("selfAttn", "self_attn");
  }

  /** `src` `[S, N, E]` (`[N, S, E]` with batchFirst, or `[S, E]`) → the same shape. */
  forward(src: tf.Tensor, options: TransformerEncoderLayerForwardOptions = {}): tf.Tensor {
    checkOptionNames("TransformerEncoderLayer.forward", options, [
      "srcMask",
      "srcKeyPaddingMask",
      "isCausal",
    ]);
    return tf.tidy(() => {
      const sa = (x: tf.Tensor) => {
        const [y] = this.selfAttn.forward(x, x, x, {
          attnMask: options.srcMask ?? null,
          keyPaddingMask: options.srcKeyPaddingMask ?? null,
          needWeights: false,
          isCausal: options.isCausal ?? false,
        });
        return this.dropout1.forward(y);
      };
      const act = resolveActivation("TransformerEncoderLayer", this.activation);
      const ff = (x: tf.Tensor) =>
        this.dropout2.forward(this.linear2.forward(this.dropout.forward(act(this.linear1.forward(x)))));
      let x = src;
      if (this.normFirst) {
        x = tf.add(x, sa(this.norm1.forward(x)));
        x = tf.add(x, ff(this.norm2.forward(x)));
      } else {
        x = this.norm1.forward(tf.add(x, sa(x)));
        x = this.norm2.forward(tf.add(x, ff(x)));
      }
      return x;
    });
  }
}

/** Options of {@link TransformerEncoder}. */
export interface TransformerEncoderOptions {
  /** A final normalisation (saved as `norm.*`). */
  norm?: Module | null;
  /**
   * PyTorch's switch for its inference fast path (default true). Fulmen always computes the regular path,
   * whose outputs equal PyTorch's except at padded positions, which PyTorch's fast path sets to zero.
   */
  enableNestedTensor?: boolean;
  /** PyTorch's check of the masks' layouts for its fast path (default true); Fulmen always checks the masks. */
  maskCheck?: boolean;
}

/** Options of {@link TransformerEncoder.forward}, PyTorch's keywords in camelCase. */
export interface TransformerEncoderForwardOptions {
  /** Every layer's self-attention mask, `[S, S]` or `[N·nhead, S, S]`: true = blocked, or float added. */
  mask?: tf.Tensor | null;
  /** `[N, S]`: boolean true = padding, ignored as a key (or float, added). */
  srcKeyPaddingMask?: tf.Tensor | null;
  /** A hint that mask is the causal mask (it needs mask, as in PyTorch). */
  isCausal?: boolean;
}

/**
 * A stack of `numLayers` deep copies of `encoderLayer`, like `torch.nn.TransformerEncoder` (state dict
 * `layers.0.…`, then `norm.…`), with an optional final norm.
 */
export class TransformerEncoder extends Module {
  /** The `numLayers` deep copies of the encoder layer, run in order. */
  layers: ModuleList<TransformerEncoderLayer>;
  /** The normalisation applied to the last layer's output, or null (default) for none. */
  norm: Module | null;
  /** The number of stacked layers. */
  readonly numLayers: number;

  constructor(
    encoderLayer: TransformerEncoderLayer,
    numLayers: number,
    options: TransformerEncoderOptions = {},
  ) {
    super();
    checkOptionNames("TransformerEncoder", options, ["norm", "enableNestedTensor", "maskCheck"]);
    if (!(encoderLayer instanceof Module)) {
      throw new FulmenError("TransformerEncoder: encoderLayer must be a TransformerEncoderLayer module.");
    }
    checkNumber(
      "TransformerEncoder",
      "numLayers",
      numLayers,
      (v) => Number.isInteger(v) && v > 0,
      "a positive integer",
    );
    this.layers = new ModuleList(Array.from({ length: numLayers }, () => deepCopyModule(encoderLayer)));
    this.norm = options.norm ?? null;
    this.numLayers = numLayers;
  }

  /** Runs `src` through every layer with the same masks, then the final norm. */
  forward(src: tf.Tensor, options: TransformerEncoderForwardOptions = {}): tf.Tensor {
    checkOptionNames("TransformerEncoder.forward", options, ["mask", "srcKeyPaddingMask", "isCausal"]);
    return tf.tidy(() => {
      let x = src;
      for (const layer of this.layers) {
        x = layer.forward(x, {
          srcMask: options.mask ?? null,
          srcKeyPaddingMask: options.srcKeyPaddingMask ?? null,
          isCausal: options.isCausal ?? false,
        });
      }
      if (this.norm !== null) x = (this.norm.forward as (x: tf.Tensor) => tf.Tensor)(x);
      return x;
    });
  }
}
