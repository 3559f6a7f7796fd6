import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { CudaAccelerator } from "@fulmen/accelerator-cuda";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { isCudaEmulationAvailable } from "../src";

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

/** The built addons of the engines (the host engine's, the GPU engine's where built, the test bed's). */
const addons = [
  ["@fulmen/accelerator-host", "fulmen_engine.node"],
  ["@fulmen/accelerator-cuda", "fulmen_cuda_engine.node"],
  ["@fulmen/accelerator-cuda", "fulmen_cuda_probe.node"],
]
  .map(([name, file]) => join(dirname(require.resolve(`${name}/package.json`)), "build/Release", file!))
  .concat(join(__dirname, "../build/Release/fulmen_cuda_testbed.node"))
  .filter((path) => existsSync(path));

describe.each(targets)("tfjs-core's backend conformance specs on %s", (label, target) => {
  it("every spec of the kernels the engine implements passes", async () => {
    // Laid out as a package is, inside this one: the bundle in dist/ (it resolves jasmine, left external, from
    // this package's node_modules) and every engine's addon in build/Release, where each engine's code, bundled
    // with it, looks.
    const dir = join(__dirname, `../.conformance-${target}`);
    mkdirSync(join(dir, "dist"), { recursive: true });
    mkdirSync(join(dir, "build/Release"), { recursive: true });
    for (const addon of addons) copyFileSync(addon, join(dir, "build/Release", addon.split("/").at(-1)!));
    try {
      const bundle = join(dir, "dist", "conformance.mjs");
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
        env: { ...process.env, FULMEN_CONFORMANCE: target },
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
