import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkOptionNames } from "../../utils/options";
import { applyAlongAxis, sparseRows } from "./axis-matrix";
import { asBatch, spatialLayout } from "./conv";
import { firstMaximum } from "./max-indices";
import { maxOverTaps } from "./pool";

/** An adaptive pooling's output size: one per spatial dimension, `null` keeping the input's size there. */
export type AdaptiveSize = number | null | readonly (number | null)[];

/** PyTorch's adaptive bins along an axis of `length`: bin i covers [⌊i·L/out⌋, ⌈(i + 1)·L/out⌉). */
function bins(length: number, out: number): Array<[number, number]> {
  return Array.from({ length: out }, (_, i) => [
    Math.floor((i * length) / out),
    Math.ceil(((i + 1) * length) / out),
  ]);
}

/** The output size per spatial dimension, `null` (PyTorch's None) meaning the input's own. */
export function adaptiveSizes(owner: string, size: AdaptiveSize, spatial: readonly number[]): number[] {
  const n = spatial.length;
  const list = Array.isArray(size) ? size : Array.from({ length: n }, () => size as number | null);
  if (list.length !== n || list.some((v) => v !== null && (!Number.isInteger(v) || v < 1))) {
    throw new FulmenError(
      `${owner}: outputSize must be a positive integer (or null) or ${n} of them, got ${JSON.stringify(size)}.`,
    );
  }
  return list.map((v, i) => v ?? spatial[i]!);
}

/** The batched input, its spatial sizes, and whether it came unbatched. */
function prepare(
  owner: string,
  x: tf.Tensor,
  spatialDims: 1 | 2 | 3,
): { batch: tf.Tensor; spatial: number[] } {
  const batch = asBatch(owner, x, spatialDims, spatialLayout(spatialDims));
  const spatial = batch.shape.slice(2);
  if (spatial.some((s) => s < 1)) {
    throw new FulmenError(`${owner}: input of shape [${x.shape}] has an empty spatial dimension.`);
  }
  return { batch, spatial };
}

/**
 * Adaptive average pooling over the last `spatialDims` axes: per axis a matrix that averages each bin (bins
 * may overlap and differ in size, as PyTorch's), so the gradient spreads each output's over its bin.
 */
export function adaptiveAvg(
  owner: string,
  spatialDims: 1 | 2 | 3,
  x: tf.Tensor,
  size: AdaptiveSize,
): tf.Tensor {
  return tf.tidy(() => {
    const { batch, spatial } = prepare(owner, x, spatialDims);
    const outs = adaptiveSizes(owner, size, spatial);
    let y = batch;
    spatial.forEach((length, d) => {
      const out = outs[d]!;
      if (out === length) return;
      const entries: Array<[number, number, number]> = [];
      bins(length, out).forEach(([start, end], i) => {
        for (let j = start; j < end; j++) entries.push([i, j, 1 / (end - start)]);
      });
      y = applyAlongAxis(y, 2 + d, sparseRows(out, length, entries), out);
    });
    return batch === x ? y : tf.squeeze(y, [0]);
  });
}

/**
 * The maximum of each bin along one axis, its gradient going to the bin's first maximum: the bin's taps
 * gathered one slice per offset (a shorter bin repeats its last entry, which never comes first).
 */
function binMax(x: tf.Tensor, axis: number, length: number, out: number): tf.Tensor {
  const ranges = bins(length, out);
  const widest = Math.max(...ranges.map(([s, e]) => e - s));
  const taps = Array.from({ length: widest }, (_, k) =>
    tf.gather(
      x,
      tf.tensor1d(
        ranges.map(([s, e]) => Math.min(s + k, e - 1)),
        "int32",
      ),
      axis,
    ),
  );
  return maxOverTaps(tf.stack(taps));
}

/** Adaptive average pooling over `[N, C, L]` (or `[C, L]`) input, like `torch.nn.functional.adaptive_avg_pool1d`. */
export function adaptiveAvgPool1d(input: tf.Tensor, outputSize: AdaptiveSize): tf.Tensor {
  return adaptiveAvg("adaptiveAvgPool1d", 1, input, outputSize);
}

