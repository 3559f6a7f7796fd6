import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { adaptiveAvg } from "./adaptive-pool";
import { applyAlongAxis, sparseRows } from "./axis-matrix";
import { checkOptions } from "./tuples";

/** The resampling modes of {@link interpolate}: nearest neighbours, (bi/tri)linear or bicubic interpolation, or area. */
export type InterpolateMode =
  | "nearest"
  | "nearest-exact"
  | "linear"
  | "bilinear"
  | "bicubic"
  | "trilinear"
  | "area";

/** Options of {@link interpolate} and `nn.Upsample`, as PyTorch's keywords. */
export interface InterpolateOptions {
  /** The output's spatial size (one number for every spatial dimension, or one each); or give `scaleFactor`. */
  size?: number | readonly number[] | null;
  /** The factor each spatial size is multiplied by (output size ⌊in · factor⌋); or give `size`. */
  scaleFactor?: number | readonly number[] | null;
  /**
   * "nearest" (default), "nearest-exact", "linear" (3-D input), "bilinear" or "bicubic" (4-D input), "trilinear"
   * (5-D input) or "area" (adaptive average pooling).
   */
  mode?: InterpolateMode;
  /** Interpolating modes only (linear, bilinear, bicubic, trilinear): map the corner pixels' centres onto each other (default false). */
  alignCorners?: boolean | null;
  /** Compute the sampling scale from the sizes (in/out) instead of from `scaleFactor` (default false). */
  recomputeScaleFactor?: boolean | null;
}

/** The option names of {@link interpolate}. */
export const INTERPOLATE_OPTIONS = [
  "size",
  "scaleFactor",
  "mode",
  "alignCorners",
  "recomputeScaleFactor",
] as const;
const MODES: readonly InterpolateMode[] = [
  "nearest",
  "nearest-exact",
  "linear",
  "bilinear",
  "bicubic",
  "trilinear",
  "area",
];
/** The modes that interpolate, and so take `alignCorners`. */
const INTERPOLATING: readonly InterpolateMode[] = ["linear", "bilinear", "bicubic", "trilinear"];
/** The spatial dimensions each interpolating mode needs (PyTorch refuses the others). */
const MODE_DIMS: Partial<Record<InterpolateMode, number>> = {
  linear: 1,
  bilinear: 2,
  bicubic: 2,
  trilinear: 3,
};
/** PyTorch's cubic convolution constant (`A` of `get_cubic_upsample_coefficients`). */
const CUBIC_A = -0.75;

/** Float32 rounding, as PyTorch's float kernels compute their source indices. */
const f32 = Math.fround;

/** Each output position's source entries and weights along one axis, as PyTorch's upsampling kernels compute them. */
function axisRows(
  mode: InterpolateMode,
  length: number,
  out: number,
  scaleFactor: number | null,
  alignCorners: boolean,
): Float32Array {
  const entries: Array<[number, number, number]> = [];
  if (mode === "nearest" || mode === "nearest-exact") {
    // compute_scales_value: 1/scale_factor when given, else in/out, as float.
    const scale = f32(scaleFactor !== null ? 1 / scaleFactor : length / out);
    for (let i = 0; i < out; i++) {
      const src = mode === "nearest" ? f32(i * scale) : f32(f32(i + 0.5) * scale);
      entries.push([i, Math.min(Math.floor(src), length - 1), 1]);
    }
    return sparseRows(out, length, entries);
  }
  if (mode === "bicubic") return cubicRows(length, out, scaleFactor, alignCorners);
  // area_pixel_compute_scale / area_pixel_compute_source_index (linear, not cubic)
  const scale = alignCorners
    ? out > 1
      ? f32((length - 1) / (out - 1))
      : 0
    : f32(scaleFactor !== null ? 1 / scaleFactor : length / out);
  for (let i = 0; i < out; i++) {
    const raw = alignCorners ? f32(scale * i) : f32(f32(scale * f32(i + 0.5)) - 0.5);
    const src = Math.max(raw, 0);
    const lo = Math.min(Math.floor(src), length - 1);
    const hi = lo < length - 1 ? lo + 1 : lo;
    const lambda = Math.min(Math.max(f32(src - lo), 0), 1);
    entries.push([i, lo, f32(1 - lambda)], [i, hi, lambda]);
  }
  return sparseRows(out, length, entries);
}

/**
 * Bicubic rows along one axis, as PyTorch 1.13's separable CPU kernel (`HelperInterpCubic`) weighs them: the
 * source index is not clamped at 0 (cubic), the four taps `⌊src⌋ - 1 … ⌊src⌋ + 2` are clamped to the axis (so
 * border taps add up on the edge entry), and the weights are Keys' cubic convolution with A = -0.75, all in float32.
 */
