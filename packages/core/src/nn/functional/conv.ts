import { lowerPrecisionOp } from "../../amp/autocast";
import { backendFeatures } from "../../runtime/backend-features";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import {
  dilateFilter,
  PADDING_MODES,
  type PaddingMode,
  padSpatial,
  type SpatialPadding,
  spatialPadding,
  spreadAxes,
} from "../layers/conv-padding";
import { convolveNcdhw, resolvePads } from "./conv3d";
import { checkBias, checkOptions, type IntTuple, tuple } from "./tuples";

/** Options of {@link conv1d}, {@link conv2d} and {@link conv3d}, as `torch.nn.functional.conv2d`'s keywords. */
export interface ConvOptions {
  /** The step of the kernel over the input, one number or one per spatial dimension (default 1). */
  stride?: IntTuple;
  /** Zero padding on each side, or "valid" (none) or "same" (output size equals input size; stride 1 only). */
  padding?: IntTuple | "valid" | "same";
  /** The spacing between kernel elements, one number or one per spatial dimension (default 1). */
  dilation?: IntTuple;
  /** The number of blocked connections from input to output channels; must divide both (default 1). */
  groups?: number;
}

/** Options of {@link convTranspose1d}, {@link convTranspose2d} and {@link convTranspose3d}, as PyTorch's keywords. */
export interface ConvTransposeOptions {
  /** The factor the input is spread out by, one number or one per spatial dimension (default 1). */
  stride?: IntTuple;
  /** `dilation·(kernel − 1) − padding` zeros pad each side of the (spread) input. */
  padding?: IntTuple;
  /** Extra rows (columns) added to one side of the output, each less than the stride or the dilation. */
  outputPadding?: IntTuple;
  /** The number of blocked connections from input to output channels; must divide both (default 1). */
  groups?: number;
  /** The spacing between kernel elements, one number or one per spatial dimension (default 1). */
  dilation?: IntTuple;
}

/** A 2-D convolution, every argument resolved: what {@link convolveNchw} runs. */
export interface Conv2dPlan {
  stride: [number, number];
  padding: SpatialPadding;
  dilation: [number, number];
  groups: number;
  paddingMode: PaddingMode;
}

const CONV_OPTIONS = ["stride", "padding", "dilation", "groups"] as const;
const TRANSPOSE_OPTIONS = ["stride", "padding", "outputPadding", "groups", "dilation"] as const;

/** A positive integer `groups`, or an error naming `owner`. */
export function checkGroups(owner: string, groups: number): number {
  if (!Number.isInteger(groups) || groups < 1) {
    throw new FulmenError(`${owner}: groups must be a positive integer, got ${String(groups)}.`);
  }
  return groups;
}

/** Checks a convolution's padding mode. */
export function checkPaddingMode(owner: string, mode: PaddingMode): PaddingMode {
  if (!PADDING_MODES.includes(mode)) {
    throw new FulmenError(
      `${owner}: unknown paddingMode '${String(mode)}'; use one of ${PADDING_MODES.join(", ")}.`,
    );
  }
  return mode;
}

/**
 * Resolves a convolution's padding argument into explicit pads per spatial dimension (`valid`, `same`, or a
 * count per side); "same" requires stride 1, as in PyTorch.
 */
export function resolvePadding(
  owner: string,
  padding: IntTuple | "valid" | "same",
  kernel: [number, number],
  stride: [number, number],
  dilation: [number, number],
  spatialDims: 1 | 2,
): SpatialPadding {
  if (padding === "same" && (stride[0] !== 1 || stride[1] !== 1)) {
    throw new FulmenError(
      `${owner}: padding='same' is not supported for strided convolutions (as in PyTorch).`,
    );
  }
  if (padding === "valid" || padding === "same") return spatialPadding(padding, kernel, dilation);
  const p = tuple(owner, "padding", padding, spatialDims, 0);
  return spatialPadding(spatialDims === 1 ? [0, p[0]!] : [p[0]!, p[1]!], kernel, dilation);
}

