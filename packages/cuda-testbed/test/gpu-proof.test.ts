import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { gypiSources } from "../../../tooling/test-helpers/native-unit-test";

const root = join(__dirname, "..");
// What the test bed's addon compiles from the packages it tests, found as binding.gyp finds it.
const packages = require("../native/package-sources.cjs") as {
  packageRoot(name: string): string;
  packageSources(name: string, lists: string[]): string[];
};
const cudaRoot = packages.packageRoot("@fulmen/accelerator-cuda");
const hostRoot = packages.packageRoot("@fulmen/accelerator-host");

/** Node's C headers: the system's (Debian's nodejs), beside this Node, or node-gyp's cache. */
function nodeHeaders(): string | null {
  const candidates = [
    "/usr/include/node",
    join(process.execPath, "..", "..", "include", "node"),
    join(process.env.HOME ?? "", ".cache", "node-gyp", process.versions.node, "include", "node"),
  ];
  return candidates.find((dir) => existsSync(join(dir, "node_api.h"))) ?? null;
}

interface Report {
  device: string;
  conformance?: { passed: number; failed: number; failures: string[] };
  checks: { passed: number; failed: number; failures: string[] };
}

/** Runs the bundled proof with `args`; its report. */
function runProof(args: string[], env: NodeJS.ProcessEnv = process.env): Report {
  const run = spawnSync(process.execPath, [join(root, ".gpu-proof", "dist", "gpu-proof.mjs"), ...args], {
    encoding: "utf8",
    cwd: root,
    env,
    timeout: 600_000,
    maxBuffer: 1 << 26,
  });
  expect(run.status, `${run.stdout.slice(-3000)}\n${run.stderr.slice(-5000)}`).toBe(0);
  return JSON.parse(run.stdout) as Report;
}