function cubicRows(
  length: number,
  out: number,
  scaleFactor: number | null,
  alignCorners: boolean,
): Float32Array {
  const scale = alignCorners
    ? out > 1
      ? f32((length - 1) / (out - 1))
      : 0
    : f32(scaleFactor !== null ? 1 / scaleFactor : length / out);
  // cubic_convolution1 (|x| ≤ 1) and cubic_convolution2 (1 < |x| < 2) of UpSample.h
  const near = (x: number) => f32(f32(f32(f32(f32((CUBIC_A + 2) * x) - (CUBIC_A + 3)) * x) * x) + 1);
  const far = (x: number) =>
    f32(f32(f32(f32(f32(f32(CUBIC_A * x) - 5 * CUBIC_A) * x) + 8 * CUBIC_A) * x) - 4 * CUBIC_A);
  const entries: Array<[number, number, number]> = [];
  for (let i = 0; i < out; i++) {
    const src = alignCorners ? f32(scale * i) : f32(f32(scale * f32(i + 0.5)) - 0.5);
    const base = Math.floor(src);
    const t = f32(src - base);
    const weights = [far(f32(t + 1)), near(t), near(f32(1 - t)), far(f32(f32(1 - t) + 1))];
    weights.forEach((w, k) => {
      entries.push([i, Math.min(Math.max(base - 1 + k, 0), length - 1), w]);
    });
  }
  return sparseRows(out, length, entries);
}

function perDim(owner: string, name: string, value: number | readonly number[], n: number): number[] {
  const list = typeof value === "number" ? Array.from({ length: n }, () => value) : [...value];
  if (list.length !== n || list.some((v) => typeof v !== "number" || !(v > 0))) {
    throw new FulmenError(
      `${owner}: ${name} must be a positive number or ${n} of them (one per spatial dimension), got ${JSON.stringify(value)}.`,
    );
  }
  return list;
}

/**
 * Checks what {@link interpolate}'s options say by themselves (names, mode, alignCorners only with the
 * interpolating modes, exactly one of size and scaleFactor), so that `nn.Upsample` refuses them when built.
 */
export function checkInterpolateOptions(owner: string, options: InterpolateOptions): void {
  checkOptions(owner, options, INTERPOLATE_OPTIONS);
  const mode = options.mode ?? "nearest";
  if (!MODES.includes(mode)) {
    throw new FulmenError(`${owner}: unknown mode '${String(mode)}'; use one of ${MODES.join(", ")}.`);
  }
  if ((options.alignCorners ?? null) !== null && !INTERPOLATING.includes(mode)) {
    throw new FulmenError(
      `${owner}: alignCorners applies to the interpolating modes (${INTERPOLATING.join(", ")}) only; leave it unset for ${mode}.`,
    );
  }
  if ((options.size == null) === (options.scaleFactor == null)) {
    throw new FulmenError(`${owner}: give exactly one of size and scaleFactor.`);
  }
}

/**
 * Resamples `[N, C, L]`, `[N, C, H, W]` or `[N, C, D, H, W]` input like `torch.nn.functional.interpolate` (PyTorch
 * 1.13 without antialias): nearest (PyTorch's legacy ⌊dst · scale⌋ source), nearest-exact, linear (3-D), bilinear
 * and bicubic (4-D), trilinear (5-D) with or without `alignCorners`, area (adaptive average pooling), to a `size` or by a `scaleFactor`. The
 * sampling is a fixed linear map per spatial axis (bicubic too: PyTorch's kernel is separable), so the gradient is
 * exact.
 */
export function interpolate(input: tf.Tensor, options: InterpolateOptions = {}): tf.Tensor {
  return resample("interpolate", input, options);
}

/** {@link interpolate} with errors naming `owner` (`nn.Upsample` runs it too). */
export function resample(owner: string, input: tf.Tensor, options: InterpolateOptions): tf.Tensor {
  checkInterpolateOptions(owner, options);
  const mode = options.mode ?? "nearest";
  const spatialDims = input.rank - 2;
  if (spatialDims !== 1 && spatialDims !== 2 && spatialDims !== 3) {
    throw new FulmenError(
      `${owner}: expected [N, C, L], [N, C, H, W] or [N, C, D, H, W] input, got shape [${input.shape}] (PyTorch wants the batch dimension too).`,
    );
  }
  const modeDims = MODE_DIMS[mode];
  if (modeDims !== undefined && spatialDims !== modeDims) {
    throw new FulmenError(
      `${owner}: got ${input.rank}-D input, but ${mode} mode needs ${modeDims + 2}-D input.`,
    );
  }
  const alignCorners = options.alignCorners ?? null;
  const size = options.size ?? null;
  const factor = options.scaleFactor ?? null;
  const spatial = input.shape.slice(2);
  const factors = factor === null ? null : perDim(owner, "scaleFactor", factor, spatialDims);
  const outs =
    size !== null
      ? perDim(owner, "size", size, spatialDims)
      : spatial.map((s, i) => Math.floor(s * factors![i]!));
  if (outs.some((o) => !Number.isInteger(o) || o < 1)) {
    throw new FulmenError(
      `${owner}: the output size [${outs}] of input [${input.shape}] must be positive integers.`,
    );
  }
  // PyTorch's area mode is adaptive average pooling to the output size.
  if (mode === "area") return adaptiveAvg(owner, spatialDims, input, outs);
  // With recomputeScaleFactor the kernel samples by in/out, as if the size had been given.
  const kernelFactors = options.recomputeScaleFactor === true ? null : factors;
  return tf.tidy(() => {
    let y = input;
    spatial.forEach((length, d) => {
      const out = outs[d]!;
      const rows = axisRows(mode, length, out, kernelFactors?.[d] ?? null, alignCorners === true);
      y = applyAlongAxis(y, 2 + d, rows, out);
    });
    return y === input ? tf.clone(input) : y;
  });
}
