import {
  GELU_GRAD_KERNEL,
  GELU_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
  ROUND_BFLOAT16_KERNEL,
  ROUND_FLOAT16_KERNEL,
  tf,
} from "@fulmen/core";
import type { BatchMatMulAttrs, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { gemmShapeOf } from "../batch-mat-mul";
import { type ConvAttrs, convPlan } from "../conv-shapes";
import { type RangeAttrs, rangeValues } from "../data-kernels";
import { BINARY, COMPARE, UNARY } from "../op-codes";
import { UPDATE_SPECS, type UpdateSpec } from "../optimizer-updates";
import { type PoolAttrs, poolInfo, poolShape } from "../pool-shapes";
import { reducedBlock, reducedShape } from "../reduced-block";
import type { DeviceBackend } from "./device-backend";

/** Makes a device kernel from tfjs's CPU kernel of the same name (its fallback). */
export type DeviceKernelFactory = (fallback: KernelFunc) => KernelFunc;

const sizeOf = (t: TensorInfo) => tf.util.sizeFromShape(t.shape);

/** Broadcasting arithmetic (float32 out) or comparison (bool out) of two float32 tensors on the device. */
function broadcastKernel(kernelName: string, code: number, output: "float32" | "bool"): DeviceKernelFactory {
  return (fallback) => (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const backend = args.backend as DeviceBackend;
    if (a.dtype !== "float32" || b.dtype !== "float32")
      return backend.runFallback(kernelName, fallback, args);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = backend.makeTensorInfo(outShape, output);
    if (sizeOf(out) > 0) {
      const run = output === "bool" ? backend.device.compare : backend.device.binary;
      run.call(
        backend.device,
        code,
        backend.address(a),
        a.shape,
        backend.address(b),
        b.shape,
        backend.address(out),
        outShape,
      );
    }
    return out;
  };
}

function unaryKernel(kernelName: string, code: number): DeviceKernelFactory {
  return (fallback) => (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as DeviceBackend;
    if (x.dtype !== "float32") return backend.runFallback(kernelName, fallback, args);
    const out = backend.makeTensorInfo(x.shape, "float32");
    if (sizeOf(x) > 0) backend.device.unary(code, backend.address(x), backend.address(out), sizeOf(x));
    return out;
  };
}

/** A view: the input's block with one more reference and another shape, as tfjs's kernels do. */
function view(backend: DeviceBackend, x: TensorInfo, shape: number[]): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

const identityKernel: DeviceKernelFactory = () => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  return view(args.backend as DeviceBackend, x, x.shape);
};

const reshapeKernel: DeviceKernelFactory = () => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { shape } = args.attrs as { shape: number[] };
  const size = sizeOf(x);
  const target = tf.util.inferFromImplicitShape(shape, size);
  tf.util.assert(
    size === tf.util.sizeFromShape(target),
    () =>
      `The new shape (${target}) has ${tf.util.sizeFromShape(target)} elements and the old shape (${x.shape}), ${size} elements. The new shape and old shape must have the same number of elements.`,
  );
  return view(args.backend as DeviceBackend, x, target);
};

/** The engine's element type codes (native/data_ops.h) of the dtypes the device stores. */
const ELEMENT_TYPE: Partial<Record<string, number>> = { float32: 0, int32: 1, bool: 2 };

/**
 * Casts between float32, int32 and bool on the device, with tfjs's conversions (truncation, NaN and ±∞ to 0,
 * wrapping, bool = x ≠ 0). Unlike tfjs's cpu kernel, a widening cast copies: the device keeps each dtype in its
 * own bits, so int32 values beyond 2²⁴ round when they become float32, as they do on tfjs's GPU backends.
 */
const castKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { dtype } = args.attrs as { dtype: tf.DataType };
  const backend = args.backend as DeviceBackend;
  if (dtype === x.dtype) return view(backend, x, x.shape);
  const from = ELEMENT_TYPE[x.dtype];
  const to = ELEMENT_TYPE[dtype];
  if (from === undefined || to === undefined) return backend.runFallback("Cast", fallback, args);
  const out = backend.makeTensorInfo(x.shape, dtype);
  if (sizeOf(x) > 0) backend.device.cast(backend.address(x), from, backend.address(out), to, sizeOf(x));
  return out;
};

