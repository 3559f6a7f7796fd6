import { Parameter } from "../../autograd/parameter";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkGroups, checkPaddingMode, convNd } from "../functional/conv";
import { checkOptions, tuple } from "../functional/tuples";
import { defaultLayerInit_ } from "../init";
import { Module } from "../module";
import type { PaddingMode } from "./conv-padding";

type Single = number | [number];

/** Options of {@link Conv1d}, as in `torch.nn.Conv1d`. */
export interface Conv1dOptions {
  stride?: Single;
  /** Padding on each side, or "valid" (none) or "same" (output length equals input length; stride 1 only). */
  padding?: Single | "valid" | "same";
  dilation?: Single;
  groups?: number;
  bias?: boolean;
  /** How the padding is filled: "zeros" (default), "reflect", "replicate" or "circular", as PyTorch's. */
  paddingMode?: PaddingMode;
}

const OPTION_NAMES = ["stride", "padding", "dilation", "groups", "bias", "paddingMode"] as const;

/**
 * A 1-D convolution over `[N, C, L]` (or unbatched `[C, L]`) input, like `torch.nn.Conv1d`: weight
 * `[outChannels, inChannels/groups, k]`, bias `[outChannels]`, PyTorch's default initialisation. It runs as a
 * height-1 {@link Conv2d}, through `nn.functional.conv1d`'s machinery.
 */
export class Conv1d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: [number];
  readonly stride: [number];
  readonly dilation: [number];
  readonly padding: [number] | "valid" | "same";
  readonly groups: number;
  readonly paddingMode: PaddingMode;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Single,
    options: Conv1dOptions = {},
  ) {
    super();
    checkOptions("Conv1d", options, OPTION_NAMES);
    this.kernelSize = tuple("Conv1d", "kernelSize", kernelSize, 1, 1) as [number];
    this.stride = tuple("Conv1d", "stride", options.stride ?? 1, 1, 1) as [number];
    this.dilation = tuple("Conv1d", "dilation", options.dilation ?? 1, 1, 1) as [number];
    const padding = options.padding ?? 0;
    this.padding =
      padding === "valid" || padding === "same"
        ? padding
        : (tuple("Conv1d", "padding", padding, 1, 0) as [number]);
    this.paddingMode = checkPaddingMode("Conv1d", options.paddingMode ?? "zeros");
    this.groups = checkGroups("Conv1d", options.groups ?? 1);
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new FulmenError(
        `Conv1d: inChannels (${inChannels}) and outChannels (${outChannels}) must both be divisible by groups (${this.groups}).`,
      );
    }
    if (this.padding === "same" && this.stride[0] !== 1) {
      throw new FulmenError(
        "Conv1d: padding='same' is not supported for strided convolutions (as in PyTorch).",
      );
    }
    this.weight = Parameter.full([outChannels, inChannels / this.groups, this.kernelSize[0]], 0);
    this.bias = options.bias === false ? null : Parameter.full([outChannels], 0);
    this.resetParameters();
  }

  /** Re-draws the weights with PyTorch's default initialisation. */
  resetParameters(): void {
    defaultLayerInit_(this.weight, this.bias);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      if (x.rank !== 2 && x.rank !== 3) {
        throw new FulmenError(`Conv1d: expected input [N, C, L] or [C, L], got shape [${x.shape}].`);
      }
      const channels = x.shape[x.rank - 2];
      if (channels !== this.inChannels) {
        throw new FulmenError(
          `Conv1d: input has ${channels} channels (shape [${x.shape}]) but inChannels is ${this.inChannels}.`,
        );
      }
      return convNd("Conv1d", 1, x, this.weight.data, this.bias?.data ?? null, {
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
