import { tf } from "@fulmen/core";
import type { TensorInfo } from "@tensorflow/tfjs-core";

/**
 * The reduced axes as one block [outer, reduce, inner] of the row-major tensor, when they are contiguous (else
 * null: tfjs's kernel transposes first). The host and device backends' reductions share it.
 */
export function reducedBlock(x: TensorInfo, axis: number | number[]) {
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
  const contiguous = axes.length > 0 && axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1);
  if (!contiguous) return null;
  const first = axes[0]!;
  const last = axes.at(-1)!;
  return {
    axes,
    outer: tf.util.sizeFromShape(x.shape.slice(0, first)),
    reduce: tf.util.sizeFromShape(x.shape.slice(first, last + 1)),
    inner: tf.util.sizeFromShape(x.shape.slice(last + 1)),
  };
}

/** The shape a reduction over `axes` leaves (ones in their place with `keepDims`). */
export function reducedShape(x: TensorInfo, axes: number[], keepDims: boolean): number[] {
  return keepDims
    ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !axes.includes(i));
}
