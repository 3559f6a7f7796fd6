import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { configureOpenBlas } from "@fulmen/accelerator-host";
import type { NativeDevice } from "./device/native-device";

/** The GPU build's addon (native/cuda_engine_addon.cc), or its build for the host CUDA emulator. */
export interface CudaEngineAddon {
  /** A device engine on GPU `ordinal`; throws naming the CUDA error when it cannot be used. */
  createCudaDevice(ordinal: number): NativeDevice;
}

// From src/ and from the bundle in dist/ alike, the addons are in ../build/Release.
const releaseDir = join(dirname(fileURLToPath(import.meta.url)), "..", "build", "Release");
const loaded = new Map<string, unknown>();

function load<T>(file: string): T | null {
  const path = isAbsolute(file) ? file : join(releaseDir, file);
  if (!loaded.has(path) && existsSync(path)) loaded.set(path, createRequire(import.meta.url)(path));
  return (loaded.get(path) as T | undefined) ?? null;
}

/** The GPU engine's addon, or null where it was not built (no CUDA toolkit with nvcc when the package installed). */
export function loadCudaEngine(): CudaEngineAddon | null {
  return load<CudaEngineAddon>("fulmen_cuda_engine.node");
}

/** The variable that names the addon of the GPU engine built for the host CUDA emulator (a path). */
export const CUDA_EMULATION_ADDON_ENV = "FULMEN_CUDA_EMULATION_ADDON";

/**
 * The GPU engine built for the host CUDA emulator, from the addon FULMEN_CUDA_EMULATION_ADDON names, or null.
 * The emulator is a development tool of Fulmen's repository (the private `@fulmen/cuda-testbed` package builds
 * it, and its `emulatedCudaEnvironment()` gives this variable): no user install compiles it.
 */
export function loadCudaEmulation(): CudaEngineAddon | null {
  const path = process.env[CUDA_EMULATION_ADDON_ENV];
  if (path === undefined || path === "") return null;
  // The emulator's build runs the host engine's kernels on OpenBLAS: the engine's OpenBLAS settings first.
  configureOpenBlas();
  return load<CudaEngineAddon>(path);
}
