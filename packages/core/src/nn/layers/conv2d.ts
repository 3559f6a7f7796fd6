import { lowerPrecisionOp } from "../../amp/autocast";
import { Parameter } from "../../autograd/parameter";
import { backendFeatures } from "../../runtime/backend-features";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { defaultLayerInit_ } from "../init";
import { Module } from "../module";
import {
  dilateFilter,
  PADDING_MODES,
  type PaddingMode,
  padSpatial,
  type SpatialPadding,
  spatialPadding,
} from "./conv-padding";

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
      const unbatched = x.rank === 3;
      if (!unbatched && x.rank !== 4) {
        throw new FulmenError(`Conv2d: expected input [N, C, H, W] or [C, H, W], got shape [${x.shape}].`);
      }
      const input = (unbatched ? tf.expandDims(x, 0) : x) as tf.Tensor4D;
      if (input.shape[1] !== this.inChannels) {
        throw new FulmenError(
          `Conv2d: input has ${input.shape[1]} channels (shape [${x.shape}]) but inChannels is ${this.inChannels}.`,
        );
      }
      const inputs =
        this.bias === null ? [input, this.weight.data] : [input, this.weight.data, this.bias.data];
      const nchw = lowerPrecisionOp((v, w, b) => this.convolve(v as tf.Tensor4D, w!, b), inputs);
      return unbatched ? tf.squeeze(nchw, [0]) : nchw;
    });
  }

  /** The convolution itself, on NCHW input and OIHW weight: the computation autocast runs in half. */
  private convolve(input: tf.Tensor4D, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
    const dilated = this.dilation[0] > 1 || this.dilation[1] > 1;
    const hwio = tf.transpose(weight, [2, 3, 1, 0]) as tf.Tensor4D;
    // tfjs's dilated Conv2D has no gradient (and no stride with it): convolve with the dilated filter instead,
    // (k − 1)·d + 1 taps wide with zeros between, which costs more multiplications but trains everywhere.
    const filter = dilated ? dilateFilter(hwio, this.dilation) : hwio;
    const pads = spatialPadding(this.padding, this.kernelSize, this.dilation);
    // Other padding modes pad the input themselves (in NCHW) and convolve without padding, as PyTorch does.
    const modePadded = this.paddingMode !== "zeros";
    const padded = modePadded
      ? padSpatial(input, pads, this.paddingMode as Exclude<PaddingMode, "zeros">)
      : input;
    // Where the backend convolves NCHW itself, the activations keep PyTorch's layout; elsewhere they go to
    // tfjs's NHWC and back (the filter is tfjs's [kH, kW, in, out] either way).
    const channelsFirst = backendFeatures().channelsFirst;
    const channelAxis = channelsFirst ? 1 : 3;
    const x = channelsFirst ? padded : (tf.transpose(padded, [0, 2, 3, 1]) as tf.Tensor4D);
    const dataFormat = channelsFirst ? "NCHW" : "NHWC";
    const pad = modePadded ? "valid" : this.tfPadding(pads, channelsFirst);
    const conv = (xg: tf.Tensor4D, wg: tf.Tensor4D) => tf.conv2d(xg, wg, this.stride, pad, dataFormat, 1);
    let y: tf.Tensor4D;
    if (this.groups === 1) {
      y = conv(x, filter);
    } else {
      const xs = tf.split(x, this.groups, channelAxis) as tf.Tensor4D[];
      const ws = tf.split(filter, this.groups, 3) as tf.Tensor4D[];
      y = tf.concat(
        xs.map((xg, g) => conv(xg, ws[g]!)),
        channelAxis,
      ) as tf.Tensor4D;
    }
    if (bias !== undefined) y = tf.add(y, channelsFirst ? tf.reshape(bias, [-1, 1, 1]) : bias);
    return channelsFirst ? y : tf.transpose(y, [0, 3, 1, 2]);
  }

  /** tfjs's padding argument for the activations' layout (channels first: NCHW; else NHWC). */
  private tfPadding(
    [rows, cols]: SpatialPadding,
    channelsFirst: boolean,
  ): "valid" | [[number, number], [number, number], [number, number], [number, number]] {
    if (rows[0] + rows[1] + cols[0] + cols[1] === 0) return "valid";
    return channelsFirst ? [[0, 0], [0, 0], rows, cols] : [[0, 0], rows, cols, [0, 0]];
  }

  protected override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize}], stride=[${this.stride}]`;
  }
}
