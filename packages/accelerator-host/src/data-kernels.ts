import { tf } from "@fulmen/core";
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { PooledArrayConstructor } from "./buffer-pool";
import type { HostEngineBackend } from "./host-backend";
import type { KernelFactory } from "./kernel-factory";

/** Typed-array storage of the numeric dtypes the engine keeps (bool as bytes, as tfjs's CPU backend does). */
function storageOf(dtype: tf.DataType): PooledArrayConstructor | null {
  if (dtype === "float32") return Float32Array;
  if (dtype === "int32") return Int32Array;
  if (dtype === "bool") return Uint8Array;
  return null;
}

/**
 * Casts between float32, int32 and bool. Narrowing ones (float32 to int32 or bool, int32 to bool) convert by
 * typed-array assignment exactly as tfjs's `Int32Array.from` does (truncation, NaN and ±∞ to 0, wrapping); bool
 * is `x !== 0`. Widening ones share the memory, as tfjs's kernel does, so exact integers stay exact.
 */
const castKernel: KernelFactory = (_engine, fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { dtype } = args.attrs as { dtype: tf.DataType };
  const backend = args.backend as HostEngineBackend;
  const source = backend.stored(x);
  const target = storageOf(dtype);
  if (storageOf(x.dtype) !== null && target !== null && !tf.util.hasEncodingLoss(x.dtype, dtype)) {
    // Same dtype or widening: tfjs keeps the memory (exact integers stay exact), one more reference to it.
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype };
  }
  const narrowing =
    (x.dtype === "float32" && dtype !== "float32") || (x.dtype === "int32" && dtype === "bool");
  if (
    target === null ||
    !narrowing ||
    !(source instanceof Float32Array || source instanceof Int32Array || source instanceof Uint8Array)
  )
    return backend.runFallback("Cast", fallback, args);
  const out = backend.allocate(target, source.length);
  if (dtype === "bool") for (let i = 0; i < source.length; i++) out[i] = source[i] !== 0 ? 1 : 0;
  else out.set(source);
  return backend.makeTensorInfo(x.shape, dtype, out);
};

/** tfjs's OneHot attributes. */
export interface OneHotAttrs {
  /**
   * The length of each one-hot row: the output's last dimension (indices outside [0, depth) give all-off
   * rows).
   */
  depth: number;
  /** The value at each row's index. */
  onValue: number;
  /** The value everywhere else. */
  offValue: number;
  /** The output's dtype (the engines run float32 and int32; others go to tfjs's kernel). */
  dtype: tf.DataType;
}

/** One-hot rows of `offValue` with `onValue` at each in-range index (float32 or int32). */
const oneHotKernel: KernelFactory = (_engine, fallback) => (args) => {
  const { indices } = args.inputs as { indices: TensorInfo };
  const { depth, onValue, offValue, dtype } = args.attrs as unknown as OneHotAttrs;
  const backend = args.backend as HostEngineBackend;
  const ids = backend.stored(indices);
  const storage = dtype === "float32" ? Float32Array : dtype === "int32" ? Int32Array : null;
  if (storage === null || !(ids instanceof Int32Array)) return backend.runFallback("OneHot", fallback, args);
  const out = backend.allocate(storage, ids.length * depth);
  out.fill(offValue);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (id >= 0 && id < depth) out[i * depth + id] = onValue;
  }
  return backend.makeTensorInfo([...indices.shape, depth], dtype, out);
};

/**
 * Calls `visit(index, at)` for every run of the innermost axis of a row-major `shape` (at least rank 1): `index`
 * the run's coordinates on the outer axes (one array, updated in place: read it, do not keep it), `at` its first
 * element. The walk the data-movement kernels below share, each mapping a run to its place elsewhere.
 */