/**
 * Adaptive average pooling over `[N, C, H, W]` (or `[C, H, W]`) input, like
 * `torch.nn.functional.adaptive_avg_pool2d`: bin i of an axis covers [⌊i·L/out⌋, ⌈(i + 1)·L/out⌉).
 */
export function adaptiveAvgPool2d(input: tf.Tensor, outputSize: AdaptiveSize): tf.Tensor {
  return adaptiveAvg("adaptiveAvgPool2d", 2, input, outputSize);
}

/**
 * Adaptive average pooling over `[N, C, D, H, W]` (or `[C, D, H, W]`) input, like
 * `torch.nn.functional.adaptive_avg_pool3d`: bin i of an axis covers [⌊i·L/out⌋, ⌈(i + 1)·L/out⌉).
 */
export function adaptiveAvgPool3d(input: tf.Tensor, outputSize: AdaptiveSize): tf.Tensor {
  return adaptiveAvg("adaptiveAvgPool3d", 3, input, outputSize);
}

/** Options of the adaptive max poolings. */
export interface AdaptiveMaxPoolOptions {
  /**
   * Also return each maximum's flat position within its input plane, int32 (default false), as PyTorch's
   * `return_indices`: the result is then `[output, indices]`.
   */
  returnIndices?: boolean;
}

/** Every combination of `[0, sizes[i])`, in row-major order. */
function combinations(sizes: readonly number[]): number[][] {
  return sizes.reduce<number[][]>(
    (acc, size) => acc.flatMap((prefix) => Array.from({ length: size }, (_, i) => [...prefix, i])),
    [[]],
  );
}

/** Each adaptive bin's first maximum: its flat position in the input plane, `[N, C, ...outs]` int32. */
function binIndices(batch: tf.Tensor, spatial: readonly number[], outs: readonly number[]): tf.Tensor {
  const ranges = spatial.map((length, d) => bins(length, outs[d]!));
  const widest = ranges.map((r) => Math.max(...r.map(([start, end]) => end - start)));
  const strides = spatial.map((_, i) => spatial.slice(i + 1).reduce((a, b) => a * b, 1));
  const positions = combinations(outs);
  // tap k of bin i along axis d; a shorter bin repeats its last entry, which is never greater than itself
  const at = (d: number, i: number, k: number) => Math.min(ranges[d]![i]![0] + k, ranges[d]![i]![1] - 1);
  const planes = tf.reshape(batch, [-1, ...spatial]);
  const taps = combinations(widest).map((k) => (): [tf.Tensor, number[]] => {
    let values: tf.Tensor = planes;
    spatial.forEach((_, d) => {
      const along = ranges[d]!.map((_, i) => at(d, i, k[d]!));
      values = tf.gather(values, tf.tensor1d(along, "int32"), d + 1);
    });
    return [values, positions.map((o) => o.reduce((sum, i, d) => sum + at(d, i, k[d]!) * strides[d]!, 0))];
  });
  const first = positions.map((o) => o.reduce((sum, i, d) => sum + ranges[d]![i]![0] * strides[d]!, 0));
  const index = firstMaximum(taps, first, [planes.shape[0]!, ...outs]);
  return tf.reshape(index, [...batch.shape.slice(0, 2), ...outs]);
}

/**
 * The maximum of every adaptive bin over the last `dims` axes (the last axis first, then the ones before it,
 * which finds each bin's first maximum in scan order for the gradient), and with `returnIndices` the indices.
 */
