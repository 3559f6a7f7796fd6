import { tf } from "@fulmen/core";
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import type { DeviceBackend } from "../device-backend";

/** Makes a device kernel from tfjs's CPU kernel of the same name (its fallback). */
export type DeviceKernelFactory = (fallback: KernelFunc) => KernelFunc;

/** A tensor's element count. */
export const sizeOf = (t: TensorInfo) => tf.util.sizeFromShape(t.shape);

/** A view: the input's block with one more reference and another shape, as tfjs's kernels do. */
export function view(backend: DeviceBackend, x: TensorInfo, shape: number[]): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

/** The engine's element type codes (native/data_ops.h) of the dtypes the device stores. */
export const ELEMENT_TYPE: Partial<Record<string, number>> = { float32: 0, int32: 1, bool: 2 };

/** Bytes per element of the dtypes the movement kernels copy (bool as bytes); undefined for the others. */
export const ELEMENT_BYTES: Partial<Record<string, number>> = { float32: 4, int32: 4, bool: 1 };

/** A tensor of `shape` filled with `value` on the device (numeric dtypes). */
export function filled(
  backend: DeviceBackend,
  shape: number[],
  dtype: tf.DataType,
  value: number,
): TensorInfo {
  const out = backend.makeTensorInfo(shape, dtype);
  const n = tf.util.sizeFromShape(shape);
  if (n > 0) backend.device.fill(backend.address(out), ELEMENT_TYPE[dtype]!, value, n);
  return out;
}

/** The address of an optional input (null when absent). */
export const optional = (backend: DeviceBackend, t: TensorInfo | undefined) =>
  t === undefined ? null : backend.address(t);
