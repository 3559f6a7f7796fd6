import { registerDeviceBackend } from "@fulmen/accelerator-cuda";
import { loadTestbed } from "./testbed-addon";

/**
 * The tfjs backend name of the device backend over host memory: the GPU engine's backend with the host build's
 * kernels behind it. Tensors live in memory JavaScript reaches only by copying, exactly as on a GPU, so CI tests
 * the device backend's bookkeeping (allocation, references, moves, counted fallbacks) without one. For speed on
 * a CPU, use the "host" accelerator, which needs no copies.
 */
export const HOST_MEMORY_DEVICE_BACKEND = "fulmen-device-host";

/** Registers the device backend over host memory (once) and returns its tfjs backend name. */
export function registerHostMemoryDeviceBackend(): string {
  const addon = loadTestbed();
  registerDeviceBackend(HOST_MEMORY_DEVICE_BACKEND, () => addon.createHostMemoryDevice());
  return HOST_MEMORY_DEVICE_BACKEND;
}
