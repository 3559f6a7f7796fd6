import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Accelerator, FulmenError, tf } from "@fulmen/core";
import { acceleratorRegistry } from "@fulmen/core/plugin";
import "@tensorflow/tfjs-backend-cpu";
import {
  CUDA_EMULATION_ADDON_ENV,
  type CudaEngineAddon,
  loadCudaEmulation,
  loadCudaEngine,
} from "./cuda-engine";
import { registerDeviceBackend } from "./device/register-device-backend";

/** What the CUDA runtime reports (native/cuda_probe.cc). */
export interface CudaProbe {
  /** How many CUDA devices the runtime sees (`cudaGetDeviceCount`); 0 when it fails, with `error` set. */
  count: number;
  /**
   * Why the runtime found no device, as `cudaErrorName: description` (e.g. no driver, no GPU); absent when
   * `cudaGetDeviceCount` succeeded.
   */
  error?: string;
  /** One entry per device, in CUDA's device order; absent when `error` is set. */
  devices?: Array<{
    /** The device's name (`cudaDeviceProp.name`), e.g. "NVIDIA H100 80GB HBM3". */
    name: string;
    /** The device's total global memory, in bytes. */
    memoryBytes: number;
    /** The major number of the device's compute capability (9 for an H100). */
    major: number;
    /** The minor number of the device's compute capability. */
    minor: number;
  }>;
  /** Whether cuBLAS loads (GEMMs on it) or not (the engine's tiled GEMM kernel), and why not. */
  cublas: {
    /** True when cuBLAS loaded and its entry points resolved, so GEMMs run on it. */
    loaded: boolean;
    /** The library opened: `FULMEN_CUBLAS_PATH`, or a name such as "libcublas.so.12"; absent when none. */
    library?: string;
    /**
     * Why cuBLAS is not usable (not installed, an entry point missing, the emulator); absent when `loaded`.
     */
    error?: string;
  };
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

/** The tfjs backend name of the GPU engine. */
export const CUDA_BACKEND = "fulmen-cuda";

/**
 * Set to 1 to run the GPU engine before it has been verified on a GPU. Its backend passes every suite over host
 * memory and its device code compiles, but no GPU has run it yet; until one has, it is opt-in.
 */
export const CUDA_UNVERIFIED_ENV = "FULMEN_CUDA_UNVERIFIED";

/**
 * Set to 1 to run `accelerator: "cuda"` on the host CUDA emulator: the GPU engine's own code, launches and all,
 * on the CPU — slowly. For testing the GPU code path end to end (parity, DDP) on machines without a GPU; the
 * emulator's addon is named by FULMEN_CUDA_EMULATION_ADDON (the repository's @fulmen/cuda-testbed builds it).
 */
export const CUDA_EMULATE_ENV = "FULMEN_CUDA_EMULATE";

const emulating = () => process.env[CUDA_EMULATE_ENV] === "1";

/**
 * `accelerator: "cuda"` (alias `"gpu"`): the native engine's GPU build — tensors in GPU memory, the device
 * backend's kernels on the GPU, tfjs's CPU kernels (counted) for the rest. Where it cannot run it says exactly
 * why — no toolkit at install, no driver, no GPU, or a GPU engine not yet verified — instead of crashing.
 */
export class CudaAccelerator implements Accelerator {
  readonly name: string = "cuda";
  readonly backendName: string = CUDA_BACKEND;
  /** Tensors live in GPU memory: a tensor made from a host array copies it. */
  readonly uploadCopies: boolean = true;
  /** GPU memory is apart from the host's: sharded strategies can offload to host memory. */
  readonly hasDeviceMemory: boolean = true;
  /**
   * Every kernel of the engine sums in a fixed order (no atomics; block reductions combine in a fixed tree) and
   * runs on one stream, and cuBLAS gives the same bits run to run on one GPU model with one stream.
   */
  readonly deterministic: boolean = true;

  isAvailable(): boolean {
    return this.blocker() === null;
  }

