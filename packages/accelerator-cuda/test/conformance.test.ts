import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { CudaAccelerator, isCudaEmulationAvailable } from "../src";

// The host engine's backend, the device backend (the GPU engine's) over host memory, and the GPU engine on a GPU
// where it runs (FULMEN_CUDA_UNVERIFIED=1).
const targets: Array<[string, string]> = [
  ["the host engine", "host"],
  ["the device backend over host memory", "device"],
];
if (isCudaEmulationAvailable())
  targets.push(
    ["the GPU engine on the CUDA emulator", "emulated"],
    ["the GPU engine's cuBLAS calls on the CUDA emulator", "emulated-cublas"],
  );
if (new CudaAccelerator().isAvailable()) targets.push(["the GPU engine", "cuda"]);

const hostEngineAddon = join(
  dirname(require.resolve("@fulmen/accelerator-host/package.json")),
  "build/Release/fulmen_engine.node",
);

describe.each(targets)("tfjs-core's backend conformance specs on %s", (label, target) => {
  it("every spec of the kernels the engine implements passes", async () => {
    // One level inside the package, as dist/ is: the bundle resolves jasmine (left external) from the package's
    // node_modules and finds the addon in ../build as the package does.
    const dir = join(__dirname, `../.conformance-${target}`);
    mkdirSync(dir, { recursive: true });
    try {
      const bundle = join(dir, "conformance.mjs");
      await build({
        entryPoints: [join(__dirname, "conformance/entry.mjs")],
        bundle: true,
        platform: "node",
        format: "esm",
        outfile: bundle,
        // tfjs-core marks its test modules side-effect free; they register specs when imported.
        ignoreAnnotations: true,
        external: ["*.node", "jasmine"],
        banner: {
          js: "import { createRequire as __fulmenRequire } from 'node:module'; const require = __fulmenRequire(import.meta.url);",
        },
        logLevel: "error",
      });
      const run = spawnSync(process.execPath, [bundle], {
        encoding: "utf8",
        timeout: 300_000,
        cwd: join(__dirname, ".."),
        // The bundle holds the host engine's code too; its addon stays in its own package.
        env: { ...process.env, FULMEN_CONFORMANCE: target, FULMEN_HOST_ENGINE_ADDON: hostEngineAddon },
      });
      const last = run.stdout.trim().split("\n").at(-1) ?? "";
      expect(last.startsWith("{"), `${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`).toBe(true);
      const result = JSON.parse(last) as {
        device: string;
        passed: number;
        failed: number;
        failures: string[];
      };
      // The cuBLAS run must really have gone through cuBLAS's entry points (the engine says which GEMM it uses).
      if (target === "emulated-cublas") expect(result.device).toMatch(/emulator.*\(cuBLAS\)$/);
      if (target === "emulated") expect(result.device).toMatch(/emulator.*\(tiled GEMM\)$/);
      expect(result.failures).toEqual([]);
      expect(result.passed).toBeGreaterThan(300);
      console.log(`tfjs-core conformance on ${label}: ${result.passed} specs passed`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