function forEachRow(shape: readonly number[], visit: (index: readonly number[], at: number) => void): void {
  const rank = shape.length;
  const inner = shape[rank - 1]!;
  const length = tf.util.sizeFromShape(shape as number[]);
  const index = new Array<number>(rank - 1).fill(0);
  for (let at = 0; at < length; at += inner) {
    visit(index, at);
    for (let d = rank - 2; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
}

/**
 * Slice of a float32/int32 tensor: a view on the input's memory when the slice is one contiguous block (as
 * tfjs's kernel returns), otherwise its rows of the innermost dimension copied run by run.
 */
const sliceKernel: KernelFactory = (_engine, fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const backend = args.backend as HostEngineBackend;
  const values = backend.stored(x);
  if (!(values instanceof Float32Array || values instanceof Int32Array))
    return backend.runFallback("Slice", fallback, args);
  const attrs = args.attrs as { begin: number | number[]; size: number | number[] };
  const [begin, sizes] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, attrs.begin, attrs.size);
  tf.slice_util.assertParamsValid(x as unknown as tf.Tensor, begin, sizes);
  const strides = tf.util.computeStrides(x.shape);
  const length = tf.util.sizeFromShape(sizes);
  if (tf.slice_util.isSliceContinous(x.shape, begin, sizes)) {
    const offset = tf.slice_util.computeFlatOffset(begin, strides);
    return backend.makeTensorInfo(sizes, x.dtype, values.subarray(offset, offset + length));
  }
  const out = backend.allocate(values.constructor as Float32ArrayConstructor | Int32ArrayConstructor, length);
  const rank = sizes.length;
  const inner = sizes[rank - 1]!;
  forEachRow(sizes, (index, at) => {
    let offset = begin[rank - 1]!;
    for (let d = 0; d < rank - 1; d++) offset += (begin[d]! + index[d]!) * strides[d]!;
    out.set(values.subarray(offset, offset + inner), at);
  });
  return backend.makeTensorInfo(sizes, x.dtype, out);
};

/** A tensor of `shape` filled with `value`, from the engine's recycled memory. */
function filled(
  backend: HostEngineBackend,
  shape: number[],
  dtype: tf.DataType,
  value: number,
): TensorInfo | null {
  const storage = storageOf(dtype);
  if (storage === null) return null;
  const out = backend.allocate(storage, tf.util.sizeFromShape(shape));
  out.fill(value);
  return backend.makeTensorInfo(shape, dtype, out);
}

const fillKernel: KernelFactory = (_engine, fallback) => (args) => {
  const { shape, value, dtype } = args.attrs as { shape: number[]; value: number; dtype?: tf.DataType };
  const backend = args.backend as HostEngineBackend;
  const out = typeof value === "number" ? filled(backend, shape, dtype ?? "float32", value) : null;
  return out ?? backend.runFallback("Fill", fallback, args);
};

const likeKernel =
  (kernelName: "ZerosLike" | "OnesLike", value: number): KernelFactory =>
  (_engine, fallback) =>
  (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as HostEngineBackend;
    return filled(backend, x.shape, x.dtype, value) ?? backend.runFallback(kernelName, fallback, args);
  };

/** ArgMax along one axis of a float32 tensor: the first index of the largest value (NaN never wins), as tfjs. */
const argMaxKernel: KernelFactory = (_engine, fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { axis } = args.attrs as { axis: number | number[] };
  const backend = args.backend as HostEngineBackend;
  const values = backend.stored(x);
  const axes = tf.util.parseAxisParam(axis, x.shape);
  if (!(values instanceof Float32Array) || axes.length !== 1 || x.shape[axes[0]!] === 0)
    return backend.runFallback("ArgMax", fallback, args);
  const a = axes[0]!;
  const outer = tf.util.sizeFromShape(x.shape.slice(0, a));
  const reduce = x.shape[a]!;
  const inner = tf.util.sizeFromShape(x.shape.slice(a + 1));
  const out = backend.allocate(Int32Array, outer * inner);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const base = o * reduce * inner + i;
      let best = values[base]!;
      let bestIndex = 0;
      for (let r = 1; r < reduce; r++) {
        const v = values[base + r * inner]!;
        if (v > best) {
          best = v;
          bestIndex = r;
        }
      }
      out[o * inner + i] = bestIndex;
    }
  return backend.makeTensorInfo(
    x.shape.filter((_, d) => d !== a),
    "int32",
    out,
  );
};