// The GPU proof is run on a GPU only when a task is lent one; bundling it and running it over host memory and,
// under AddressSanitizer and UBSan, on the CUDA emulator on every CI run keeps it — and the GPU's code — honest
// in between.
describe("the GPU proof bundle", () => {
  it("bundles, and passes every Fulmen check over host memory", () => {
    const bundle = spawnSync(process.execPath, [join(root, "proof", "build.mjs")], {
      encoding: "utf8",
      cwd: root,
    });
    expect(bundle.status, bundle.stderr).toBe(0);
    const report = runProof(["--target", "device", "--skip-conformance", "--skip-bench"]);
    expect(report.device).toBe("host memory");
    expect(report.checks.failures).toEqual([]);
    expect(report.checks.passed).toBeGreaterThan(40);
  }, 300_000);

  // device-check.sh is what a session with a GPU runs in its one device call: both runs, each one's exit code.
  it("runs the plain and the sanitized proof in one call (device-check.sh, a stand-in sanitizer)", () => {
    const dir = mkdtempSync(join(tmpdir(), "fulmen-device-check-"));
    try {
      // compute-sanitizer's place on PATH: drops "--tool memcheck --error-exitcode 9" and runs the proof.
      writeFileSync(join(dir, "compute-sanitizer"), '#!/bin/sh\necho sanitized >&2\nshift 4\nexec "$@"\n');
      chmodSync(join(dir, "compute-sanitizer"), 0o755);
      const out = join(dir, "out");
      const run = spawnSync("sh", [join(root, ".gpu-proof", "device-check.sh"), out, "300"], {
        encoding: "utf8",
        env: {
          ...process.env,
          PATH: `${dir}:${dirname(process.execPath)}:${process.env.PATH}`,
          FULMEN_PROOF_ARGS: "--target device --skip-conformance --skip-bench",
        },
        timeout: 300_000,
      });
      expect(run.stdout).toMatch(/^plain run: exit 0$/m);
      expect(run.stdout).toMatch(/^sanitized run: exit 0 \(.*compute-sanitizer, \d+ s allowed\)$/m);
      expect(readFileSync(join(out, "sanitizer", "stderr.txt"), "utf8")).toContain("sanitized");
      for (const part of ["plain", "sanitizer"]) {
        const report = JSON.parse(readFileSync(join(out, part, "report.json"), "utf8")) as Report;
        expect(report.checks.failures).toEqual([]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  // The GPU build's cuBLAS calls — Sgemm and, on half storage, GemmEx with its data and compute types — against
  // an emulated cuBLAS written from the library's documented semantics.
  it("passes every check with the GPU engine's GEMMs going through its cuBLAS calls (emulated cuBLAS)", () => {
    const report = runProof(["--target", "emulated", "--skip-conformance", "--skip-bench"], {
      ...process.env,
      FULMEN_CUDA_EMULATE_CUBLAS: "1",
    });
    expect(report.device).toMatch(/emulator.*\(cuBLAS\)$/);
    expect(report.checks.failures).toEqual([]);
    expect(report.checks.passed).toBeGreaterThan(40);
  }, 300_000);

  // The host analogue of running the suites under compute-sanitizer: the GPU build's kernels and engine, built
  // for the emulator with AddressSanitizer and UBSan, run tfjs-core's conformance specs and every proof check; an
  // out-of-bounds access, a use after free or undefined behaviour in any kernel aborts the run.
  it("runs the GPU engine's code clean under AddressSanitizer and UBSan (CUDA emulator)", () => {
    const dir = mkdtempSync(join(tmpdir(), "fulmen-asan-"));
    try {
      const addon = join(dir, "fulmen_cuda_testbed.node");
      // node-addon-api's headers sit in its package folder (its include_dir is that folder relative to the
      // working directory it was loaded from, which a workspace-wide test run does not make this package's).
      const napi = dirname(createRequire(join(root, "package.json")).resolve("node-addon-api/package.json"));
      const headers = nodeHeaders();
      expect(headers, "Node's C headers (node_api.h) are needed to build the sanitized addon").not.toBeNull();
      execFileSync(
        "g++",
        [
          "-std=c++20",
          "-O1",
          "-g",
          "-fsanitize=address,undefined",
          "-fno-sanitize-recover=undefined",
          "-fno-omit-frame-pointer",
          "-ffp-contract=off",
          "-fPIC",
          "-shared",
          "-DFULMEN_CUDA_EMULATION",
          "-DNAPI_CPP_EXCEPTIONS",
          `-I${napi}`,
          `-I${headers}`,
          `-I${join(root, "native")}`,
          `-I${join(cudaRoot, "native")}`,
          `-I${join(hostRoot, "native")}`,
          ...gypiSources(root, "testbed_sources"),
          ...packages.packageSources("@fulmen/accelerator-cuda", [
            "cuda_engine_host_sources",
            "device_napi_sources",
          ]),
          ...packages.packageSources("@fulmen/accelerator-host", ["host_kernel_sources"]),
          "-o",
          addon,
          "-lopenblas",
          "-pthread",
          "-ldl",
        ],
        { stdio: "pipe" },
      );
      const runtime = ["libasan.so", "libubsan.so"].map((lib) =>
        execFileSync("g++", [`-print-file-name=${lib}`], { encoding: "utf8" }).trim(),
      );
      // g++ names a library it cannot find by its bare name.
      expect(
        runtime.every((lib) => lib.startsWith("/")),
        `sanitizer runtimes: ${runtime.join(", ")}`,
      ).toBe(true);
      const report = runProof(["--target", "emulated", "--skip-bench"], {
        ...process.env,
        FULMEN_CUDA_EMULATION_ADDON: addon,
        LD_PRELOAD: runtime.join(" "),
        // Node itself is not instrumented and keeps memory until it exits: leaks are not this test's question.
        ASAN_OPTIONS: "detect_leaks=0:abort_on_error=1",
        UBSAN_OPTIONS: "print_stacktrace=1",
      });
      expect(report.device).toMatch(/^cuda:0 Fulmen CUDA emulator/);
      expect(report.conformance?.failures).toEqual([]);
      expect(report.conformance?.passed).toBeGreaterThan(1500);
      expect(report.checks.failures).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