/** A tensor of `shape` filled with `value` on the device (numeric dtypes). */
function filled(backend: DeviceBackend, shape: number[], dtype: tf.DataType, value: number): TensorInfo {
  const out = backend.makeTensorInfo(shape, dtype);
  const n = tf.util.sizeFromShape(shape);
  if (n > 0) backend.device.fill(backend.address(out), ELEMENT_TYPE[dtype]!, value, n);
  return out;
}

const fillKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { shape, value, dtype } = args.attrs as {
    shape: number[];
    value: number | string;
    dtype: tf.DataType;
  };
  const backend = args.backend as DeviceBackend;
  if (ELEMENT_TYPE[dtype] === undefined || typeof value !== "number")
    return backend.runFallback("Fill", fallback, args);
  return filled(backend, shape, dtype, value);
};

const likeKernel =
  (kernelName: "ZerosLike" | "OnesLike", value: number): DeviceKernelFactory =>
  (fallback) =>
  (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as DeviceBackend;
    if (ELEMENT_TYPE[x.dtype] === undefined) return backend.runFallback(kernelName, fallback, args);
    return filled(backend, x.shape, x.dtype, value);
  };

/** One-hot rows (float32, int32 or bool) from int32 indices; out-of-range indices give rows of `offValue`. */
const oneHotKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { indices } = args.inputs as { indices: TensorInfo };
  const { depth, onValue, offValue, dtype } = args.attrs as {
    depth: number;
    onValue: number;
    offValue: number;
    dtype: tf.DataType;
  };
  const backend = args.backend as DeviceBackend;
  const type = ELEMENT_TYPE[dtype];
  if (indices.dtype !== "int32" || type === undefined) return backend.runFallback("OneHot", fallback, args);
  const out = backend.makeTensorInfo([...indices.shape, depth], dtype);
  if (sizeOf(out) > 0)
    backend.device.oneHot(
      backend.address(indices),
      backend.address(out),
      type,
      sizeOf(indices),
      depth,
      onValue,
      offValue,
    );
  return out;
};

/** Sum, Mean, Max or Min over contiguous axes of a float32 tensor; other cases go to tfjs's kernel. */
const reduceKernel =
  (kernelName: "Sum" | "Mean" | "Max" | "Min", kind: number): DeviceKernelFactory =>
  (fallback) =>
  (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as DeviceBackend;
    // Max names its axes reductionIndices; the others name them axis. Null or absent: every axis.
    const attrs = args.attrs as {
      axis?: number | number[];
      reductionIndices?: number | number[];
      keepDims: boolean;
    };
    const axes = (kernelName === "Max" ? attrs.reductionIndices : attrs.axis) as number | number[];
    const block = x.dtype === "float32" ? reducedBlock(x, axes) : null;
    // An empty max or min has no first value to start from: tfjs's kernel says what it gives.
    if (block === null || (kind >= 2 && block.reduce === 0))
      return backend.runFallback(kernelName, fallback, args);
    const out = backend.makeTensorInfo(reducedShape(x, block.axes, attrs.keepDims), "float32");
    if (sizeOf(out) > 0)
      backend.device.reduceMiddle(
        kind,
        backend.address(x),
        backend.address(out),
        block.outer,
        block.reduce,
        block.inner,
      );
    return out;
  };

const stepKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const backend = args.backend as DeviceBackend;
  if (x.dtype !== "float32") return backend.runFallback("Step", fallback, args);
  const out = backend.makeTensorInfo(x.shape, "float32");
  if (sizeOf(x) > 0)
    backend.device.step(
      backend.address(x),
      backend.address(out),
      sizeOf(x),
      (args.attrs as { alpha?: number }).alpha ?? 0,
    );
  return out;
};

