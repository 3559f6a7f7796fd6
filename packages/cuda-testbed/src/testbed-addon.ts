import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CudaEngineAddon, NativeDevice } from "@fulmen/accelerator-cuda";
import { configureOpenBlas } from "@fulmen/accelerator-host";
import { FulmenError } from "@fulmen/core";

/** The test bed's addon (native/testbed_addon.cc): the emulated GPU engine and the device over host memory. */
export interface TestbedAddon extends CudaEngineAddon {
  /** The device backend's engine over host memory, with the host build's kernels behind it. */
  createHostMemoryDevice(): NativeDevice;
}

// src/ and dist/ both sit one level below the package root.
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Where the test bed's addon is (whether or not it was built). */
export const TESTBED_ADDON = join(packageRoot, "build", "Release", "fulmen_cuda_testbed.node");

let loaded: TestbedAddon | null = null;

/** Whether the test bed's addon is built here. */
export function isTestbedBuilt(): boolean {
  return existsSync(TESTBED_ADDON);
}

/** Loads the test bed's addon, or throws saying why it is missing and how to build it. */
export function loadTestbed(): TestbedAddon {
  if (loaded !== null) return loaded;
  if (!isTestbedBuilt()) {
    const reasonFile = join(packageRoot, "build", "unavailable.txt");
    const reason = existsSync(reasonFile) ? readFileSync(reasonFile, "utf8").trim() : "it was never built";
    throw new FulmenError(
      `The GPU test bed's addon (@fulmen/cuda-testbed) is not built: ${reason}. It needs a C++20 compiler and ` +
        "OpenBLAS (apt-get install -y g++ make python3 libopenblas-dev), then pnpm rebuild @fulmen/cuda-testbed.",
    );
  }
  // It links OpenBLAS (the device over host memory runs the host build's kernels): the engine's settings first,
  // so that both use the same kernels whichever loads OpenBLAS first.
  configureOpenBlas();
  loaded = createRequire(import.meta.url)(TESTBED_ADDON) as TestbedAddon;
  return loaded;
}
