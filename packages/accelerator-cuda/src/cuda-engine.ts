import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { NativeDevice } from "./device/native-device";

/** The GPU build's addon (native/cuda_engine_addon.cc), or its build for the host CUDA emulator. */
export interface CudaEngineAddon {
  /** A device engine on GPU `ordinal`; throws naming the CUDA error when it cannot be used. */
  createCudaDevice(ordinal: number): NativeDevice;
}

// From src/ and from the bundle in dist/ alike, the addons are in ../build/Release.
const releaseDir = join(dirname(fileURLToPath(import.meta.url)), "..", "build", "Release");
const loaded = new Map<string, CudaEngineAddon>();

function load(file: string): CudaEngineAddon | null {
  const path = isAbsolute(file) ? file : join(releaseDir, file);
  if (!loaded.has(path) && existsSync(path))
    loaded.set(path, createRequire(import.meta.url)(path) as CudaEngineAddon);
  return loaded.get(path) ?? null;
}

/** The GPU engine's addon, or null where it was not built (no CUDA toolkit with nvcc when the package installed). */
export function loadCudaEngine(): CudaEngineAddon | null {
  return load("fulmen_cuda_engine.node");
}

/**
 * The GPU engine built for the host CUDA emulator, or null where it was not built. FULMEN_CUDA_EMULATION_ADDON
 * names another build of it to load instead (the sanitizer run's: test/gpu-proof.test.ts).
 */
export function loadCudaEmulation(): CudaEngineAddon | null {
  return load(process.env.FULMEN_CUDA_EMULATION_ADDON ?? "fulmen_cuda_emulation.node");
}
