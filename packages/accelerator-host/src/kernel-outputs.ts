import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { HostEngineBackend } from "./host-backend";

/** A multi-output kernel's float32 output arrays, and the tensor infos that hand them to tfjs. */
export interface KernelOutputs {
  /** One array per output, sized for its shape, for the engine to write. */
  arrays: Float32Array[];
  /** The outputs as tfjs tensor infos (call once the engine has written them). */
  infos(): TensorInfo[];
}

/** Pool-backed output arrays for `shapes` (the fused kernels with several outputs share this). */
export function outputsOf(backend: HostEngineBackend, shapes: number[][]): KernelOutputs {
  const arrays = shapes.map((shape) =>
    backend.allocate(
      Float32Array,
      shape.reduce((p, d) => p * d, 1),
    ),
  );
  return {
    arrays,
    infos: () => arrays.map((values, i) => backend.makeTensorInfo(shapes[i]!, "float32", values)),
  };
}
