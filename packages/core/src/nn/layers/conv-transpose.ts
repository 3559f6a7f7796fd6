import { Parameter } from "../../autograd/parameter";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkGroups, convTransposeNd, spatialLayout } from "../functional/conv";
import { checkOptions, type IntTuple, tuple } from "../functional/tuples";
import { defaultLayerInit_ } from "../init";
import { Module } from "../module";

/** Options of {@link ConvTranspose1d}, {@link ConvTranspose2d} and {@link ConvTranspose3d}, as PyTorch's keywords. */
export interface ConvTransposeModuleOptions {
  /** The factor the input is spread out by, one number or one per spatial dimension (default 1). */
  stride?: IntTuple;
  /** `dilation·(kernel − 1) − padding` zeros pad each side of the spread input (PyTorch's meaning). */
  padding?: IntTuple;
  /** Extra size added to one side of the output, less than the stride or the dilation. */
  outputPadding?: IntTuple;
  /** The number of blocked connections from input to output channels; must divide both (default 1). */
  groups?: number;
  /** Whether to learn an additive bias `[outChannels]` (default true). */
  bias?: boolean;
  /** The spacing between kernel elements, one number or one per spatial dimension (default 1). */
  dilation?: IntTuple;
  /** Only "zeros", as in PyTorch. */
  paddingMode?: "zeros";
}

/** Options of a transposed convolution's forward, as PyTorch's `forward(input, output_size=None)`. */
export interface ConvTransposeForwardOptions {
  /** The output's spatial sizes (or whole shape); the output padding is chosen to reach them. */
  outputSize?: readonly number[] | null;
}

const OPTION_NAMES = [
  "stride",
  "padding",
  "outputPadding",
  "groups",
  "bias",
  "dilation",
  "paddingMode",
] as const;

/** What the 1-D, 2-D and 3-D transposed convolutions share: arguments, parameters, initialisation, forward. */
abstract class ConvTransposeNd extends Module {
  /** The learnable weight of shape `[inChannels, outChannels/groups, ...kernelSize]` (PyTorch's `weight`). */
  weight: Parameter;
  /** The learnable bias of shape `[outChannels]` (PyTorch's `bias`), or null with `bias: false`. */
  bias: Parameter | null;
  /** The kernel's size, one number per spatial dimension. */
  readonly kernelSize: number[];
  /** The factor the input is spread out by, one number per spatial dimension (default 1). */
  readonly stride: number[];
  /** PyTorch's `padding`, one number per spatial dimension (default 0): it crops the output on each side. */
  readonly padding: number[];
  /** Extra size added to one side of the output, one number per spatial dimension (default 0). */
  readonly outputPadding: number[];
  /** The spacing between kernel elements, one number per spatial dimension (default 1). */
  readonly dilation: number[];
  /** The number of blocked connections from input to output channels (default 1). */
  readonly groups: number;

