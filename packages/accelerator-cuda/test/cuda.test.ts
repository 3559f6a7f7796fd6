import { existsSync } from "node:fs";
import { Fabric } from "@fulmen/fabric";
import { describe, expect, it } from "vitest";
import { CudaAccelerator, loadCudaEngine, probeCuda } from "../src";

const hasToolkit = existsSync("/usr/local/cuda/include/cuda_runtime_api.h");
const hasNvcc = hasToolkit && existsSync("/usr/local/cuda/bin/nvcc");

describe('accelerator "cuda"', () => {
  it.runIf(hasToolkit)("probes the CUDA runtime without crashing, whatever the machine has", () => {
    const probe = probeCuda();
    expect(probe).not.toBeNull();
    if (probe!.count === 0) expect(probe!.error).toMatch(/^cuda\w+: /);
    else expect(probe!.devices).toHaveLength(probe!.count);
    expect(new CudaAccelerator().autoDeviceCount()).toBe(probe!.count);
    // cuBLAS is loaded at run time: either it is there, or the probe says why (this machine has no libcublas).
    if (probe!.cublas.loaded) expect(probe!.cublas.library).toMatch(/^libcublas\.so/);
    else expect(probe!.cublas.error).toMatch(/^cuBLAS (is not installed \(.*libcublas|has no \w+)/);
  });

  it.runIf(hasNvcc)(
    "builds the GPU engine with nvcc; without a GPU, making a device names the CUDA error",
    () => {
      const engine = loadCudaEngine();
      expect(engine).not.toBeNull();
      if (probeCuda()!.count > 0) {
        const device = engine!.createCudaDevice(0);
        expect(device.describe()).toMatch(/^cuda:0 /);
      } else {
        expect(() => engine!.createCudaDevice(0)).toThrow(/^cuda:0: cudaGetDeviceCount failed: cuda\w+ \(/);
      }
    },
  );

  it.skipIf(new CudaAccelerator().isAvailable())(
    "where it cannot run, auto never picks it and asking for it by name says why and what to use instead",
    async () => {
      expect(new Fabric({ accelerator: "auto" }).accelerator.name).not.toBe("cuda");
      for (const name of ["cuda", "gpu"]) {
        expect(() => new Fabric({ accelerator: name })).toThrow(
          new RegExp(`The accelerator "${name}" is not available on this machine: .*Use accelerator "host"`),
        );
      }
      await expect(new CudaAccelerator().setup()).rejects.toThrow(/The "cuda" accelerator cannot run here/);
      const probe = probeCuda();
      if (probe !== null && probe.count === 0 && probe.error?.startsWith("cudaErrorInsufficientDriver"))
        expect(new CudaAccelerator().unavailableReason()).toMatch(/no NVIDIA driver/);
      if (probe !== null && probe.count > 0)
        expect(new CudaAccelerator().unavailableReason()).toMatch(
          /not yet been verified on a GPU.*FULMEN_CUDA_UNVERIFIED=1/,
        );
    },
  );
});
