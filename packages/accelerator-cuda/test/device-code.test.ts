import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// The toolkit as binding.gyp finds it ($CUDA_PATH, $CUDA_HOME, nvcc on PATH, /usr/local/cuda), and the same
// -gencode flags: null where none is installed (CI's image).
const toolkit = require("../native/cuda-toolkit.cjs") as {
  findCudaToolkit(): { home: string | null; nvcc: string | null };
  gencodeFlags(nvcc: string): string[];
};
const nvcc = toolkit.findCudaToolkit().nvcc;
const sources = join(__dirname, "../native/cuda");
// The arithmetic the device code shares with the host build, in the host engine's package (as binding.gyp finds it).
const hostNative = execFileSync(process.execPath, [join(__dirname, "../native/host-engine.cjs"), "include"], {
  encoding: "utf8",
}).trim();

describe("the GPU build's device code", () => {
  it("lives apart from the host build and shares its arithmetic", () => {
    const files = readdirSync(sources).filter((f) => f.endsWith(".cu"));
    expect(files.sort()).toEqual([
      "conv_pool_kernels.cu",
      "data_kernels.cu",
      "elementwise_kernels.cu",
      "gemm_kernels.cu",
      "layer_norm_kernels.cu",
      "movement_kernels.cu",
      "optimizer_kernels.cu",
    ]);
  });

  // Only where a CUDA toolkit is installed: the device code must never rot, even before a GPU runs it.
  it.skipIf(nvcc === null)(
    "nvcc compiles every kernel for the targeted GPUs this nvcc has (sm_70, sm_75, sm_80, sm_90) plus PTX, warnings as errors",
    () => {
      const out = mkdtempSync(join(tmpdir(), "fulmen-nvcc-"));
      try {
        for (const file of readdirSync(sources).filter((f) => f.endsWith(".cu"))) {
          const object = join(out, file.replace(/\.cu$/, ".o"));
          const run = spawnSync(
            nvcc!,
            [
              "-std=c++17",
              "-O3",
              // Every multiply and add rounds on its own, as on the host and in tfjs (no fused multiply-add).
              "--fmad=false",
              "-Werror",
              "all-warnings",
              ...toolkit.gencodeFlags(nvcc!),
              `-I${hostNative}`,
              "-c",
              join(sources, file),
              "-o",
              object,
            ],
            { encoding: "utf8", timeout: 240_000 },
          );
          expect(run.status, `${file}: ${run.stderr}`).toBe(0);
          expect(statSync(object).size).toBeGreaterThan(10_000);
        }
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
    300_000,
  );
});