/** Select with a condition of the values' own shape; other layouts go to tfjs's kernel. */
const selectKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { condition, t, e } = args.inputs as { condition: TensorInfo; t: TensorInfo; e: TensorInfo };
  const backend = args.backend as DeviceBackend;
  if (
    condition.dtype !== "bool" ||
    t.dtype !== "float32" ||
    e.dtype !== "float32" ||
    !tf.util.arraysEqual(condition.shape, t.shape) ||
    !tf.util.arraysEqual(t.shape, e.shape)
  )
    return backend.runFallback("Select", fallback, args);
  const out = backend.makeTensorInfo(t.shape, "float32");
  if (sizeOf(t) > 0)
    backend.device.select(
      backend.address(condition),
      backend.address(t),
      backend.address(e),
      backend.address(out),
      sizeOf(t),
    );
  return out;
};

const clipKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const backend = args.backend as DeviceBackend;
  if (x.dtype !== "float32") return backend.runFallback("ClipByValue", fallback, args);
  const { clipValueMin, clipValueMax } = args.attrs as { clipValueMin: number; clipValueMax: number };
  const out = backend.makeTensorInfo(x.shape, "float32");
  if (sizeOf(x) > 0)
    backend.device.clip(backend.address(x), backend.address(out), sizeOf(x), clipValueMin, clipValueMax);
  return out;
};

/** Transposes of float32 and int32 tensors (4-byte elements). */
const transposeKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { perm } = args.attrs as { perm: number[] };
  const backend = args.backend as DeviceBackend;
  if ((x.dtype !== "float32" && x.dtype !== "int32") || x.shape.length > 8)
    return backend.runFallback("Transpose", fallback, args);
  const out = backend.makeTensorInfo(
    perm.map((axis) => x.shape[axis]!),
    x.dtype,
  );
  if (sizeOf(x) > 0) backend.device.transpose(backend.address(x), backend.address(out), x.shape, perm);
  return out;
};

const batchMatMulKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
  const backend = args.backend as DeviceBackend;
  const g = gemmShapeOf(a, b, transposeA, transposeB);
  if (g === null) return backend.runFallback("BatchMatMul", fallback, args);
  const out = backend.makeTensorInfo(g.outShape, "float32");
  if (sizeOf(out) === 0) return out;
  const [halfA, halfB] = [backend.halfOf(a), backend.halfOf(b)];
  if (halfA !== null && halfB !== null && halfA.format === halfB.format)
    backend.device.batchMatMulHalf(
      halfA.format,
      halfA.address,
      halfB.address,
      backend.address(out),
      g.batchA,
      g.batchB,
      g.m,
      g.n,
      g.k,
      transposeA,
      transposeB,
    );
  else
    backend.device.batchMatMul(
      backend.address(a),
      backend.address(b),
      backend.address(out),
      g.batchA,
      g.batchB,
      g.m,
      g.n,
      g.k,
      transposeA,
      transposeB,
    );
  return out;
};

/** Softmax over the last axis (the only one tfjs supports). */
const softmaxKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { logits } = args.inputs as { logits: TensorInfo };
  const { dim } = args.attrs as { dim: number };
  const backend = args.backend as DeviceBackend;
  const last = logits.shape.length - 1;
  if (logits.dtype !== "float32" || (dim !== -1 && dim !== last) || sizeOf(logits) === 0)
    return backend.runFallback("Softmax", fallback, args);
  const cols = logits.shape[last]!;
  const out = backend.makeTensorInfo(logits.shape, "float32");
  backend.device.softmax(backend.address(logits), backend.address(out), sizeOf(logits) / cols, cols);
  return out;
};

/** Bytes per element of the dtypes the movement kernels copy (bool as bytes); undefined for the others. */
const ELEMENT_BYTES: Partial<Record<string, number>> = { float32: 4, int32: 4, bool: 1 };

