import { tf } from "../runtime/tfjs";
import {
  ROUND_BFLOAT16_KERNEL,
  ROUND_FLOAT16_KERNEL,
  roundBfloat16Array,
  roundFloat16Array,
} from "./half-rounding";

/** Kernel names of the rounding ops, by half format. */
export const ROUND_KERNELS = {
  /** Name of the kernel that rounds float32 values to bfloat16 (kept as float32). */
  bfloat16: ROUND_BFLOAT16_KERNEL,
  /** Name of the kernel that rounds float32 values to IEEE float16 (kept as float32). */
  float16: ROUND_FLOAT16_KERNEL,
} as const;

type TensorInfo = { dataId: object; shape: number[]; dtype: string };
interface SyncBackend {
  readSync(dataId: object): ArrayLike<number>;
  // The cpu backend names its output factory makeTensorInfo, the wasm backend makeOutput.
  makeTensorInfo?(shape: number[], dtype: string, values: Float32Array): TensorInfo;
  makeOutput?(shape: number[], dtype: string, memoryOffset: undefined, values: Float32Array): TensorInfo;
}

function roundingKernel(round: (values: ArrayLike<number>) => Float32Array) {
  return ({ inputs, backend }: { inputs: Record<string, TensorInfo>; backend: unknown }) => {
    const x = inputs.x!;
    const b = backend as SyncBackend;
    const values = round(b.readSync(x.dataId));
    if (b.makeTensorInfo !== undefined) return b.makeTensorInfo(x.shape, "float32", values);
    return b.makeOutput!(x.shape, "float32", undefined, values);
  };
}

/**
 * Registers core's rounding kernels for a backend that reads synchronously (cpu, wasm) where no kernel of that
 * name is registered yet: engines register their own (native) ones first, and tfjs never borrows another
 * backend's kernel. Core's half formats call it before they round, so no caller has to.
 */
export function ensureRoundingKernels(backendName: string): void {
  for (const [kernelName, round] of [
    [ROUND_KERNELS.bfloat16, roundBfloat16Array],
    [ROUND_KERNELS.float16, roundFloat16Array],
  ] as const) {
    if (tf.getKernel(kernelName, backendName) === undefined) {
      tf.registerKernel({
        kernelName,
        backendName,
        kernelFunc: roundingKernel(round) as unknown as tf.KernelFunc,
      });
    }
  }
}