/**
 * tfjs's range, step by step in the output array (each value is the stored previous one plus the step, rounded
 * as the array stores it), from the engine's recycled memory.
 */
/** tfjs's Range attributes. */
export interface RangeAttrs {
  /** The first value. */
  start: number;
  /** The end, excluded. */
  stop: number;
  /** The difference between consecutive values; a step of 1 with `stop < start` counts down, as in tfjs. */
  step: number;
  /** The output's dtype (`rangeValues` makes float32 and int32 values; null for others). */
  dtype: tf.DataType;
}

/**
 * tfjs's range values, into an array from `allocate` (each value the previous one plus the step, rounded to the
 * dtype, as tfjs's cpu kernel computes them); null for dtypes other than float32 and int32.
 */
export function rangeValues(
  attrs: RangeAttrs,
  allocate: (
    type: Float32ArrayConstructor | Int32ArrayConstructor,
    length: number,
  ) => Float32Array | Int32Array,
): Float32Array | Int32Array | null {
  const { start, stop, dtype } = attrs;
  let { step } = attrs;
  const storage = dtype === "float32" ? Float32Array : dtype === "int32" ? Int32Array : null;
  if (storage === null) return null;
  const empty = start === stop || (start < stop && step < 0) || (stop < start && step > 1);
  const length = empty ? 0 : Math.abs(Math.ceil((stop - start) / step));
  const out = allocate(storage, length);
  if (stop < start && step === 1) step = -1; // tfjs flips a default step for a decreasing range
  if (length > 0) out[0] = start;
  for (let i = 1; i < length; i++) out[i] = out[i - 1]! + step;
  return out;
}

const rangeKernel: KernelFactory = (_engine, fallback) => (args) => {
  const attrs = args.attrs as unknown as RangeAttrs;
  const backend = args.backend as HostEngineBackend;
  const out = rangeValues(attrs, (type, length) => backend.allocate(type, length));
  if (out === null) return backend.runFallback("Range", fallback, args);
  return backend.makeTensorInfo([out.length], attrs.dtype, out);
};

/** Identity and reshape share the input's memory (one more reference, no copy), as tfjs's CPU kernels do. */
const identityKernel: KernelFactory = (_engine, fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const backend = args.backend as HostEngineBackend;
  if (x.dtype === "complex64") return backend.runFallback("Identity", fallback, args);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

const reshapeKernel: KernelFactory = (_engine, fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const backend = args.backend as HostEngineBackend;
  if (x.dtype === "complex64") return backend.runFallback("Reshape", fallback, args);
  const { shape } = args.attrs as { shape: number[] };
  const xSize = tf.util.sizeFromShape(x.shape);
  const $shape = tf.util.inferFromImplicitShape(shape, xSize);
  // tfjs's own check and message.
  tf.util.assert(
    xSize === tf.util.sizeFromShape($shape),
    () =>
      `The new shape (${$shape}) has ${tf.util.sizeFromShape($shape)} elements and the old shape (${x.shape}) has ${xSize} elements. The new shape and old shape must have the same number of elements.`,
  );
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: $shape, dtype: x.dtype };
};

/** ExpandDims: a new axis of size 1 at `dim` (negative counts from the end), the same memory. */
const expandDimsKernel: KernelFactory = (_engine, fallback) => (args) => {
  const { input } = args.inputs as { input: TensorInfo };
  const backend = args.backend as HostEngineBackend;
  if (input.dtype === "complex64") return backend.runFallback("ExpandDims", fallback, args);
  const { dim } = args.attrs as { dim: number };
  const rank = input.shape.length;
  // tfjs's own check and message.
  if (dim < 0)
    tf.util.assert(-(rank + 1) <= dim, () => `Axis must be in the interval [${-(rank + 1)}, ${rank}]`);
  const at = dim < 0 ? rank + dim + 1 : dim;
  const shape = [...input.shape.slice(0, at), 1, ...input.shape.slice(at)];
  backend.incRef(input.dataId);
  return { dataId: input.dataId, shape, dtype: input.dtype };
};