/** Gathers along one axis (embedding lookups), indices checked on the host as tfjs's cpu kernel checks them. */
const gatherV2Kernel: DeviceKernelFactory = (fallback) => (args) => {
  const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
  const { axis, batchDims } = args.attrs as { axis: number; batchDims?: number };
  const backend = args.backend as DeviceBackend;
  const bytes = ELEMENT_BYTES[x.dtype];
  if ((batchDims ?? 0) !== 0 || bytes === undefined || indices.dtype !== "int32")
    return backend.runFallback("GatherV2", fallback, args);
  const $axis = tf.util.parseAxisParam(axis, x.shape)[0]!;
  const axisDim = x.shape[$axis]!;
  for (const index of backend.int32Values(indices))
    tf.util.assert(
      index <= axisDim - 1 && index >= 0,
      () => `GatherV2: the index value ${index} is not in [0, ${axisDim - 1}]`,
    );
  const outer = tf.util.sizeFromShape(x.shape.slice(0, $axis));
  const inner = tf.util.sizeFromShape(x.shape.slice($axis + 1));
  const out = backend.makeTensorInfo(
    [...x.shape.slice(0, $axis), ...indices.shape, ...x.shape.slice($axis + 1)],
    x.dtype,
  );
  if (sizeOf(out) > 0)
    backend.device.gather(
      backend.address(x),
      backend.address(indices),
      backend.address(out),
      outer,
      axisDim,
      inner,
      sizeOf(indices),
      bytes,
    );
  return out;
};

/** Sums rows by segment id (an embedding lookup's gradient); ids outside [0, numSegments) are dropped. */
const unsortedSegmentSumKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = args.attrs as { numSegments: number };
  const backend = args.backend as DeviceBackend;
  if (x.dtype !== "float32" || segmentIds.dtype !== "int32" || segmentIds.shape.length !== 1)
    return backend.runFallback("UnsortedSegmentSum", fallback, args);
  const inner = tf.util.sizeFromShape(x.shape.slice(1));
  const out = backend.makeTensorInfo([numSegments, ...x.shape.slice(1)], "float32");
  if (sizeOf(out) > 0)
    backend.device.segmentSum(
      backend.address(x),
      backend.address(segmentIds),
      backend.address(out),
      x.shape[0]!,
      inner,
      numSegments,
    );
  return out;
};

/** Concatenation along one axis: each input a block of columns of the output seen as [outer, row]. */
const concatKernel: DeviceKernelFactory = (fallback) => (args) => {
  const inputs = args.inputs as unknown as TensorInfo[];
  const { axis } = args.attrs as { axis: number };
  const backend = args.backend as DeviceBackend;
  const first = inputs[0];
  const bytes = first === undefined ? undefined : ELEMENT_BYTES[first.dtype];
  if (first === undefined || bytes === undefined || !inputs.every((t) => t.dtype === first.dtype))
    return backend.runFallback("Concat", fallback, args);
  const $axis = tf.util.parseAxisParam(axis, first.shape)[0]!;
  // tfjs's own check, with its error naming the mismatched shapes.
  tf.backend_util.assertParamsConsistent(
    inputs.map((t) => t.shape),
    $axis,
  );
  const out = backend.makeTensorInfo(
    tf.backend_util.computeOutShape(
      inputs.map((t) => t.shape),
      $axis,
    ),
    first.dtype,
  );
  const outer = tf.util.sizeFromShape(first.shape.slice(0, $axis));
  const row = sizeOf(out) / Math.max(outer, 1);
  let offset = 0;
  for (const t of inputs) {
    const cols = tf.util.sizeFromShape(t.shape.slice($axis));
    if (outer * cols > 0)
      backend.device.copy2d(
        backend.address(t),
        cols,
        0,
        backend.address(out),
        row,
        offset,
        outer,
        cols,
        bytes,
      );
    offset += cols;
  }
  return out;
};

/** Splitting along one axis: each output a block of columns of the input seen as [outer, row]. */
const splitVKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
  const backend = args.backend as DeviceBackend;
  const bytes = ELEMENT_BYTES[x.dtype];
  if (bytes === undefined) return backend.runFallback("SplitV", fallback, args);
  const $axis = tf.util.parseAxisParam(axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, $axis);
  const outer = tf.util.sizeFromShape(x.shape.slice(0, $axis));
  const inner = tf.util.sizeFromShape(x.shape.slice($axis + 1));
  const row = x.shape[$axis]! * inner;
  let offset = 0;
  return sizes.map((s) => {
    const out = backend.makeTensorInfo(
      x.shape.map((d, i) => (i === $axis ? s : d)),
      x.dtype,
    );
    if (outer * s * inner > 0)
      backend.device.copy2d(
        backend.address(x),
        row,
        offset,
        backend.address(out),
        s * inner,
        0,
        outer,
        s * inner,
        bytes,
      );
    offset += s * inner;
    return out;
  });
};

const sliceKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const backend = args.backend as DeviceBackend;
  const bytes = ELEMENT_BYTES[x.dtype];
  if (bytes === undefined || x.shape.length > 8) return backend.runFallback("Slice", fallback, args);
  const attrs = args.attrs as { begin: number | number[]; size: number | number[] };
  const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, attrs.begin, attrs.size);
  tf.slice_util.assertParamsValid(x as unknown as tf.Tensor, begin, size);
  const out = backend.makeTensorInfo(size, x.dtype);
  if (sizeOf(out) > 0)
    backend.device.slice(backend.address(x), backend.address(out), x.shape, begin, size, bytes);
  return out;
};

/** Constant padding (a slice's gradient): the output filled with the constant, the input written inside. */
const padKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { paddings, constantValue } = args.attrs as {
    paddings: Array<[number, number]>;
    constantValue: number;
  };
  const backend = args.backend as DeviceBackend;
  const bytes = ELEMENT_BYTES[x.dtype];
  if (bytes === undefined || x.shape.length > 8) return backend.runFallback("PadV2", fallback, args);
  const outShape = x.shape.map((d, i) => paddings[i]![0] + d + paddings[i]![1]);
  const out = filled(backend, outShape, x.dtype, constantValue);
  if (sizeOf(x) > 0)
    backend.device.insert(
      backend.address(x),
      backend.address(out),
      outShape,
      paddings.map((p) => p[0]),
      x.shape,
      bytes,
    );
  return out;
};

/** Conv2D and its two gradients, channels-last float32 (im2col and a GEMM on the device). */
function convKernel(kernelName: string, kind: 0 | 1 | 2): DeviceKernelFactory {
  return (fallback) => (args) => {
    const backend = args.backend as DeviceBackend;
    const plan = convPlan(
      kind,
      args.inputs as Record<string, TensorInfo>,
      args.attrs as unknown as ConvAttrs,
    );
    if (plan === null) return backend.runFallback(kernelName, fallback, args);
    const out = backend.makeTensorInfo(plan.outShape, "float32");
    if (sizeOf(out) > 0)
      backend.device.conv2d(
        kind,
        backend.address(plan.first),
        backend.address(plan.second),
        backend.address(out),
        plan.shape,
      );
    return out;
  };
}

/** MaxPool or AvgPool of a float32 NHWC tensor. */
const poolKernel =
  (kernelName: "MaxPool" | "AvgPool", kind: number): DeviceKernelFactory =>
  (fallback) =>
  (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as DeviceBackend;
    if (x.dtype !== "float32" || x.shape.length !== 4) return backend.runFallback(kernelName, fallback, args);
    const info = poolInfo(x, args.attrs as unknown as PoolAttrs);
    // tfjs's rule: a 1×1 pool that keeps the shape is the identity, whatever the padding says.
    if (info.filterWidth === 1 && info.filterHeight === 1 && tf.util.arraysEqual(info.inShape, info.outShape))
      return view(backend, x, x.shape);
    const out = backend.makeTensorInfo(info.outShape, "float32");
    if (sizeOf(out) > 0) backend.device.pool(kind, backend.address(x), backend.address(out), poolShape(info));
    return out;
  };

/** MaxPoolGrad (inputs dy, input, output) or AvgPoolGrad (inputs dy, input). */
const poolGradKernel =
  (kernelName: "MaxPoolGrad" | "AvgPoolGrad", kind: number): DeviceKernelFactory =>
  (fallback) =>
  (args) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    const backend = args.backend as DeviceBackend;
    if (input.dtype !== "float32" || input.shape.length !== 4)
      return backend.runFallback(kernelName, fallback, args);
    const info = poolInfo(input, args.attrs as unknown as PoolAttrs);
    const dx = backend.makeTensorInfo(input.shape, "float32");
    if (sizeOf(dx) > 0)
      backend.device.poolGrad(
        kind,
        backend.address(dy),
        kind === 0 ? backend.address(input) : null,
        backend.address(dx),
        poolShape(info),
      );
    return dx;
  };

