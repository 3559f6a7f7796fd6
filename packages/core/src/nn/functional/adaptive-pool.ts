import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { applyAlongAxis, sparseRows } from "./axis-matrix";
import { asBatch, spatialLayout } from "./conv";
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

/**
 * Adaptive max pooling over `[N, C, H, W]` (or `[C, H, W]`) input, like
 * `torch.nn.functional.adaptive_max_pool2d` without `returnIndices`: the maximum of each bin, the gradient to
 * its first maximum in row-major order (taken over columns, then rows, which finds the same entry).
 */
export function adaptiveMaxPool2d(input: tf.Tensor, outputSize: AdaptiveSize): tf.Tensor {
  return tf.tidy(() => {
    const owner = "adaptiveMaxPool2d";
    const { batch, spatial } = prepare(owner, input, 2);
    const [outH, outW] = adaptiveSizes(owner, outputSize, spatial);
    const cols = binMax(batch, 3, spatial[1]!, outW!);
    const y = binMax(cols, 2, spatial[0]!, outH!);
    return batch === input ? y : tf.squeeze(y, [0]);
  });
}

/**
 * Adaptive max pooling over `[N, C, L]` (or `[C, L]`) input, like `torch.nn.functional.adaptive_max_pool1d`
 * without `returnIndices`: the maximum of bin i, [⌊i·L/out⌋, ⌈(i + 1)·L/out⌉), the gradient to its first maximum.
 */
export function adaptiveMaxPool1d(input: tf.Tensor, outputSize: AdaptiveSize): tf.Tensor {
  return tf.tidy(() => {
    const owner = "adaptiveMaxPool1d";
    const { batch, spatial } = prepare(owner, input, 1);
    const [out] = adaptiveSizes(owner, outputSize, spatial);
    const y = binMax(batch, 2, spatial[0]!, out!);
    return batch === input ? y : tf.squeeze(y, [0]);
  });
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

/**
 * Adaptive max pooling over `[N, C, D, H, W]` (or `[C, D, H, W]`) input, like
 * `torch.nn.functional.adaptive_max_pool3d` without `returnIndices`: the maximum of each bin, the gradient to its
 * first maximum in depth-row-column order (taken over columns, then rows, then depth, which finds the same entry).
 */
export function adaptiveMaxPool3d(input: tf.Tensor, outputSize: AdaptiveSize): tf.Tensor {
  return tf.tidy(() => {
    const owner = "adaptiveMaxPool3d";
    const { batch, spatial } = prepare(owner, input, 3);
    const [outD, outH, outW] = adaptiveSizes(owner, outputSize, spatial);
    const cols = binMax(batch, 4, spatial[2]!, outW!);
    const rows = binMax(cols, 3, spatial[1]!, outH!);
    const y = binMax(rows, 2, spatial[0]!, outD!);
    return batch === input ? y : tf.squeeze(y, [0]);
  });
}
