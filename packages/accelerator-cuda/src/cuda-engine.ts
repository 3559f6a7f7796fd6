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

/** The addon of the device backend over host memory (native/device/host_memory_device_addon.cc). */
export interface HostMemoryDeviceAddon {
  /** The device backend's engine over host memory, with the host build's kernels behind it. */
  createHostMemoryDevice(): NativeDevice;
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

/**
 * The GPU engine built for the host CUDA emulator, or null where it was not built. FULMEN_CUDA_EMULATION_ADDON
 * names another build of it to load instead (the sanitizer run's: test/gpu-proof.test.ts).
 */
export function loadCudaEmulation(): CudaEngineAddon | null {
  return load<CudaEngineAddon>(process.env.FULMEN_CUDA_EMULATION_ADDON ?? "fulmen_cuda_emulation.node");
}

/** The device backend over host memory's addon, or null where it was not built (no OpenBLAS at install). */
export function loadHostMemoryDevice(): HostMemoryDeviceAddon | null {
  return load<HostMemoryDeviceAddon>("fulmen_host_memory_device.node");
}
