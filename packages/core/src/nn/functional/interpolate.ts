import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { adaptiveAvg } from "./adaptive-pool";
import { applyAlongAxis, sparseRows } from "./axis-matrix";
import { checkOptions } from "./tuples";

/** The resampling modes of {@link interpolate}: nearest neighbours or (bi)linear interpolation. */
export type InterpolateMode = "nearest" | "nearest-exact" | "linear" | "bilinear" | "area";

/** Options of {@link interpolate} and `nn.Upsample`, as PyTorch's keywords. */
export interface InterpolateOptions {
  /** The output's spatial size (one number for every spatial dimension, or one each); or give `scaleFactor`. */
  size?: number | readonly number[] | null;
  /** The factor each spatial size is multiplied by (output size ⌊in · factor⌋); or give `size`. */
  scaleFactor?: number | readonly number[] | null;
  /** "nearest" (default), "nearest-exact", "linear" (3-D input), "bilinear" (4-D input) or "area" (adaptive average pooling). */
  mode?: InterpolateMode;
  /** Linear modes only: map the corner pixels' centres onto each other (default false). */
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
const MODES: readonly InterpolateMode[] = ["nearest", "nearest-exact", "linear", "bilinear", "area"];

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
  if ((options.alignCorners ?? null) !== null && mode !== "linear" && mode !== "bilinear") {
    throw new FulmenError(
      `${owner}: alignCorners applies to the interpolating modes (linear, bilinear) only; leave it unset for ${mode}.`,
    );
  }
  if ((options.size == null) === (options.scaleFactor == null)) {
    throw new FulmenError(`${owner}: give exactly one of size and scaleFactor.`);
  }
}

/**
 * Resamples `[N, C, L]` or `[N, C, H, W]` input like `torch.nn.functional.interpolate` (PyTorch 1.13 without
 * antialias): nearest (PyTorch's legacy ⌊dst · scale⌋ source), nearest-exact, linear (3-D) and bilinear (4-D)
 * with or without `alignCorners`, area (adaptive average pooling), to a `size` or by a `scaleFactor`. The sampling is a fixed linear map per
 * spatial axis, so the gradient is exact.
 */
export function interpolate(input: tf.Tensor, options: InterpolateOptions = {}): tf.Tensor {
  return resample("interpolate", input, options);
}

/** {@link interpolate} with errors naming `owner` (`nn.Upsample` runs it too). */
export function resample(owner: string, input: tf.Tensor, options: InterpolateOptions): tf.Tensor {
  checkInterpolateOptions(owner, options);
  const mode = options.mode ?? "nearest";
  const spatialDims = input.rank - 2;
  if (spatialDims !== 1 && spatialDims !== 2) {
    throw new FulmenError(
      `${owner}: expected [N, C, L] or [N, C, H, W] input, got shape [${input.shape}] (PyTorch wants the batch dimension too).`,
    );
  }
  if ((mode === "linear" && spatialDims !== 1) || (mode === "bilinear" && spatialDims !== 2)) {
    throw new FulmenError(
      `${owner}: got ${input.rank}-D input, but ${mode} mode needs ${mode === "linear" ? 3 : 4}-D input.`,
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
