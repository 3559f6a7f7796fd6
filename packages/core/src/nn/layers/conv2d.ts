import { Parameter } from "../../autograd/parameter";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { convNd } from "../functional/conv";
import { defaultLayerInit_ } from "../init";
import { Module } from "../module";
import { PADDING_MODES, type PaddingMode } from "./conv-padding";

type Pair = number | [number, number];

/** Options of {@link Conv2d}, as in `torch.nn.Conv2d`. */
export interface Conv2dOptions {
  stride?: Pair;
  /** Padding on each side, or "valid" (none) or "same" (output size equals input size; stride 1 only). */
  padding?: Pair | "valid" | "same";
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  /** How the padding is filled: "zeros" (default), "reflect", "replicate" or "circular", as PyTorch's. */
  paddingMode?: PaddingMode;
}

const OPTION_NAMES = ["stride", "padding", "dilation", "groups", "bias", "paddingMode"] as const;

function pair(name: string, value: Pair, min: number): [number, number] {
  const p: [number, number] = typeof value === "number" ? [value, value] : value;
  if (!Array.isArray(p) || p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < min)) {
    throw new FulmenError(
      `Conv2d: ${name} must be ${min > 0 ? "a positive" : "a non-negative"} integer or a pair of them, got ${String(value)}.`,
    );
  }
  return p;
}

/**
 * A 2-D convolution over NCHW input, like `torch.nn.Conv2d`: weight `[outChannels, inChannels/groups, kH, kW]`,
 * bias `[outChannels]`, PyTorch's default initialisation. Accepts `[N, C, H, W]` or unbatched `[C, H, W]`.
 * Dilated convolutions (any stride) train like the others: the dilated filter is built explicitly.
 */
export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly dilation: [number, number];
  readonly padding: [number, number] | "valid" | "same";
  readonly groups: number;
  readonly paddingMode: PaddingMode;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: Conv2dOptions = {},
  ) {
    super();
    checkOptionNames("Conv2d", options, OPTION_NAMES);
    this.kernelSize = pair("kernelSize", kernelSize, 1);
    this.stride = pair("stride", options.stride ?? 1, 1);
    this.dilation = pair("dilation", options.dilation ?? 1, 1);
    const padding = options.padding ?? 0;
    this.padding = padding === "valid" || padding === "same" ? padding : pair("padding", padding, 0);
    this.paddingMode = options.paddingMode ?? "zeros";
    if (!PADDING_MODES.includes(this.paddingMode)) {
      throw new FulmenError(
        `Conv2d: unknown paddingMode '${String(this.paddingMode)}'; use one of ${PADDING_MODES.join(", ")}.`,
      );
    }
    this.groups = options.groups ?? 1;
    checkNumber("Conv2d", "groups", this.groups, (v) => Number.isInteger(v) && v > 0, "a positive integer");
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new FulmenError(
        `Conv2d: inChannels (${inChannels}) and outChannels (${outChannels}) must both be divisible by groups (${this.groups}).`,
      );
    }
    if (this.padding === "same" && (this.stride[0] !== 1 || this.stride[1] !== 1)) {
      throw new FulmenError(
        "Conv2d: padding='same' is not supported for strided convolutions (as in PyTorch).",
      );
    }
    this.weight = Parameter.full([outChannels, inChannels / this.groups, ...this.kernelSize], 0);
    this.bias = options.bias === false ? null : Parameter.full([outChannels], 0);
    this.resetParameters();
  }

  /** Re-draws the weights with PyTorch's default initialisation. */
  resetParameters(): void {
    defaultLayerInit_(this.weight, this.bias);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      if (x.rank !== 3 && x.rank !== 4) {
        throw new FulmenError(`Conv2d: expected input [N, C, H, W] or [C, H, W], got shape [${x.shape}].`);
      }
      const channels = x.shape[x.rank - 3];
      if (channels !== this.inChannels) {
        throw new FulmenError(
          `Conv2d: input has ${channels} channels (shape [${x.shape}]) but inChannels is ${this.inChannels}.`,
        );
      }
      // The computation is nn.functional.conv2d's, with the module's padding mode.
      return convNd("Conv2d", 2, x, this.weight.data, this.bias?.data ?? null, {
        stride: this.stride,
        padding: this.padding,
        dilation: this.dilation,
        groups: this.groups,
        paddingMode: this.paddingMode,
      });
    });
  }

  protected override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize}], stride=[${this.stride}]`;
  }
}
