import { tf } from "@fulmen/core";
import { declareBackendFeatures } from "@fulmen/core/plugin";
import type { KernelFunc } from "@tensorflow/tfjs-core";
import { DeviceBackend } from "./device-backend";
import { DEVICE_FUSED_KERNELS, DEVICE_KERNELS } from "./device-kernels";
import type { NativeDevice } from "./native-device";

const registered = new Set<string>();

/**
 * Registers a device backend under `backendName` (priority 0: chosen by name only) with the device's kernels and
 * tfjs's CPU kernels for the rest, each a counted fallback that copies its data off and back onto the device.
 */
export function registerDeviceBackend(backendName: string, makeDevice: () => NativeDevice): void {
  // tfjs's registry is one per process: another loaded build of this package (ESM beside CommonJS) may have
  // registered this backend and its kernels already.
  if (registered.has(backendName) || tf.findBackendFactory(backendName) !== null) return;
  registered.add(backendName);
  tf.registerBackend(backendName, () => new DeviceBackend(makeDevice()), 0);
  // NCHW convolutions run on the device (im2col's channels-first layout); pooling takes any channel count.
  declareBackendFeatures(backendName, { channelsFirst: true });
  for (const config of tf.getKernelsForBackend("cpu")) {
    if (config.kernelName in DEVICE_FUSED_KERNELS) continue;
    const cpuKernel = config.kernelFunc as KernelFunc;
    const native = DEVICE_KERNELS[config.kernelName];
    const kernelFunc: KernelFunc = native
      ? native(cpuKernel)
      : (args) => (args.backend as DeviceBackend).runFallback(config.kernelName, cpuKernel, args);
    tf.registerKernel({ ...config, backendName, kernelFunc });
  }
  for (const [kernelName, kernelFunc] of Object.entries(DEVICE_FUSED_KERNELS))
    tf.registerKernel({ kernelName, backendName, kernelFunc });
}
