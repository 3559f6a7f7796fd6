import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { HostEngineBackend } from "./host-backend";
import type { KernelFactory } from "./kernel-factory";

/** Transpose of 4-byte elements (float32, int32) natively; bool and string tensors go to tfjs's kernel. */
const transposeKernel: KernelFactory = (engine, fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const backend = args.backend as HostEngineBackend;
  const { perm } = args.attrs as { perm: number[] };
  if (x.dtype !== "float32" && x.dtype !== "int32") return backend.runFallback("Transpose", fallback, args);
  const values = backend.stored(x) as Float32Array | Int32Array;
  const storage = x.dtype === "float32" ? Float32Array : Int32Array;
  if (!(values instanceof storage)) return backend.runFallback("Transpose", fallback, args);
  const outShape = perm.map((p) => x.shape[p]!);
  const out = backend.allocate(storage, values.length);
  engine.transpose(values, x.shape, perm, out);
  return backend.makeTensorInfo(outShape, x.dtype, out);
};

/** The engine's Transpose kernel, by tfjs kernel name. */
export const TRANSPOSE_KERNELS: Record<string, KernelFactory> = { Transpose: transposeKernel };