  constructor(
    private readonly owner: string,
    private readonly spatialDims: 1 | 2 | 3,
    /** The number of channels `C` of the input. */
    readonly inChannels: number,
    /** The number of channels of the output. */
    readonly outChannels: number,
    kernelSize: IntTuple,
    options: ConvTransposeModuleOptions,
  ) {
    super();
    checkOptions(owner, options, OPTION_NAMES);
    this.kernelSize = tuple(owner, "kernelSize", kernelSize, spatialDims, 1);
    this.stride = tuple(owner, "stride", options.stride ?? 1, spatialDims, 1);
    this.padding = tuple(owner, "padding", options.padding ?? 0, spatialDims, 0);
    this.outputPadding = tuple(owner, "outputPadding", options.outputPadding ?? 0, spatialDims, 0);
    this.dilation = tuple(owner, "dilation", options.dilation ?? 1, spatialDims, 1);
    this.groups = checkGroups(owner, options.groups ?? 1);
    if ((options.paddingMode ?? "zeros") !== "zeros") {
      throw new FulmenError(
        `${owner}: only paddingMode "zeros" is supported for transposed convolutions (as in PyTorch), got '${String(options.paddingMode)}'.`,
      );
    }
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new FulmenError(
        `${owner}: inChannels (${inChannels}) and outChannels (${outChannels}) must both be divisible by groups (${this.groups}).`,
      );
    }
    this.outputPadding.forEach((op, i) => {
      if (op >= Math.max(this.stride[i]!, this.dilation[i]!)) {
        throw new FulmenError(
          `${owner}: outputPadding [${this.outputPadding}] must be smaller than either the stride [${this.stride}] or the dilation [${this.dilation}] in each dimension (as in PyTorch).`,
        );
      }
    });
    // PyTorch's layout: [in, out/groups, ...kernel].
    this.weight = Parameter.full([inChannels, outChannels / this.groups, ...this.kernelSize], 0);
    this.bias = options.bias === false ? null : Parameter.full([outChannels], 0);
    this.resetParameters();
  }

  /** Re-draws the weights with PyTorch's default initialisation (fan-in from `out/groups · kernel`, as PyTorch's). */
  resetParameters(): void {
    defaultLayerInit_(this.weight, this.bias);
  }

  /**
   * The transposed convolution of `x`; `options.outputSize` (PyTorch's `output_size`, the spatial sizes or the
   * whole shape) picks the output padding that reaches it, in place of the module's `outputPadding`.
   */
  forward(x: tf.Tensor, options: ConvTransposeForwardOptions = {}): tf.Tensor {
    checkOptions(`${this.owner}.forward`, options, ["outputSize"]);
    return tf.tidy(() => {
      const rank = this.spatialDims + 2;
      if (x.rank !== rank && x.rank !== rank - 1) {
        const layout = spatialLayout(this.spatialDims);
        throw new FulmenError(
          `${this.owner}: expected input [N, ${layout}] or [${layout}], got shape [${x.shape}].`,
        );
      }
      const channels = x.shape[x.rank - this.spatialDims - 1];
      if (channels !== this.inChannels) {
        throw new FulmenError(
          `${this.owner}: input has ${channels} channels (shape [${x.shape}]) but inChannels is ${this.inChannels}.`,
        );
      }
      return convTransposeNd(this.owner, this.spatialDims, x, this.weight.data, this.bias?.data ?? null, {
        stride: this.stride,
        padding: this.padding,
        outputPadding:
          options.outputSize == null ? this.outputPadding : this.paddingFor(x, options.outputSize),
        dilation: this.dilation,
        groups: this.groups,
      });
    });
  }

  /** The output padding that makes the output `outputSize`, as PyTorch's `_output_padding` (less than the stride). */
  private paddingFor(x: tf.Tensor, outputSize: readonly number[]): number[] {
    const n = this.spatialDims;
    const sizes =
      outputSize.length === n + 2 || outputSize.length === n + 1 ? outputSize.slice(-n) : outputSize;
    if (sizes.length !== n || sizes.some((v) => !Number.isInteger(v))) {
      throw new FulmenError(
        `${this.owner}: outputSize must hold ${n} spatial sizes (or the whole output shape), got [${outputSize}].`,
      );
    }
    const spatial = x.shape.slice(-n);
    return sizes.map((want, i) => {
      const least =
        (spatial[i]! - 1) * this.stride[i]! -
        2 * this.padding[i]! +
        this.dilation[i]! * (this.kernelSize[i]! - 1) +
        1;
      const most = least + this.stride[i]! - 1;
      if (want < least || want > most) {
        throw new FulmenError(
          `${this.owner}: requested outputSize [${sizes}] is not reachable from input [${x.shape}]: dimension ${i} must be between ${least} and ${most}.`,
        );
      }
      return want - least;
    });
  }

  protected override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize}], stride=[${this.stride}]`;
  }
}

/**
 * A 1-D transposed convolution over `[N, C, L]` (or `[C, L]`) input, like `torch.nn.ConvTranspose1d`: weight
 * `[inChannels, outChannels/groups, k]`, output length `(L − 1)·stride − 2·padding + dilation·(k − 1) +
 * outputPadding + 1`.
 */
export class ConvTranspose1d extends ConvTransposeNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: IntTuple,
    options: ConvTransposeModuleOptions = {},
  ) {
    super("ConvTranspose1d", 1, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * A 2-D transposed convolution over `[N, C, H, W]` (or `[C, H, W]`) input, like `torch.nn.ConvTranspose2d`:
 * weight `[inChannels, outChannels/groups, kH, kW]`, stride, padding, outputPadding, dilation and groups.
 */
export class ConvTranspose2d extends ConvTransposeNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: IntTuple,
    options: ConvTransposeModuleOptions = {},
  ) {
    super("ConvTranspose2d", 2, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * A 3-D transposed convolution over `[N, C, D, H, W]` (or `[C, D, H, W]`) input, like `torch.nn.ConvTranspose3d`:
 * weight `[inChannels, outChannels/groups, kD, kH, kW]`, stride, padding, outputPadding, dilation and groups.
 */
export class ConvTranspose3d extends ConvTransposeNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: IntTuple,
    options: ConvTransposeModuleOptions = {},
  ) {
    super("ConvTranspose3d", 3, inChannels, outChannels, kernelSize, options);
  }
}