/** The input as a batch (`[N, C, ...]`), from a batched or unbatched tensor of `spatialDims` spatial dimensions. */
export function asBatch(owner: string, x: tf.Tensor, spatialDims: number, layout: string): tf.Tensor {
  if (x.rank === spatialDims + 2) return x;
  if (x.rank === spatialDims + 1) return tf.expandDims(x, 0);
  throw new FulmenError(
    `${owner}: expected input [N, ${layout}] or unbatched [${layout}], got shape [${x.shape}].`,
  );
}

/**
 * A 2-D convolution of NCHW input with an OIHW weight (`[out, in/groups, kH, kW]`), the computation autocast
 * runs in half. Dilated convolutions use the explicitly dilated filter (tfjs's dilated Conv2D has no gradient
 * and no stride with it); padding modes other than zeros pad the input themselves; where the backend
 * convolves NCHW itself the activations keep PyTorch's layout, elsewhere they go to NHWC and back.
 */
export function convolveNchw(
  owner: string,
  input: tf.Tensor4D,
  weight: tf.Tensor,
  bias: tf.Tensor | null,
  plan: Conv2dPlan,
): tf.Tensor4D {
  const inputs = bias === null ? [input, weight] : [input, weight, bias];
  return lowerPrecisionOp((v, w, b) => convolve(owner, v as tf.Tensor4D, w!, b, plan), inputs) as tf.Tensor4D;
}

function convolve(
  owner: string,
  input: tf.Tensor4D,
  weight: tf.Tensor,
  bias: tf.Tensor | undefined,
  plan: Conv2dPlan,
): tf.Tensor4D {
  const { stride, dilation, groups, paddingMode } = plan;
  const hwio = tf.transpose(weight, [2, 3, 1, 0]) as tf.Tensor4D;
  const filter = dilation[0] > 1 || dilation[1] > 1 ? dilateFilter(hwio, dilation) : hwio;
  const modePadded = paddingMode !== "zeros";
  const padded = modePadded ? padSpatial(input, plan.padding, paddingMode, owner) : input;
  const channelsFirst = backendFeatures().channelsFirst;
  const channelAxis = channelsFirst ? 1 : 3;
  const x = channelsFirst ? padded : (tf.transpose(padded, [0, 2, 3, 1]) as tf.Tensor4D);
  const dataFormat = channelsFirst ? "NCHW" : "NHWC";
  const pad = modePadded ? "valid" : tfPadding(plan.padding, channelsFirst);
  const conv = (xg: tf.Tensor4D, wg: tf.Tensor4D) => tf.conv2d(xg, wg, stride, pad, dataFormat, 1);
  let y: tf.Tensor4D;
  if (groups === 1) {
    y = conv(x, filter);
  } else {
    const xs = tf.split(x, groups, channelAxis) as tf.Tensor4D[];
    const ws = tf.split(filter, groups, 3) as tf.Tensor4D[];
    y = tf.concat(
      xs.map((xg, g) => conv(xg, ws[g]!)),
      channelAxis,
    ) as tf.Tensor4D;
  }
  if (bias !== undefined) y = tf.add(y, channelsFirst ? tf.reshape(bias, [-1, 1, 1]) : bias);
  return (channelsFirst ? y : tf.transpose(y, [0, 3, 1, 2])) as tf.Tensor4D;
}

/** tfjs's padding argument for the activations' layout (channels first: NCHW; else NHWC). */
function tfPadding(
  [rows, cols]: SpatialPadding,
  channelsFirst: boolean,
): "valid" | [[number, number], [number, number], [number, number], [number, number]] {
  if (rows[0] + rows[1] + cols[0] + cols[1] === 0) return "valid";
  return channelsFirst ? [[0, 0], [0, 0], rows, cols] : [[0, 0], rows, cols, [0, 0]];
}

