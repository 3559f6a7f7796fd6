import { tf } from "@fulmen/core";
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { HostEngineBackend } from "./host-backend";
import type { KernelFactory } from "./kernel-factory";
import type { NativeEngine } from "./native-engine";
import { type SplitAttrs, splitPlan } from "./split-plan";

/** Softmax over the last axis (the only one tfjs supports). */
const softmaxKernel: KernelFactory = (engine, fallback) => (args) => {
  const { logits } = args.inputs as { logits: TensorInfo };
  const backend = args.backend as HostEngineBackend;
  const { dim } = args.attrs as { dim: number };
  const last = logits.shape.length - 1;
  if (logits.dtype !== "float32" || (dim !== -1 && dim !== last) || tf.util.sizeFromShape(logits.shape) === 0)
    return backend.runFallback("Softmax", fallback, args);
  const cols = logits.shape[last]!;
  const out = backend.allocate(Float32Array, tf.util.sizeFromShape(logits.shape));
  engine.softmax(backend.floats(logits), out, out.length / cols, cols);
  return backend.makeTensorInfo(logits.shape, "float32", out);
};

/** Sums rows of `x` by segment id: the gradient of an embedding lookup (one-dimensional ids). */
const unsortedSegmentSumKernel: KernelFactory = (engine, fallback) => (args) => {
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const backend = args.backend as HostEngineBackend;
  const { numSegments } = args.attrs as { numSegments: number };
  const ids = backend.stored(segmentIds);
  if (x.dtype !== "float32" || segmentIds.shape.length !== 1 || !(ids instanceof Int32Array))
    return backend.runFallback("UnsortedSegmentSum", fallback, args);
  const inner = tf.util.sizeFromShape(x.shape.slice(1));
  const outShape = [numSegments, ...x.shape.slice(1)];
  const out = backend.allocate(Float32Array, tf.util.sizeFromShape(outShape));
  if (out.length > 0) engine.unsortedSegmentSum(backend.floats(x), ids, out, x.shape[0]!, inner, numSegments);
  return backend.makeTensorInfo(outShape, "float32", out);
};

/** Splits along one axis: each output takes its slab of every outer row (plain memory copies). */
const splitVKernel: KernelFactory = (engine, fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const backend = args.backend as HostEngineBackend;
  const values = backend.stored(x);
  if (!(values instanceof Float32Array || values instanceof Int32Array))
    return backend.runFallback("SplitV", fallback, args);
  const { outer, row, pieces } = splitPlan(x, args.attrs as unknown as SplitAttrs);
  return pieces.map(({ shape, offset, width }) => {
    const out = backend.allocate(
      values.constructor as Float32ArrayConstructor | Int32ArrayConstructor,
      outer * width,
    );
    engine.copySlabs(values, offset, row, out, 0, width, outer, width);
    return backend.makeTensorInfo(shape, x.dtype, out);
  });
};

/**
 * Gathers slices along one axis (embedding lookups): memory copies of whole inner blocks. Batch dimensions,
 * other dtypes and out-of-range indices (tfjs's kernel names them in its error) go to tfjs's kernel.
 */
const gatherV2Kernel: KernelFactory = (_engine, fallback) => (args) => {
  const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
  const backend = args.backend as HostEngineBackend;
  const { axis, batchDims } = args.attrs as { axis: number; batchDims?: number };
  const values = backend.stored(x);
  const ids = backend.stored(indices);
  const $axis = tf.util.parseAxisParam(axis, x.shape)[0]!;
  const depth = x.shape[$axis]!;
  if (
    (batchDims ?? 0) !== 0 ||
    !(values instanceof Float32Array || values instanceof Int32Array) ||
    !(ids instanceof Int32Array) ||
    ids.some((i) => i < 0 || i >= depth)
  )
    return backend.runFallback("GatherV2", fallback, args);
  const outer = tf.util.sizeFromShape(x.shape.slice(0, $axis));
  const inner = tf.util.sizeFromShape(x.shape.slice($axis + 1));
  const outShape = [...x.shape.slice(0, $axis), ...indices.shape, ...x.shape.slice($axis + 1)];
  const out = backend.allocate(
    values.constructor as Float32ArrayConstructor | Int32ArrayConstructor,
    tf.util.sizeFromShape(outShape),
  );
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (const index of ids) {
      const start = (o * depth + index) * inner;
      out.set(values.subarray(start, start + inner), at);
      at += inner;
    }
  }
  return backend.makeTensorInfo(outShape, x.dtype, out);
};

/** The typed array constructor of float32 and int32 tensors (what the slab copies take), else null. */
function slabStorage(dtype: string): Float32ArrayConstructor | Int32ArrayConstructor | null {
  return dtype === "float32" ? Float32Array : dtype === "int32" ? Int32Array : null;
}

/**
 * Lays inputs side by side in every outer row of `out`: input i's rows (of `slabs[i]` elements each) go to
 * consecutive columns of out's rows — Concat along an inner axis, and Pack, which is Concat on a new axis.
 */
