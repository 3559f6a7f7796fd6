import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { everyNth, planAxis } from "./pool";

/**
 * The indices of max pooling's `returnIndices` and their inverse, max unpooling (`F.max_unpool1d/2d/3d`): each
 * output's flat position within its input plane (`h·W + w`, `d·H·W + h·W + w`), the first maximum of its window
 * in scan order (a NaN counts as the maximum, the last NaN winning), as PyTorch's CPU kernels pick it.
 */

/** A max pooling's windows in any number of spatial dimensions. */
export interface PoolWindows {
  /** The window, one size per spatial dimension. */
  kernel: readonly number[];
  /** The step between windows. */
  stride: readonly number[];
  /** The implicit padding on both sides. */
  padding: readonly number[];
  /** The spacing between a window's taps. */
  dilation: readonly number[];
  /** Whether the output size is rounded up. */
  ceilMode: boolean;
}

/** Every combination of `[0, sizes[i])`, in row-major order. */
function grid(sizes: readonly number[]): number[][] {
  return sizes.reduce<number[][]>(
    (acc, size) => acc.flatMap((prefix) => Array.from({ length: size }, (_, i) => [...prefix, i])),
    [[]],
  );
}

/**
 * The int32 indices `[N, C, ...out]` of the maximum of each window of a batched `x` `[N, C, ...spatial]`: the
 * flat position of that element within its `[...spatial]` plane.
 */
export function maxPoolIndices(x: tf.Tensor, windows: PoolWindows): tf.Tensor {
  const spatial = x.shape.slice(2);
  const dims = spatial.length;
  const extents = windows.kernel.map((k, i) => (k - 1) * windows.dilation[i]! + 1);
  const plans = spatial.map((length, i) =>
    planAxis(length, extents[i]!, windows.stride[i]!, windows.padding[i]!, windows.ceilMode),
  );
  const outs = plans.map((p) => p.out);
  const strides = spatial.map((_, i) => spatial.slice(i + 1).reduce((a, b) => a * b, 1));
  const positions = grid(outs);
  const taps = grid(windows.kernel);
  const coordinate = (o: number[], t: number[], i: number) =>
    o[i]! * windows.stride[i]! - windows.padding[i]! + t[i]! * windows.dilation[i]!;
  const inside = (o: number[], t: number[]) =>
    t.every((_, i) => coordinate(o, t, i) >= 0 && coordinate(o, t, i) < spatial[i]!);
  const flatIndex = (o: number[], t: number[]) =>
    t.reduce((sum, _, i) => sum + coordinate(o, t, i) * strides[i]!, 0);
  return tf.tidy(() => {
    const planes = tf.reshape(x, [-1, ...spatial]);
    const padded = tf.pad(
      planes,
      [[0, 0] as [number, number], ...plans.map((p): [number, number] => [p.before, Math.max(p.after, 0)])],
      Number.NEGATIVE_INFINITY,
    );
    // PyTorch starts each window at its first in-bounds tap with a maximum of −∞
    const first = positions.map((o) => {
      const t = taps.find((tap) => inside(o, tap));
      return t === undefined ? 0 : flatIndex(o, t);
    });
    const index = firstMaximum(
      taps.map((t) => () => {
        let values: tf.Tensor = padded;
        for (let i = 0; i < dims; i++) {
          values = everyNth(values, i + 1, t[i]! * windows.dilation[i]!, outs[i]!, windows.stride[i]!);
        }
        return [values, positions.map((o) => flatIndex(o, t))];
      }),
      first,
      [planes.shape[0]!, ...outs],
    );
    return tf.reshape(index, [...x.shape.slice(0, 2), ...outs]);
  });
}

/**
 * The index of each window's first maximum in scan order, as PyTorch's CPU kernels pick it: starting from
 * `first` with a maximum of −∞, a tap replaces the current one when its value is greater or NaN. Each tap gives
 * its values `[P, ...out]` and its positions' indices `[...out]`. Returns int32 `[P, ...out]`.
 */
export function firstMaximum(
  taps: Array<() => [tf.Tensor, number[]]>,
  first: number[],
  shape: number[],
): tf.Tensor {
  const outs = shape.slice(1);
  let index: tf.Tensor = tf.broadcastTo(tf.tensor(first, outs, "int32"), shape);
  let best: tf.Tensor = tf.fill(shape, Number.NEGATIVE_INFINITY);
  for (const tap of taps) {
    const [values, indices] = tap();
    const better = tf.logicalOr(tf.greater(values, best), tf.isNaN(values));
    best = tf.where(better, values, best);
    index = tf.where(better, tf.broadcastTo(tf.tensor(indices, outs, "int32"), shape), index);
  }
  return index;
}

/** Options of the max unpoolings, PyTorch's keywords (stride defaults to the kernel size). */
export interface MaxUnpoolOptions {
  /** The pooling's stride (default: the kernel size). */
  stride?: number | readonly number[];
  /** The pooling's padding (default 0). */
  padding?: number | readonly number[];
  /** The output's spatial size (or its full shape) where the default `(in − 1)·stride − 2·padding + kernel` is not it. */
  outputSize?: readonly number[] | null;
}

/**
 * Places each value of `x` `[N, C, ...in]` at its index of `indices` (as max pooling with `returnIndices` gave
 * them) in a zero output `[N, C, ...out]`. Where two values share an index the later one stays, as PyTorch's CPU
 * kernel writes them; the gradient of every value is the output gradient at its index, as PyTorch's.
 */
export function maxUnpool(
  owner: string,
  x: tf.Tensor,
  indices: tf.Tensor,
  outSpatial: readonly number[],
): tf.Tensor {
  if (indices.dtype !== "int32" || indices.shape.join() !== x.shape.join()) {
    throw new FulmenError(
      `${owner}: indices must be an int32 tensor of the input's shape [${x.shape}] (max pooling's returnIndices), got ${indices.dtype} [${indices.shape}].`,
    );
  }
  const planes = x.shape.slice(0, 2).reduce((a, b) => a * b, 1);
  const inSize = x.size / Math.max(planes, 1);
  const outSize = outSpatial.reduce((a, b) => a * b, 1);
  const idx = indices.dataSync();
  // for every output position, the last input element written there (or the zero appended after the input)
  const source = new Int32Array(planes * outSize).fill(x.size);
  for (let p = 0; p < planes; p++) {
    for (let i = 0; i < inSize; i++) {
      const target = idx[p * inSize + i]!;
      if (target < 0 || target >= outSize) {
        throw new FulmenError(
          `${owner}: index ${target} is outside the output's ${outSize} positions per plane (spatial size [${outSpatial}]); pass the outputSize the pooling's input had.`,
        );
      }
      source[p * outSize + target] = p * inSize + i;
    }
  }
  const readsOf = Array.from(idx, (target, k) => Math.floor(k / inSize) * outSize + target);
  const op = tf.customGrad((v: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const input = v as tf.Tensor;
    (save as tf.GradSaveFunc)([tf.tensor1d(readsOf, "int32")]);
    const value = tf.tidy(() => {
      const flat = tf.concat([tf.reshape(input, [-1]), tf.zeros([1], input.dtype)]);
      return tf.reshape(tf.gather(flat, tf.tensor1d(source, "int32")), [
        ...x.shape.slice(0, 2),
        ...outSpatial,
      ]);
    });
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => tf.reshape(tf.gather(tf.reshape(dy, [-1]), saved[0]!), x.shape)),
    };
  });
  return op(x);
}
