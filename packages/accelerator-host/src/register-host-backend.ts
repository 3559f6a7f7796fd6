import { tf } from "@fulmen/core";
import { declareBackendFeatures } from "@fulmen/core/plugin";
import type { KernelFunc } from "@tensorflow/tfjs-core";
import { registerAttentionKernels } from "./attention-kernels";
import { nativeBatchMatMul } from "./batch-mat-mul";
import { CONV_KERNELS } from "./conv-kernels";
import { DATA_KERNELS } from "./data-kernels";
import { ELEMENTWISE_KERNELS } from "./elementwise-kernels";
import { FUSED_KERNEL_NAMES, registerFusedLayerKernels } from "./fused-layer-kernels";
import { HostEngineBackend } from "./host-backend";
import type { KernelFactory } from "./kernel-factory";
import type { NativeEngine } from "./native-engine";
import { registerOptimizerKernels } from "./optimizer-kernels";
import { POOL_KERNELS } from "./pool-kernels";
import { registerRecurrentKernels } from "./recurrent-kernels";
import { ROW_KERNELS } from "./rows-kernels";
import { TRANSPOSE_KERNELS } from "./transpose-kernels";

/** The tfjs backend name of the host engine. */
export const HOST_BACKEND = "fulmen-host";

/** Kernels the engine runs natively, by tfjs kernel name. */
const NATIVE_KERNELS: Record<string, KernelFactory> = {
  BatchMatMul: nativeBatchMatMul,
  ...ELEMENTWISE_KERNELS,
  ...CONV_KERNELS,
  ...POOL_KERNELS,
  ...TRANSPOSE_KERNELS,
  ...ROW_KERNELS,
  ...DATA_KERNELS,
};

let registered = false;

/**
 * Registers the host backend (low priority: it is chosen by name, never by tfjs's own default) and its
 * kernels: the native ones, and tfjs's CPU kernels for the rest, each counted as a fallback when it runs.
 */
export function registerHostBackend(engine: NativeEngine): void {
  // tfjs's registry is one per process: another loaded build of this package (ESM beside CommonJS) may have
  // registered the backend and its kernels already.
  if (registered || tf.findBackendFactory(HOST_BACKEND) !== null) return;
  registered = true;
  tf.registerBackend(HOST_BACKEND, () => new HostEngineBackend(), 0);
  // NCHW convolutions and one-channel pooling run natively (conv-kernels.ts, pool_host.cc).
  declareBackendFeatures(HOST_BACKEND, { channelsFirst: true });
  for (const config of tf.getKernelsForBackend("cpu")) {
    if (FUSED_KERNEL_NAMES.has(config.kernelName)) continue;
    const cpuKernel = config.kernelFunc as KernelFunc;
    const native = NATIVE_KERNELS[config.kernelName];
    const kernelFunc: KernelFunc = native
      ? native(engine, cpuKernel)
      : (args) => (args.backend as HostEngineBackend).runFallback(config.kernelName, cpuKernel, args);
    tf.registerKernel({ ...config, backendName: HOST_BACKEND, kernelFunc });
  }
  registerOptimizerKernels(engine, HOST_BACKEND);
  registerFusedLayerKernels(engine, HOST_BACKEND);
  registerRecurrentKernels(engine, HOST_BACKEND);
  registerAttentionKernels(engine, HOST_BACKEND);
}