function joinSlabs(
  engine: NativeEngine,
  arrays: Array<Float32Array | Int32Array>,
  slabs: number[],
  out: Float32Array | Int32Array,
  outer: number,
): void {
  const rowLength = slabs.reduce((p, n) => p + n, 0);
  let at = 0;
  for (const [i, values] of arrays.entries()) {
    engine.copySlabs(values, 0, slabs[i]!, out, at, rowLength, outer, slabs[i]!);
    at += slabs[i]!;
  }
}

/** Concatenates along one axis: each input's slab of every outer row, copied in order. */
const concatKernel: KernelFactory = (engine, fallback) => (args) => {
  const inputs = args.inputs as unknown as TensorInfo[];
  const backend = args.backend as HostEngineBackend;
  const { axis } = args.attrs as { axis: number };
  const first = inputs[0];
  const dtype = first?.dtype;
  const arrays = inputs.map((t) => backend.stored(t));
  const storage = dtype === undefined ? null : slabStorage(dtype);
  if (
    first === undefined ||
    storage === null ||
    !arrays.every((a, i) => a instanceof storage && inputs[i]!.dtype === dtype)
  )
    return backend.runFallback("Concat", fallback, args);
  const $axis = tf.util.parseAxisParam(axis, first.shape)[0]!;
  // tfjs's own check, with its error naming the mismatched shapes.
  tf.backend_util.assertParamsConsistent(
    inputs.map((t) => t.shape),
    $axis,
  );
  const outShape = tf.backend_util.computeOutShape(
    inputs.map((t) => t.shape),
    $axis,
  );
  const outer = tf.util.sizeFromShape(first.shape.slice(0, $axis));
  const slabs = inputs.map((t) => tf.util.sizeFromShape(t.shape.slice($axis)));
  const rowLength = slabs.reduce((p, n) => p + n, 0);
  const out = backend.allocate(storage, outer * rowLength);
  joinSlabs(engine, arrays as Array<Float32Array | Int32Array>, slabs, out, outer);
  return backend.makeTensorInfo(outShape, dtype!, out);
};

/** Stacks equal-shaped tensors along a new axis: input i fills slab i of every outer row. */
const packKernel: KernelFactory = (engine, fallback) => (args) => {
  const inputs = args.inputs as unknown as TensorInfo[];
  const backend = args.backend as HostEngineBackend;
  const { axis } = args.attrs as { axis: number };
  const first = inputs[0];
  const storage = first === undefined ? null : slabStorage(first.dtype);
  const arrays = inputs.map((t) => backend.stored(t));
  if (
    first === undefined ||
    storage === null ||
    !arrays.every(
      (a, i) =>
        a instanceof storage &&
        inputs[i]!.dtype === first.dtype &&
        tf.util.arraysEqual(inputs[i]!.shape, first.shape),
    )
  )
    return backend.runFallback("Pack", fallback, args);
  const $axis = axis < 0 ? axis + first.shape.length + 1 : axis;
  const outShape = [...first.shape.slice(0, $axis), inputs.length, ...first.shape.slice($axis)];
  const outer = tf.util.sizeFromShape(first.shape.slice(0, $axis));
  const slab = tf.util.sizeFromShape(first.shape.slice($axis));
  const out = backend.allocate(storage, outer * slab * inputs.length);
  joinSlabs(
    engine,
    arrays as Array<Float32Array | Int32Array>,
    inputs.map(() => slab),
    out,
    outer,
  );
  return backend.makeTensorInfo(outShape, first.dtype, out);
};

/** Unstacks along an axis: output i takes slab i of every outer row. */
const unpackKernel: KernelFactory = (engine, fallback) => (args) => {
  const { value } = args.inputs as { value: TensorInfo };
  const backend = args.backend as HostEngineBackend;
  const { axis } = args.attrs as { axis: number };
  const values = backend.stored(value);
  const storage = slabStorage(value.dtype);
  if (storage === null || !(values instanceof storage)) return backend.runFallback("Unpack", fallback, args);
  const $axis = tf.util.parseAxisParam(axis, value.shape)[0]!;
  const count = value.shape[$axis]!;
  const outShape = value.shape.filter((_, i) => i !== $axis);
  const outer = tf.util.sizeFromShape(value.shape.slice(0, $axis));
  const inner = tf.util.sizeFromShape(value.shape.slice($axis + 1));
  return Array.from({ length: count }, (_, i) => {
    const out = backend.allocate(storage, outer * inner);
    engine.copySlabs(
      values as Float32Array | Int32Array,
      i * inner,
      count * inner,
      out,
      0,
      inner,
      outer,
      inner,
    );
    return backend.makeTensorInfo(outShape, value.dtype, out);
  });
};

/** The engine's row-wise kernels, by tfjs kernel name. */
export const ROW_KERNELS: Record<string, KernelFactory> = {
  Softmax: softmaxKernel,
  UnsortedSegmentSum: unsortedSegmentSumKernel,
  SplitV: splitVKernel,
  GatherV2: gatherV2Kernel,
  Concat: concatKernel,
  Pack: packKernel,
  Unpack: unpackKernel,
};
