import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { NativeDevice } from "./device/native-device";

/** The GPU build's addon (native/cuda_engine_addon.cc). */
export interface CudaEngineAddon {
  /** A device engine on GPU `ordinal`; throws naming the CUDA error when it cannot be used. */
  createCudaDevice(ordinal: number): NativeDevice;
}

const addonPath = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "build",
  "Release",
  "fulmen_cuda_engine.node",
);
let loaded: CudaEngineAddon | null = null;

/** The GPU engine's addon, or null where it was not built (no CUDA toolkit with nvcc when the package installed). */
export function loadCudaEngine(): CudaEngineAddon | null {
  if (loaded === null && existsSync(addonPath))
    loaded = createRequire(import.meta.url)(addonPath) as CudaEngineAddon;
  return loaded;
}
