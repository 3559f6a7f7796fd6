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
    /** The reduced axes, non-negative and sorted ascending. */
    axes,
    /** The product of the dimensions before the reduced axes (1 when there are none). */
    outer: tf.util.sizeFromShape(x.shape.slice(0, first)),
    /** The product of the reduced dimensions: how many values each output value reduces. */
    reduce: tf.util.sizeFromShape(x.shape.slice(first, last + 1)),
    /** The product of the dimensions after the reduced axes (1 when there are none). */
    inner: tf.util.sizeFromShape(x.shape.slice(last + 1)),
  };
}

/** The shape a reduction over `axes` leaves (ones in their place with `keepDims`). */
export function reducedShape(x: TensorInfo, axes: number[], keepDims: boolean): number[] {
  return keepDims
    ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : x.shape.filter((_, i) => !axes.includes(i));
}

/** A block of reduced axes: [outer, reduce, inner] of the row-major tensor. */
export type ReducedBlock = NonNullable<ReturnType<typeof reducedBlock>>;

/** Sorted axes split into runs of consecutive ones: [0, 2, 3] → [[0], [2, 3]]. */
function contiguousRuns(sortedAxes: number[]): number[][] {
  const runs: number[][] = [];
  for (const a of sortedAxes) {
    const last = runs.at(-1);
    if (last !== undefined && a === last.at(-1)! + 1) last.push(a);
    else runs.push([a]);
  }
  return runs;
}

/**
 * A reduction over axes in several runs ([0, 2, 3] of NCHW: a convolution's bias gradient) as one pass per run,
 * from the innermost out (so the outer runs' axis numbers still hold). `pass(input, block, shape)` reduces one
 * block into a new tensor of `shape`; `dispose` frees the intermediate ones. Each pass rounds to float32.
 */
export function reduceInRuns(
  x: TensorInfo,
  axis: number | number[],
  keepDims: boolean,
  pass: (input: TensorInfo, block: ReducedBlock, shape: number[]) => TensorInfo,
  dispose: (intermediate: TensorInfo) => void,
): TensorInfo {
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
  const runs = contiguousRuns(axes).reverse();
  const outShape = reducedShape(x, axes, keepDims);
  let current = x;
  for (const [i, run] of runs.entries()) {
    const shape = i === runs.length - 1 ? outShape : reducedShape(current, run, false);
    const next = pass(current, reducedBlock(current, run)!, shape);
    if (current !== x) dispose(current);
    current = next;
  }
  return current;
}

/** The attributes naming a reduction's axes (tfjs's Sum, Mean, Max, Min). */
export interface ReductionAttrs {
  /**
   * The axes Sum, Mean and Min reduce over (negative ones count from the end); absent or null: every axis.
   */
  axis?: number | number[];
  /** The axes Max reduces over (tfjs's name for them there); absent or null: every axis. */
  reductionIndices?: number | number[];
  /** Whether the reduced axes stay in the output's shape as dimensions of 1. */
  keepDims: boolean;
}

/**
 * The axes a reduction kernel reduces over, as its attributes name them: Max names them `reductionIndices`, the
 * others `axis`. Null or absent: every axis (tfjs's `parseAxisParam` reading).
 */
export function reductionAxes(kernelName: string, attrs: ReductionAttrs): number | number[] {
  return (kernelName === "Max" ? attrs.reductionIndices : attrs.axis) as number | number[];
}