/** Range: its values computed on the host as tfjs's cpu kernel computes them, then copied to the device. */
const rangeKernel: DeviceKernelFactory = (fallback) => (args) => {
  const attrs = args.attrs as unknown as RangeAttrs;
  const backend = args.backend as DeviceBackend;
  const values = rangeValues(attrs, (type, length) => new type(length));
  if (values === null) return backend.runFallback("Range", fallback, args);
  return backend.makeTensorInfo([values.length], attrs.dtype, values);
};

/** The device's kernels by tfjs kernel name; every other kernel of tfjs's CPU backend runs as a fallback. */
export const DEVICE_KERNELS: Record<string, DeviceKernelFactory> = {
  ...Object.fromEntries(
    Object.entries(BINARY).map(([name, code]) => [name, broadcastKernel(name, code, "float32")]),
  ),
  ...Object.fromEntries(
    Object.entries(COMPARE).map(([name, code]) => [name, broadcastKernel(name, code, "bool")]),
  ),
  ...Object.fromEntries(Object.entries(UNARY).map(([name, code]) => [name, unaryKernel(name, code)])),
  Identity: identityKernel,
  Reshape: reshapeKernel,
  Cast: castKernel,
  Fill: fillKernel,
  ZerosLike: likeKernel("ZerosLike", 0),
  OnesLike: likeKernel("OnesLike", 1),
  OneHot: oneHotKernel,
  Sum: reduceKernel("Sum", 0),
  Mean: reduceKernel("Mean", 1),
  Max: reduceKernel("Max", 2),
  Min: reduceKernel("Min", 3),
  Step: stepKernel,
  Select: selectKernel,
  ClipByValue: clipKernel,
  Transpose: transposeKernel,
  GatherV2: gatherV2Kernel,
  UnsortedSegmentSum: unsortedSegmentSumKernel,
  Concat: concatKernel,
  SplitV: splitVKernel,
  Slice: sliceKernel,
  PadV2: padKernel,
  Range: rangeKernel,
  Conv2D: convKernel("Conv2D", 0),
  Conv2DBackpropInput: convKernel("Conv2DBackpropInput", 1),
  Conv2DBackpropFilter: convKernel("Conv2DBackpropFilter", 2),
  MaxPool: poolKernel("MaxPool", 0),
  AvgPool: poolKernel("AvgPool", 1),
  MaxPoolGrad: poolGradKernel("MaxPoolGrad", 0),
  AvgPoolGrad: poolGradKernel("AvgPoolGrad", 1),
  BatchMatMul: batchMatMulKernel,
  Softmax: softmaxKernel,
};

interface LayerNormAttrs {
  eps: number;
  normalizedSize: number;
  hasWeight?: boolean;
  hasBias?: boolean;
}

/** The address of an optional input (null when absent). */
const optional = (backend: DeviceBackend, t: TensorInfo | undefined) =>
  t === undefined ? null : backend.address(t);

/**
 * Rounding to float16 (format 0) or bfloat16 (1): the precision plugins' kernels. The result is kept in half
 * storage, 2 bytes a value — what a GEMM of two such tensors multiplies on tensor cores; rounding a tensor already
 * stored in the format is a view.
 */
function roundHalfKernel(format: 0 | 1): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as DeviceBackend;
    if (backend.halfOf(x)?.format === format) return view(backend, x, x.shape);
    const out = backend.makeHalfTensorInfo(x.shape, format);
    const n = sizeOf(x);
    if (n > 0) backend.device.toHalf(format, backend.address(x), backend.halfOf(out)!.address, n);
    return out;
  };
}

/** A fused optimizer update on the device: state in, fresh state out, one kernel per parameter. */
function deviceUpdateKernel(spec: UpdateSpec): KernelFunc {
  return (args) => {
    const inputs = args.inputs as Record<string, TensorInfo | undefined>;
    const attrs = args.attrs as Record<string, unknown>;
    const backend = args.backend as DeviceBackend;
    const shape = inputs.param!.shape;
    const outputs = spec
      .outputs(attrs)
      .map((present) => (present ? backend.makeTensorInfo(shape, "float32") : null));
    const n = tf.util.sizeFromShape(shape);
    if (n > 0)
      backend.device[spec.method](
        ...spec.inputs.map((name) => optional(backend, inputs[name])),
        ...outputs.map((t) => (t === null ? null : backend.address(t))),
        n,
        spec.hyper(attrs),
      );
    return outputs.filter((t): t is TensorInfo => t !== null);
  };
}