/** Checks a convolution's weight rank, channel counts and bias size against its input. */
export function checkConvShapes(
  owner: string,
  input: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor | null,
  groups: number,
  spatialDims: number,
  transposed: boolean,
): void {
  if (weight.rank !== spatialDims + 2) {
    throw new FulmenError(
      `${owner}: weight must have ${spatialDims + 2} dimensions (${transposed ? "[in, out/groups, ...kernel]" : "[out, in/groups, ...kernel]"}), got shape [${weight.shape}].`,
    );
  }
  const inChannels = input.shape[1]!;
  const expectedIn = transposed ? weight.shape[0]! : weight.shape[1]! * groups;
  if (inChannels !== expectedIn || (transposed ? weight.shape[0]! : weight.shape[0]!) % groups !== 0) {
    throw new FulmenError(
      `${owner}: input has ${inChannels} channels (shape [${input.shape}]) but the weight [${weight.shape}] with groups=${groups} expects ${expectedIn}; check inChannels, groups and the weight's layout.`,
    );
  }
  const outChannels = transposed ? weight.shape[1]! * groups : weight.shape[0]!;
  if (bias !== null && (bias.rank !== 1 || bias.shape[0] !== outChannels)) {
    throw new FulmenError(`${owner}: bias must have shape [${outChannels}], got [${bias.shape}].`);
  }
}

/** The input's layout without the batch dimension, for messages. */
export function spatialLayout(spatialDims: number): string {
  return spatialDims === 1 ? "C, L" : spatialDims === 2 ? "C, H, W" : "C, D, H, W";
}

/** A 1-D tensor argument lifted to 2-D (a height of 1) so that the 2-D machinery runs it. */
function lift1d(t: tf.Tensor): tf.Tensor4D {
  return tf.expandDims(t, 2) as tf.Tensor4D;
}

/**
 * Runs a 2-D convolution on batched NCHW input (or a 1-D one on NCL input as a height-1 image, or a 3-D one on
 * NCDHW input); the shared core of {@link conv1d}, {@link conv2d}, {@link conv3d} and the ConvNd modules.
 */
export function convNd(
  owner: string,
  spatialDims: 1 | 2 | 3,
  x: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor | null,
  options: ConvOptions & { paddingMode?: PaddingMode },
): tf.Tensor {
  const stride = tuple(owner, "stride", options.stride ?? 1, spatialDims, 1);
  const dilation = tuple(owner, "dilation", options.dilation ?? 1, spatialDims, 1);
  const groups = checkGroups(owner, options.groups ?? 1);
  const paddingMode = checkPaddingMode(owner, options.paddingMode ?? "zeros");
  const batch = asBatch(owner, x, spatialDims, spatialLayout(spatialDims));
  checkConvShapes(owner, batch, weight, bias, groups, spatialDims, false);
  if (spatialDims === 3) {
    const three = (v: number[]): [number, number, number] => [v[0]!, v[1]!, v[2]!];
    const y = convolveNcdhw(owner, batch as tf.Tensor5D, weight, bias, {
      stride: three(stride),
      padding: resolvePads(owner, options.padding ?? 0, weight.shape.slice(2), stride, dilation),
      dilation: three(dilation),
      groups,
      paddingMode,
    });
    return batch === x ? y : tf.squeeze(y, [0]);
  }
  const two = (v: number[]): [number, number] => (spatialDims === 1 ? [1, v[0]!] : [v[0]!, v[1]!]);
  const kernel = two(weight.shape.slice(2));
  const padding = resolvePadding(
    owner,
    options.padding ?? 0,
    kernel,
    two(stride),
    two(dilation),
    spatialDims,
  );
  const input4 = spatialDims === 1 ? lift1d(batch) : (batch as tf.Tensor4D);
  const weight4 = spatialDims === 1 ? lift1d(weight) : weight;
  const y = convolveNchw(owner, input4, weight4, bias, {
    stride: two(stride),
    padding,
    dilation: two(dilation),
    groups,
    paddingMode,
  });
  const out = spatialDims === 1 ? tf.squeeze(y, [2]) : y;
  return batch === x ? out : tf.squeeze(out, [0]);
}

/**
 * A transposed convolution (the gradient of a convolution for its input) of batched input with a weight
 * `[in, out/groups, ...kernel]`, as PyTorch's: the input spread out by the stride (zeros between), padded by
 * `dilation·(k − 1) − padding` on each side (and `outputPadding` more at the end; cropped where negative),
 * then convolved at stride 1 with the flipped, transposed kernel. Every op has an exact gradient on every
 * backend (tfjs's conv2dTranspose has no dilation and no groups). 1-D runs as 2-D with a height of 1.
 */
