import { Parameter } from "../../autograd/parameter";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkGroups, checkPaddingMode, convNd } from "../functional/conv";
import { checkOptions, type IntTuple, tuple } from "../functional/tuples";
import { defaultLayerInit_ } from "../init";
import { Module } from "../module";
import type { PaddingMode } from "./conv-padding";

/** Options of every N-d convolution module, as `torch.nn.Conv1d`/`Conv2d`/`Conv3d` take them (`T`: an int or a tuple). */
export interface ConvNdOptions<T extends IntTuple> {
  /** The step of the kernel over the input, one number or one per spatial dimension (default 1). */
  stride?: T;
  /** Padding on each side, or "valid" (none) or "same" (output size equals input size; stride 1 only). */
  padding?: T | "valid" | "same";
  /** The spacing between kernel elements, one number or one per spatial dimension (default 1). */
  dilation?: T;
  /** The number of blocked connections from input to output channels; must divide both (default 1). */
  groups?: number;
  /** Whether to learn an additive bias `[outChannels]` (default true). */
  bias?: boolean;
  /** How the padding is filled: "zeros" (default), "reflect", "replicate" or "circular", as PyTorch's. */
  paddingMode?: PaddingMode;
}

const OPTION_NAMES = ["stride", "padding", "dilation", "groups", "bias", "paddingMode"] as const;

/**
 * What `Conv1d`, `Conv2d` and `Conv3d` share (PyTorch's `_ConvNd`): argument checks, the weight `[outChannels,
 * inChannels/groups, ...kernelSize]` and bias `[outChannels]` with PyTorch's default initialisation, and a
 * forward through `nn.functional`'s convolution with the module's padding mode.
 */
export abstract class ConvNd extends Module {
  /** The learnable weight of shape `[outChannels, inChannels/groups, ...kernelSize]` (PyTorch's `weight`). */
  weight: Parameter;
  /** The learnable bias of shape `[outChannels]` (PyTorch's `bias`), or null with `bias: false`. */
  bias: Parameter | null;
  /** The kernel's size, one number per spatial dimension. */
  readonly kernelSize: number[];
  /** The step of the kernel, one number per spatial dimension (default 1). */
  readonly stride: number[];
  /** The spacing between kernel elements, one number per spatial dimension (default 1). */
  readonly dilation: number[];
  /** The padding on each side, one number per spatial dimension (default 0), or `"valid"` or `"same"`. */
  readonly padding: number[] | "valid" | "same";
  /** The number of blocked connections from input to output channels (default 1). */
  readonly groups: number;
  /** How the padding is filled: `"zeros"` (default), `"reflect"`, `"replicate"` or `"circular"`. */
  readonly paddingMode: PaddingMode;

  /**
   * @param owner the class name, for messages.
   * @param dims the number of spatial dimensions.
   * @param inputLayout the input's layout without the batch dimension, for messages (`"C, H, W"`).
   */
  protected constructor(
    private readonly owner: string,
    private readonly dims: 1 | 2 | 3,
    private readonly inputLayout: string,
    /** The number of channels `C` of the input. */
    readonly inChannels: number,
    /** The number of channels of the output. */
    readonly outChannels: number,
    kernelSize: IntTuple,
    options: ConvNdOptions<IntTuple>,
  ) {
    super();
    checkOptions(owner, options, OPTION_NAMES);
    this.kernelSize = tuple(owner, "kernelSize", kernelSize, dims, 1);
    this.stride = tuple(owner, "stride", options.stride ?? 1, dims, 1);
    this.dilation = tuple(owner, "dilation", options.dilation ?? 1, dims, 1);
    const padding = options.padding ?? 0;
    this.padding =
      padding === "valid" || padding === "same" ? padding : tuple(owner, "padding", padding, dims, 0);
    this.paddingMode = checkPaddingMode(owner, options.paddingMode ?? "zeros");
    this.groups = checkGroups(owner, options.groups ?? 1);
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new FulmenError(
        `${owner}: inChannels (${inChannels}) and outChannels (${outChannels}) must both be divisible by groups (${this.groups}).`,
      );
    }
    if (this.padding === "same" && this.stride.some((s) => s !== 1)) {
      throw new FulmenError(
        `${owner}: padding='same' is not supported for strided convolutions (as in PyTorch).`,
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
      const spatial = this.dims;
      if (x.rank !== spatial + 1 && x.rank !== spatial + 2) {
        throw new FulmenError(
          `${this.owner}: expected input [N, ${this.inputLayout}] or [${this.inputLayout}], got shape [${x.shape}].`,
        );
      }
      const channels = x.shape[x.rank - spatial - 1];
      if (channels !== this.inChannels) {
        throw new FulmenError(
          `${this.owner}: input has ${channels} channels (shape [${x.shape}]) but inChannels is ${this.inChannels}.`,
        );
      }
      return convNd(this.owner, spatial, x, this.weight.data, this.bias?.data ?? null, {
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