function adaptiveMax(
  owner: string,
  dims: 1 | 2 | 3,
  input: tf.Tensor,
  outputSize: AdaptiveSize,
  options: AdaptiveMaxPoolOptions,
): tf.Tensor | [tf.Tensor, tf.Tensor] {
  checkOptionNames(owner, options, ["returnIndices"]);
  return tf.tidy(() => {
    const { batch, spatial } = prepare(owner, input, dims);
    const outs = adaptiveSizes(owner, outputSize, spatial);
    const unbatch = (t: tf.Tensor) => (batch === input ? t : tf.squeeze(t, [0]));
    let y = batch;
    for (let d = dims - 1; d >= 0; d--) y = binMax(y, 2 + d, spatial[d]!, outs[d]!);
    if (!options.returnIndices) return unbatch(y);
    return [unbatch(y), unbatch(binIndices(batch, spatial, outs))] as [tf.Tensor, tf.Tensor];
  });
}

/**
 * Adaptive max pooling over `[N, C, L]` (or `[C, L]`) input, like `torch.nn.functional.adaptive_max_pool1d`: the
 * maximum of bin i, [⌊i·L/out⌋, ⌈(i + 1)·L/out⌉), the gradient to its first maximum; with `returnIndices`,
 * `[output, indices]`.
 */
export function adaptiveMaxPool1d(
  input: tf.Tensor,
  outputSize: AdaptiveSize,
  options: AdaptiveMaxPoolOptions & { returnIndices: true },
): [tf.Tensor, tf.Tensor];
/** Adaptive max pooling over `[N, C, L]` (or `[C, L]`) input. */
export function adaptiveMaxPool1d(
  input: tf.Tensor,
  outputSize: AdaptiveSize,
  options?: AdaptiveMaxPoolOptions,
): tf.Tensor;
export function adaptiveMaxPool1d(
  input: tf.Tensor,
  outputSize: AdaptiveSize,
  options: AdaptiveMaxPoolOptions = {},
): tf.Tensor | [tf.Tensor, tf.Tensor] {
  return adaptiveMax("adaptiveMaxPool1d", 1, input, outputSize, options);
}

/**
 * Adaptive max pooling over `[N, C, H, W]` (or `[C, H, W]`) input, like `torch.nn.functional.adaptive_max_pool2d`:
 * the maximum of each bin, the gradient to its first maximum in row-major order; with `returnIndices`,
 * `[output, indices]`.
 */
export function adaptiveMaxPool2d(
  input: tf.Tensor,
  outputSize: AdaptiveSize,
  options: AdaptiveMaxPoolOptions & { returnIndices: true },
): [tf.Tensor, tf.Tensor];
/** Adaptive max pooling over `[N, C, H, W]` (or `[C, H, W]`) input. */
export function adaptiveMaxPool2d(
  input: tf.Tensor,
  outputSize: AdaptiveSize,
  options?: AdaptiveMaxPoolOptions,
): tf.Tensor;
export function adaptiveMaxPool2d(
  input: tf.Tensor,
  outputSize: AdaptiveSize,
  options: AdaptiveMaxPoolOptions = {},
): tf.Tensor | [tf.Tensor, tf.Tensor] {
  return adaptiveMax("adaptiveMaxPool2d", 2, input, outputSize, options);
}

/**
 * Adaptive max pooling over `[N, C, D, H, W]` (or `[C, D, H, W]`) input, like
 * `torch.nn.functional.adaptive_max_pool3d`: the maximum of each bin, the gradient to its first maximum; with
 * `returnIndices`, `[output, indices]`.
 */
export function adaptiveMaxPool3d(
  input: tf.Tensor,
  outputSize: AdaptiveSize,
  options: AdaptiveMaxPoolOptions & { returnIndices: true },
): [tf.Tensor, tf.Tensor];
/** Adaptive max pooling over `[N, C, D, H, W]` (or `[C, D, H, W]`) input. */
export function adaptiveMaxPool3d(
  input: tf.Tensor,
  outputSize: AdaptiveSize,
  options?: AdaptiveMaxPoolOptions,
): tf.Tensor;
export function adaptiveMaxPool3d(
  input: tf.Tensor,
  outputSize: AdaptiveSize,
  options: AdaptiveMaxPoolOptions = {},
): tf.Tensor | [tf.Tensor, tf.Tensor] {
  return adaptiveMax("adaptiveMaxPool3d", 3, input, outputSize, options);
}
