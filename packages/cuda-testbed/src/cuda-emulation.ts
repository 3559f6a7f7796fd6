import {
  CUDA_EMULATE_ENV,
  CUDA_EMULATION_ADDON_ENV,
  type CudaEngineAddon,
  loadCudaEmulation,
  registerDeviceBackend,
} from "@fulmen/accelerator-cuda";
import { isTestbedBuilt, loadTestbed, TESTBED_ADDON } from "./testbed-addon";

/**
 * The tfjs backend name of the GPU engine run by the host CUDA emulator (native/emulation/): the GPU build's own
 * kernels and engine code — launches, the caching allocator over "cudaMalloc", pinned staging, the tiled GEMM —
 * compiled by g++ against an emulated CUDA runtime, so CI runs the GPU's code without a GPU. Slow, and blind to
 * what only hardware shows (timing, warps, the GPU's memory model); for tests, not for training.
 */
export const CUDA_EMULATION_BACKEND = "fulmen-cuda-emulated";

/** Whether the emulated GPU engine is built (with the test bed, wherever a C++20 compiler and OpenBLAS are). */
export function isCudaEmulationAvailable(): boolean {
  return isTestbedBuilt();
}

/**
 * The environment that makes `accelerator: "cuda"` run on this emulator, in a process started with it (parity,
 * the sharded strategies' offload tests): FULMEN_CUDA_EMULATE=1 and the emulator's addon.
 */
export function emulatedCudaEnvironment(): Record<string, string> {
  return { [CUDA_EMULATE_ENV]: "1", [CUDA_EMULATION_ADDON_ENV]: TESTBED_ADDON };
}

/**
 * Registers the emulated GPU engine's backend (once) and returns its tfjs backend name. FULMEN_CUDA_EMULATION_ADDON
 * names another build of it to use instead (the sanitizer run's: test/gpu-proof.test.ts).
 */
export function registerCudaEmulationBackend(): string {
  const addon: CudaEngineAddon = loadCudaEmulation() ?? loadTestbed();
  registerDeviceBackend(CUDA_EMULATION_BACKEND, () => addon.createCudaDevice(0));
  return CUDA_EMULATION_BACKEND;
}