/**
 * Core's fused kernels on the device: the GELU and layer-norm pairs (nn.GELU and nn.LayerNorm use them where
 * registered) and the optimizer updates (Adam/AdamW, SGD, RMSprop, Adagrad).
 */
export const DEVICE_FUSED_KERNELS: Record<string, KernelFunc> = {
  [GELU_KERNEL]: (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as DeviceBackend;
    const y = backend.makeTensorInfo(x.shape, "float32");
    if (sizeOf(x) > 0) backend.device.gelu(backend.address(x), backend.address(y), sizeOf(x));
    return y;
  },
  [GELU_GRAD_KERNEL]: (args) => {
    const { dy, x } = args.inputs as { dy: TensorInfo; x: TensorInfo };
    const backend = args.backend as DeviceBackend;
    const dx = backend.makeTensorInfo(x.shape, "float32");
    if (sizeOf(x) > 0)
      backend.device.geluGrad(backend.address(dy), backend.address(x), backend.address(dx), sizeOf(x));
    return dx;
  },
  ...Object.fromEntries(UPDATE_SPECS.map((spec) => [spec.kernelName, deviceUpdateKernel(spec)])),
  [ROUND_FLOAT16_KERNEL]: roundHalfKernel(0),
  [ROUND_BFLOAT16_KERNEL]: roundHalfKernel(1),
  [LAYER_NORM_KERNEL]: (args) => {
    const { x, weight, bias } = args.inputs as { x: TensorInfo; weight?: TensorInfo; bias?: TensorInfo };
    const { eps, normalizedSize } = args.attrs as unknown as LayerNormAttrs;
    const backend = args.backend as DeviceBackend;
    const rows = sizeOf(x) / normalizedSize;
    const [y, mean, rstd] = [
      backend.makeTensorInfo(x.shape, "float32"),
      backend.makeTensorInfo([rows], "float32"),
      backend.makeTensorInfo([rows], "float32"),
    ];
    if (rows > 0 && normalizedSize > 0)
      backend.device.layerNorm(
        backend.address(x),
        optional(backend, weight),
        optional(backend, bias),
        backend.address(y),
        backend.address(mean),
        backend.address(rstd),
        rows,
        normalizedSize,
        eps,
      );
    return [y, mean, rstd];
  },
  [LAYER_NORM_GRAD_KERNEL]: (args) => {
    const { dy, x, mean, rstd, weight } = args.inputs as Record<string, TensorInfo | undefined>;
    const { normalizedSize, hasWeight, hasBias } = args.attrs as unknown as LayerNormAttrs;
    const backend = args.backend as DeviceBackend;
    const rows = sizeOf(x!) / normalizedSize;
    // The bias has the weight's shape (the normalized shape); a layer without a weight has no bias either.
    const paramShape = weight?.shape ?? [normalizedSize];
    const dx = backend.makeTensorInfo(x!.shape, "float32");
    const dWeight = hasWeight ? backend.makeTensorInfo(paramShape, "float32") : undefined;
    const dBias = hasBias ? backend.makeTensorInfo(paramShape, "float32") : undefined;
    if (rows > 0 && normalizedSize > 0)
      backend.device.layerNormGrad(
        backend.address(dy!),
        backend.address(x!),
        backend.address(mean!),
        backend.address(rstd!),
        optional(backend, weight),
        backend.address(dx),
        optional(backend, dWeight),
        optional(backend, dBias),
        rows,
        normalizedSize,
      );
    else
      for (const g of [dWeight, dBias])
        if (g !== undefined) backend.device.fill(backend.address(g), 0, 0, normalizedSize);
    return [dx, ...[dWeight, dBias].filter((g): g is TensorInfo => g !== undefined)];
  },
};
