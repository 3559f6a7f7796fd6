import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Accelerator, acceleratorRegistry, FulmenError } from "@fulmen/core";

/** What the CUDA runtime reports (native/cuda_probe.cc). */
export interface CudaProbe {
  count: number;
  error?: string;
  devices?: Array<{ name: string; memoryBytes: number; major: number; minor: number }>;
  /** Whether cuBLAS loads (GEMMs on it) or not (the engine's tiled GEMM kernel), and why not. */
  cublas: { loaded: boolean; library?: string; error?: string };
}

const probePath = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "build",
  "Release",
  "fulmen_cuda_probe.node",
);
let probed: CudaProbe | null = null;

/**
 * Asks the CUDA runtime (linked statically, so it loads without any CUDA library) which NVIDIA GPUs this
 * machine has; `error` says why there are none (no driver, no device). Null when the probe was not built (no
 * CUDA toolkit when the package was installed).
 */
export function probeCuda(): CudaProbe | null {
  if (probed !== null) return probed;
  if (!existsSync(probePath)) return null;
  probed = (createRequire(import.meta.url)(probePath) as { probe(): CudaProbe }).probe();
  return probed;
}

/**
 * `accelerator: "cuda"` (alias `"gpu"`). The GPU build of the native engine is not released yet, so this
 * accelerator is never available; it finds the machine's GPUs and, asked for by name, says exactly why it cannot
 * run — no driver, no GPU, or GPUs that the engine cannot use yet — instead of crashing.
 */
export class CudaAccelerator implements Accelerator {
  readonly name: string = "cuda";
  readonly backendName: string = "fulmen-cuda";

  isAvailable(): boolean {
    return false;
  }

  unavailableReason(): string {
    const probe = probeCuda();
    if (probe === null)
      return 'the CUDA probe of @fulmen/accelerator-cuda was not built (no CUDA toolkit in /usr/local/cuda at install); and the GPU build of the engine is not released yet — use accelerator "host", its CPU build';
    if (probe.count === 0)
      return `no usable NVIDIA GPU (${probe.error ?? "the CUDA runtime found no device"}); ${
        probe.error?.startsWith("cudaErrorInsufficientDriver")
          ? "this machine has no NVIDIA driver, or one older than this CUDA runtime needs"
          : "check the driver with nvidia-smi"
      }. Use accelerator "host" (the engine's CPU build) or "wasm"`;
    const names = (probe.devices ?? []).map(
      (d) => `${d.name} (${(d.memoryBytes / 2 ** 30).toFixed(0)} GiB, sm_${d.major}${d.minor})`,
    );
    const gemm = probe.cublas.loaded
      ? `cuBLAS: ${probe.cublas.library}`
      : `${probe.cublas.error}; GEMMs would use the engine's tiled kernel`;
    return `found ${probe.count} NVIDIA GPU(s): ${names.join(", ")} (${gemm}), but the GPU build of the native engine is not released yet. Use accelerator "host" (its CPU build) meanwhile`;
  }

  /** The number of GPUs the CUDA runtime sees (what `devices: "auto"` would use). */
  autoDeviceCount(): number {
    return probeCuda()?.count ?? 0;
  }

  async setup(): Promise<void> {
    throw new FulmenError(`The "cuda" accelerator cannot run here: ${this.unavailableReason()}.`);
  }

  teardown(): void {}
}

for (const name of ["cuda", "gpu"]) {
  acceleratorRegistry.register(name, () => new CudaAccelerator(), {
    description:
      "NVIDIA GPUs through the native engine (GPU build not released yet; finds GPUs and says why not)",
    packageName: "@fulmen/accelerator-cuda",
  });
}