export function convTransposeNd(
  owner: string,
  spatialDims: 1 | 2 | 3,
  x: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor | null,
  options: ConvTransposeOptions,
): tf.Tensor {
  const stride = tuple(owner, "stride", options.stride ?? 1, spatialDims, 1);
  const padding = tuple(owner, "padding", options.padding ?? 0, spatialDims, 0);
  const outputPadding = tuple(owner, "outputPadding", options.outputPadding ?? 0, spatialDims, 0);
  const dilation = tuple(owner, "dilation", options.dilation ?? 1, spatialDims, 1);
  const groups = checkGroups(owner, options.groups ?? 1);
  outputPadding.forEach((op, i) => {
    if (op >= Math.max(stride[i]!, dilation[i]!)) {
      throw new FulmenError(
        `${owner}: outputPadding [${outputPadding}] must be smaller than either the stride [${stride}] or the dilation [${dilation}] in each dimension (as in PyTorch).`,
      );
    }
  });
  const batch = asBatch(owner, x, spatialDims, spatialLayout(spatialDims));
  checkConvShapes(owner, batch, weight, bias, groups, spatialDims, true);
  const lifted = spatialDims === 1;
  const lift = (v: number[], one: number): number[] => (lifted ? [one, ...v] : v);
  const input = lifted ? lift1d(batch) : batch;
  const w = lifted ? lift1d(weight) : weight;
  const s = lift(stride, 1);
  const p = lift(padding, 0);
  const op = lift(outputPadding, 0);
  const d = lift(dilation, 1);
  const kernel = w.shape.slice(2);
  const axes = kernel.map((_, i) => 2 + i);
  const y = tf.tidy(() => {
    const spread = s.every((v) => v === 1) ? input : spreadAxes(input, axes, s);
    // Pads per side of the spread input; a negative pad crops instead.
    const before = kernel.map((k, i) => d[i]! * (k - 1) - p[i]!);
    const after = before.map((b, i) => b + op[i]!);
    const cropped = cropNegative(owner, spread, before, after);
    const pads = before.map((b, i): [number, number] => [Math.max(b, 0), Math.max(after[i]!, 0)]);
    const convWeight = transposedToConvWeight(w, groups);
    if (spatialDims === 3) {
      return convolveNcdhw(owner, cropped as tf.Tensor5D, convWeight, bias, {
        stride: [1, 1, 1],
        padding: pads,
        dilation: [d[0]!, d[1]!, d[2]!],
        groups,
        paddingMode: "zeros",
      });
    }
    return convolveNchw(owner, cropped as tf.Tensor4D, convWeight, bias, {
      stride: [1, 1],
      padding: [pads[0]!, pads[1]!],
      dilation: [d[0]!, d[1]!],
      groups,
      paddingMode: "zeros",
    });
  });
  const out = lifted ? tf.squeeze(y, [2]) : y;
  return batch === x ? out : tf.squeeze(out, [0]);
}

/** Crops the entries of negative pads from the ends of a batched tensor's spatial dimensions. */
function cropNegative(owner: string, x: tf.Tensor, before: number[], after: number[]): tf.Tensor {
  const begin = x.shape.map((_, i) => (i < 2 ? 0 : Math.max(-before[i - 2]!, 0)));
  const size = x.shape.map((n, i) => (i < 2 ? n : n - begin[i]! - Math.max(-after[i - 2]!, 0)));
  if (size.some((n) => n < 1)) {
    throw new FulmenError(
      `${owner}: padding is too large for an input of shape [${x.shape}]; the output would be empty. Use less padding.`,
    );
  }
  if (begin.every((b) => b === 0) && size.every((n, i) => n === x.shape[i])) return x;
  return tf.slice(x, begin, size);
}

/**
 * A transposed convolution's weight `[in, out/groups, ...kernel]` as the equivalent convolution's
 * `[out, in/groups, ...kernel]`: per group, in and out swapped and the kernel flipped.
 */
