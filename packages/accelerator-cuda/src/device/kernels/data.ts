import { kernelUtil } from "@fulmen/accelerator-host";
import { tf } from "@fulmen/core";
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { DeviceBackend } from "../device-backend";
import { type DeviceKernelFactory, ELEMENT_TYPE, filled, sizeOf, view } from "./shared";

// Shared with the host engine's kernels (its backend_util).
const { rangeValues } = kernelUtil;
type RangeAttrs = kernelUtil.RangeAttrs;
type OneHotAttrs = kernelUtil.OneHotAttrs;

/** Identity and reshape are views: one more reference to the input's block, as tfjs's kernels do. */
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
  const { depth, onValue, offValue, dtype } = args.attrs as unknown as OneHotAttrs;
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

/** Range: its values computed on the host as tfjs's cpu kernel computes them, then copied to the device. */
const rangeKernel: DeviceKernelFactory = (fallback) => (args) => {
  const attrs = args.attrs as unknown as RangeAttrs;
  const backend = args.backend as DeviceBackend;
  const values = rangeValues(attrs, (type, length) => new type(length));
  if (values === null) return backend.runFallback("Range", fallback, args);
  return backend.makeTensorInfo([values.length], attrs.dtype, values);
};

/** The device's views, casts, fills, one-hot and range, by tfjs kernel name. */
export const DATA_DEVICE_KERNELS: Record<string, DeviceKernelFactory> = {
  Identity: identityKernel,
  Reshape: reshapeKernel,
  Cast: castKernel,
  Fill: fillKernel,
  ZerosLike: likeKernel("ZerosLike", 0),
  OnesLike: likeKernel("OnesLike", 1),
  OneHot: oneHotKernel,
  Range: rangeKernel,
};