  unavailableReason(): string {
    return this.blocker() ?? "it is available";
  }

  /** The number of GPUs the CUDA runtime sees (what `devices: "auto"` would use); the emulator has one. */
  autoDeviceCount(): number {
    if (emulating()) return 1;
    return probeCuda()?.count ?? 0;
  }

  /** Makes the GPU engine's backend current on GPU LOCAL_RANK (one GPU per process, as under DDP). */
  async setup(): Promise<void> {
    const blocker = this.blocker();
    if (blocker !== null) throw new FulmenError(`The "cuda" accelerator cannot run here: ${blocker}.`);
    // The emulator has one device, which every local rank shares.
    const ordinal = emulating() ? 0 : Number(process.env.LOCAL_RANK ?? 0) % this.autoDeviceCount();
    if (tf.findBackendFactory(CUDA_BACKEND) === null) {
      // Made here, not in the backend's factory, so that a CUDA error reaches the user instead of tfjs's warning.
      const engine: CudaEngineAddon = emulating() ? loadCudaEmulation()! : loadCudaEngine()!;
      const device = engine.createCudaDevice(ordinal);
      registerDeviceBackend(CUDA_BACKEND, () => device);
    }
    if (!(await tf.setBackend(CUDA_BACKEND)))
      throw new FulmenError(
        `The GPU engine's tfjs backend "${CUDA_BACKEND}" failed to initialise on cuda:${ordinal}.`,
      );
  }

  teardown(): void {}

  /** Why the GPU engine cannot run here, with the fix; null when it can. */
  private blocker(): string | null {
    if (emulating())
      return loadCudaEmulation() === null
        ? `${CUDA_EMULATE_ENV}=1 asks for the host CUDA emulator, and ${CUDA_EMULATION_ADDON_ENV} names no built emulator (it is a development tool of Fulmen's repository: the private @fulmen/cuda-testbed package builds it, and its emulatedCudaEnvironment() gives both variables)`
        : null;
    const probe = probeCuda();
    if (probe === null || loadCudaEngine() === null)
      return 'the GPU build of @fulmen/accelerator-cuda was not built (it needs the CUDA toolkit with nvcc when the package is installed, found through CUDA_PATH, CUDA_HOME, nvcc on PATH or /usr/local/cuda; then pnpm rebuild @fulmen/accelerator-cuda). Use accelerator "host" (@fulmen/accelerator-host), the native CPU engine';
    if (probe.count === 0)
      return `no usable NVIDIA GPU (${probe.error ?? "the CUDA runtime found no device"}); ${
        probe.error?.startsWith("cudaErrorInsufficientDriver")
          ? "this machine has no NVIDIA driver, or one older than this CUDA runtime needs"
          : "check the driver with nvidia-smi"
      }. Use accelerator "host" (the native CPU engine) or "wasm"`;
    if (process.env[CUDA_UNVERIFIED_ENV] !== "1") {
      const names = (probe.devices ?? []).map(
        (d) => `${d.name} (${(d.memoryBytes / 2 ** 30).toFixed(0)} GiB, sm_${d.major}${d.minor})`,
      );
      const gemm = probe.cublas.loaded
        ? `cuBLAS: ${probe.cublas.library}`
        : `${probe.cublas.error}; GEMMs would use the engine's tiled kernel`;
      return `found ${probe.count} NVIDIA GPU(s): ${names.join(", ")} (${gemm}), but the GPU engine has not yet been verified on a GPU, so it is opt-in: set ${CUDA_UNVERIFIED_ENV}=1 to use it. Use accelerator "host" (its CPU build) meanwhile`;
    }
    return null;
  }
}

for (const name of ["cuda", "gpu"]) {
  acceleratorRegistry.register(name, () => new CudaAccelerator(), {
    description: `NVIDIA GPUs through the native engine's GPU build (opt-in until verified on a GPU: ${CUDA_UNVERIFIED_ENV}=1)`,
    packageName: "@fulmen/accelerator-cuda",
  });
}