function transposedToConvWeight(weight: tf.Tensor, groups: number): tf.Tensor {
  const spatial = weight.shape.slice(2).map((_, i) => 2 + i);
  const flipped = tf.reverse(weight, spatial);
  const parts = groups === 1 ? [flipped] : tf.split(flipped, groups, 0);
  const swapped = parts.map((w) => tf.transpose(w, [1, 0, ...spatial]));
  return swapped.length === 1 ? swapped[0]! : tf.concat(swapped, 0);
}

/**
 * A 1-D convolution over `[N, C, L]` (or unbatched `[C, L]`) input with a weight `[out, in/groups, k]` and an
 * optional bias `[out]`, like `torch.nn.functional.conv1d`.
 */
export function conv1d(
  input: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor | null = null,
  options: ConvOptions = {},
): tf.Tensor {
  checkBias("conv1d", bias);
  checkOptions("conv1d", options, CONV_OPTIONS);
  return tf.tidy(() => convNd("conv1d", 1, input, weight, bias, options));
}

/**
 * A 2-D convolution over `[N, C, H, W]` (or unbatched `[C, H, W]`) input with a weight `[out, in/groups, kH,
 * kW]` and an optional bias `[out]`, like `torch.nn.functional.conv2d` (the computation of `nn.Conv2d`).
 */
export function conv2d(
  input: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor | null = null,
  options: ConvOptions = {},
): tf.Tensor {
  checkBias("conv2d", bias);
  checkOptions("conv2d", options, CONV_OPTIONS);
  return tf.tidy(() => convNd("conv2d", 2, input, weight, bias, options));
}

/**
 * A 1-D transposed convolution over `[N, C, L]` (or `[C, L]`) input with a weight `[in, out/groups, k]`, like
 * `torch.nn.functional.conv_transpose1d`.
 */
export function convTranspose1d(
  input: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor | null = null,
  options: ConvTransposeOptions = {},
): tf.Tensor {
  checkBias("convTranspose1d", bias);
  checkOptions("convTranspose1d", options, TRANSPOSE_OPTIONS);
  return tf.tidy(() => convTransposeNd("convTranspose1d", 1, input, weight, bias, options));
}

/**
 * A 2-D transposed convolution over `[N, C, H, W]` (or `[C, H, W]`) input with a weight `[in, out/groups, kH,
 * kW]`, like `torch.nn.functional.conv_transpose2d`.
 */
export function convTranspose2d(
  input: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor | null = null,
  options: ConvTransposeOptions = {},
): tf.Tensor {
  checkBias("convTranspose2d", bias);
  checkOptions("convTranspose2d", options, TRANSPOSE_OPTIONS);
  return tf.tidy(() => convTransposeNd("convTranspose2d", 2, input, weight, bias, options));
}

/**
 * A 3-D convolution over `[N, C, D, H, W]` (or unbatched `[C, D, H, W]`) input with a weight `[out, in/groups,
 * kD, kH, kW]` and an optional bias `[out]`, like `torch.nn.functional.conv3d` (the computation of `nn.Conv3d`).
 */
export function conv3d(
  input: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor | null = null,
  options: ConvOptions = {},
): tf.Tensor {
  checkBias("conv3d", bias);
  checkOptions("conv3d", options, CONV_OPTIONS);
  return tf.tidy(() => convNd("conv3d", 3, input, weight, bias, options));
}

/**
 * A 3-D transposed convolution over `[N, C, D, H, W]` (or `[C, D, H, W]`) input with a weight `[in, out/groups,
 * kD, kH, kW]`, like `torch.nn.functional.conv_transpose3d`.
 */
export function convTranspose3d(
  input: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor | null = null,
  options: ConvTransposeOptions = {},
): tf.Tensor {
  checkBias("convTranspose3d", bias);
  checkOptions("convTranspose3d", options, TRANSPOSE_OPTIONS);
  return tf.tidy(() => convTransposeNd("convTranspose3d", 3, input, weight, bias, options));
}
