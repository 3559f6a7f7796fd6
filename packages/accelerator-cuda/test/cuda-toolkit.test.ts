import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// What binding.gyp runs to find the CUDA toolkit and choose nvcc's GPU targets.
const toolkit = require("../native/cuda-toolkit.cjs") as {
  findCudaToolkit(env: Record<string, string | undefined>): { home: string | null; nvcc: string | null };
  gencodeFlags(nvcc: string, list?: () => string): string[];
};

const root = mkdtempSync(join(tmpdir(), "fulmen-cuda-toolkit-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A toolkit folder with what the addons need (headers, the static runtime), and nvcc when asked. */
function fakeToolkit(name: string, withNvcc = true): string {
  const home = join(root, name);
  for (const dir of ["include", "lib64", "bin"]) mkdirSync(join(home, dir), { recursive: true });
  writeFileSync(join(home, "include", "cuda_runtime_api.h"), "");
  writeFileSync(join(home, "lib64", "libcudart_static.a"), "");
  if (withNvcc) {
    writeFileSync(join(home, "bin", "nvcc"), "#!/bin/sh\n");
    chmodSync(join(home, "bin", "nvcc"), 0o755);
  }
  return home;
}

describe("finding the CUDA toolkit (native/cuda-toolkit.cjs)", () => {
  it("takes $CUDA_PATH, then $CUDA_HOME, then the nvcc on PATH, and only folders with headers and runtime", () => {
    const byPath = fakeToolkit("by-path");
    const byHome = fakeToolkit("by-home");
    const onPath = fakeToolkit("on-path");
    const incomplete = join(root, "incomplete");
    mkdirSync(join(incomplete, "bin"), { recursive: true });
    const links = join(root, "links");
    mkdirSync(links);
    symlinkSync(join(onPath, "bin", "nvcc"), join(links, "nvcc"));
    const env = { CUDA_PATH: byPath, CUDA_HOME: byHome, PATH: links };
    expect(toolkit.findCudaToolkit(env)).toEqual({ home: byPath, nvcc: join(byPath, "bin", "nvcc") });
    expect(toolkit.findCudaToolkit({ ...env, CUDA_PATH: incomplete }).home).toBe(byHome);
    // nvcc reached through a link on PATH: the toolkit is the folder above the real nvcc's.
    expect(toolkit.findCudaToolkit({ PATH: links }).home).toBe(onPath);
    const noCompiler = fakeToolkit("runtime-only", false);
    expect(toolkit.findCudaToolkit({ CUDA_PATH: noCompiler })).toEqual({ home: noCompiler, nvcc: null });
  });

  it("builds for V100, T4, A100 and H100 where nvcc still has them, with PTX of the newest", () => {
    const cuda12 = "compute_50 compute_70 compute_75 compute_80 compute_86 compute_90";
    expect(toolkit.gencodeFlags("nvcc", () => cuda12)).toEqual([
      "-gencode",
      "arch=compute_70,code=sm_70",
      "-gencode",
      "arch=compute_75,code=sm_75",
      "-gencode",
      "arch=compute_80,code=sm_80",
      "-gencode",
      "arch=compute_90,code=sm_90",
      "-gencode",
      "arch=compute_90,code=compute_90",
    ]);
    // CUDA 13 dropped Volta: sm_70 is left out rather than failing the build.
    const cuda13 = "compute_75 compute_80 compute_86 compute_90 compute_100 compute_120";
    expect(toolkit.gencodeFlags("nvcc", () => cuda13)).not.toContain("arch=compute_70,code=sm_70");
    expect(toolkit.gencodeFlags("nvcc", () => cuda13)).toContain("arch=compute_75,code=sm_75");
    // An nvcc older than --list-gpu-arch has every target.
    const old = toolkit.gencodeFlags("nvcc", () => {
      throw new Error("nvcc fatal: Unknown option '--list-gpu-arch'");
    });
    expect(old).toContain("arch=compute_70,code=sm_70");
  });
});
