import { FulmenError } from "@fulmen/core";
import { loadCudaEmulation } from "../cuda-engine";
import { registerDeviceBackend } from "./register-device-backend";

/**
 * The tfjs backend name of the GPU engine run by the host CUDA emulator (native/emulation/): the GPU build's own
 * kernels and engine code — launches, the caching allocator over "cudaMalloc", pinned staging, the tiled GEMM —
 * compiled by g++ against an emulated CUDA runtime, so CI runs the GPU's code without a GPU. Slow, and blind to
 * what only hardware shows (timing, warps, the GPU's memory model); for tests, not for training.
 */
export const CUDA_EMULATION_BACKEND = "fulmen-cuda-emulated";

/** Whether the emulated GPU engine is built (the host build makes it wherever a C++20 compiler is). */
export function isCudaEmulationAvailable(): boolean {
  return loadCudaEmulation() !== null;
}

/** Registers the emulated GPU engine's backend (once) and returns its tfjs backend name. */
export function registerCudaEmulationBackend(): string {
  const addon = loadCudaEmulation();
  if (addon === null)
    throw new FulmenError(
      "The CUDA emulator of @fulmen/accelerator-cuda is not built: it builds with the host engine " +
        "(apt-get install -y g++ make python3 libopenblas-dev, then pnpm rebuild @fulmen/accelerator-cuda).",
    );
  registerDeviceBackend(CUDA_EMULATION_BACKEND, () => addon.createCudaDevice(0));
  return CUDA_EMULATION_BACKEND;
}
