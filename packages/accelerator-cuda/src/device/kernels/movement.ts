import { kernelUtil } from "@fulmen/accelerator-host";
import { tf } from "@fulmen/core";
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { DeviceBackend } from "../device-backend";
import { type DeviceKernelFactory, ELEMENT_BYTES, filled, sizeOf } from "./shared";

// Shared with the host engine's kernels (its backend_util).
const { splitPlan } = kernelUtil;
type SplitAttrs = kernelUtil.SplitAttrs;

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
  const backend = args.backend as DeviceBackend;
  const bytes = ELEMENT_BYTES[x.dtype];
  if (bytes === undefined) return backend.runFallback("SplitV", fallback, args);
  const { outer, row, pieces } = splitPlan(x, args.attrs as unknown as SplitAttrs);
  return pieces.map(({ shape, offset, width }) => {
    const out = backend.makeTensorInfo(shape, x.dtype);
    if (outer * width > 0)
      backend.device.copy2d(
        backend.address(x),
        row,
        offset,
        backend.address(out),
        width,
        0,
        outer,
        width,
        bytes,
      );
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

/** The device's data-movement kernels, by tfjs kernel name. */
export const MOVEMENT_DEVICE_KERNELS: Record<string, DeviceKernelFactory> = {
  Transpose: transposeKernel,
  GatherV2: gatherV2Kernel,
  UnsortedSegmentSum: unsortedSegmentSumKernel,
  Concat: concatKernel,
  SplitV: splitVKernel,
  Slice: sliceKernel,
  PadV2: padKernel,
};
