import { existsSync } from "node:fs";
import { Fabric } from "@fulmen/fabric";
import { describe, expect, it } from "vitest";
import { CudaAccelerator, probeCuda } from "../src";

const hasToolkit = existsSync("/usr/local/cuda/include/cuda_runtime_api.h");

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

  it("is never chosen by auto, and asked for by name says why it cannot run and what to use instead", async () => {
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
  });
});