/**
 * Reverse of a float32/int32 tensor along `dims` (a transposed convolution's flipped kernel): each output
 * element read from the mirrored input position, runs of the innermost axis copied whole where it is not
 * reversed.
 */
const reverseKernel: KernelFactory = (_engine, fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const backend = args.backend as HostEngineBackend;
  const values = backend.stored(x);
  if (!(values instanceof Float32Array || values instanceof Int32Array) || x.shape.length === 0)
    return backend.runFallback("Reverse", fallback, args);
  const { dims } = args.attrs as { dims: number | number[] };
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(dims, x.shape);
  const flipped = x.shape.map((_, d) => axes.includes(d));
  const out = backend.allocate(
    values.constructor as Float32ArrayConstructor | Int32ArrayConstructor,
    values.length,
  );
  const inner = x.shape[rank - 1]!;
  const strides = tf.util.computeStrides(x.shape);
  forEachRow(x.shape, (index, at) => {
    let from = 0;
    for (let d = 0; d < rank - 1; d++)
      from += (flipped[d] ? x.shape[d]! - 1 - index[d]! : index[d]!) * strides[d]!;
    if (flipped[rank - 1]) for (let j = 0; j < inner; j++) out[at + j] = values[from + inner - 1 - j]!;
    else out.set(values.subarray(from, from + inner), at);
  });
  return backend.makeTensorInfo(x.shape, x.dtype, out);
};

/**
 * PadV2 (constant padding) of a float32/int32 tensor: the output filled with the constant, then each run of the
 * innermost axis copied to its place — the gradient of a slice (a transposed convolution's cropped output).
 */
const padKernel: KernelFactory = (_engine, fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const backend = args.backend as HostEngineBackend;
  const values = backend.stored(x);
  if (!(values instanceof Float32Array || values instanceof Int32Array) || x.shape.length === 0)
    return backend.runFallback("PadV2", fallback, args);
  const { paddings, constantValue } = args.attrs as unknown as {
    paddings: Array<[number, number]>;
    constantValue: number;
  };
  const rank = x.shape.length;
  const outShape = x.shape.map((size, d) => paddings[d]![0] + size + paddings[d]![1]);
  const out = backend.allocate(
    values.constructor as Float32ArrayConstructor | Int32ArrayConstructor,
    tf.util.sizeFromShape(outShape),
  );
  out.fill(constantValue);
  const inner = x.shape[rank - 1]!;
  if (values.length > 0) {
    const outStrides = tf.util.computeStrides(outShape);
    forEachRow(x.shape, (index, at) => {
      let to = paddings[rank - 1]![0];
      for (let d = 0; d < rank - 1; d++) to += (index[d]! + paddings[d]![0]) * outStrides[d]!;
      out.set(values.subarray(at, at + inner), to);
    });
  }
  return backend.makeTensorInfo(outShape, x.dtype, out);
};

/** The engine's data-movement and creation kernels, by tfjs kernel name. */
export const DATA_KERNELS: Record<string, KernelFactory> = {
  Cast: castKernel,
  OneHot: oneHotKernel,
  Slice: sliceKernel,
  Fill: fillKernel,
  ZerosLike: likeKernel("ZerosLike", 0),
  OnesLike: likeKernel("OnesLike", 1),
  ArgMax: argMaxKernel,
  Range: rangeKernel,
  Identity: identityKernel,
  Reshape: reshapeKernel,
  ExpandDims: expandDimsKernel,
  Reverse: reverseKernel,
  PadV2: padKernel,
};
