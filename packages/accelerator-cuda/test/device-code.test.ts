import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** nvcc from $NVCC, the CUDA toolkit's usual place, or PATH; null where none is installed (CI's image). */
function findNvcc(): string | null {
  const candidates = [process.env.NVCC, "/usr/local/cuda/bin/nvcc"].filter((c): c is string => !!c);
  for (const candidate of candidates) if (existsSync(candidate)) return candidate;
  const which = spawnSync("sh", ["-c", "command -v nvcc"], { encoding: "utf8" });
  return which.status === 0 && which.stdout.trim() !== "" ? which.stdout.trim() : null;
}

const nvcc = findNvcc();
const sources = join(__dirname, "../native/cuda");

describe("the GPU build's device code", () => {
  it("lives beside the host build and shares its arithmetic", () => {
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
    "nvcc compiles every kernel for sm_80 and sm_90 plus PTX, warnings as errors",
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
              "-gencode",
              "arch=compute_80,code=sm_80",
              "-gencode",
              "arch=compute_90,code=sm_90",
              "-gencode",
              "arch=compute_90,code=compute_90",
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
