// The GPU proof: what issue 6 asks a GPU to show, in one bundled file that runs with a bare Node binary and the
// GPU engine's addon (no node_modules; see proof/README.md). It runs tfjs-core's conformance specs, Fulmen's
// kernel, training, optimizer and rounding checks against tfjs's cpu backend, and the training throughput of
// three models against PyTorch on the same GPU, and prints (and with --out writes) one JSON report.
//
//   node gpu-proof.mjs [--target cuda|emulated|device] [--out DIR] [--skip-conformance] [--skip-bench]
//
// Dry runs on any machine: --target emulated runs the GPU engine's own code on the host CUDA emulator,
// --target device the device backend over host memory.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { tf } from "@fulmen/core";
import "@tensorflow/tfjs-backend-cpu";
import {
  CUDA_BACKEND,
  CudaAccelerator,
  type DeviceBackend,
  loadCudaEngine,
  probeCuda,
} from "@fulmen/accelerator-cuda";
import { registerCudaEmulationBackend, registerHostMemoryDeviceBackend } from "../src/index";
import { benchAgainstTorch } from "./bench";
import { guardChecks } from "./checks/guard-checks";
import { halfChecks } from "./checks/half-checks";
import { kernelChecks } from "./checks/kernel-checks";
import { optimizerChecks } from "./checks/optimizer-checks";
import { roundingChecks } from "./checks/rounding-checks";
import { trainingChecks } from "./checks/training-checks";
import { runConformance } from "./conformance";
import { CheckRun, type Outcome } from "./harness";

const { values: options } = parseArgs({
  options: {
    target: { type: "string", default: "cuda" },
    out: { type: "string" },
    "skip-conformance": { type: "boolean", default: false },
    "skip-bench": { type: "boolean", default: false },
  },
});

const report: Record<string, unknown> = { target: options.target, startedAt: new Date().toISOString() };

/** Makes the target backend current (the GPU engine is opt-in until this proof has passed on a GPU). */
async function setUpTarget(): Promise<string> {
  if (options.target === "device") return registerHostMemoryDeviceBackend();
  if (options.target === "emulated") return registerCudaEmulationBackend();
  process.env.FULMEN_CUDA_UNVERIFIED ??= "1";
  report.probe = probeCuda();
  if (loadCudaEngine() === null)
    throw new Error("the GPU engine's addon is not in build/Release next to this file");
  await new CudaAccelerator().setup();
  return CUDA_BACKEND;
}

let backendName: string;
try {
  backendName = await setUpTarget();
} catch (error) {
  // No GPU, no driver, no addon: the report says which, and the exit code (2) that nothing was checked.
  report.error = (error as Error).message;
  console.log(JSON.stringify(report, null, 2));
  process.exit(2);
}
await tf.setBackend(backendName);
report.device = (tf.backend() as DeviceBackend).device.describe();

if (!options["skip-conformance"]) report.conformance = await runConformance(options.target, backendName);
await tf.setBackend(backendName);
const run = new CheckRun(backendName);
for (const checks of [kernelChecks, trainingChecks, optimizerChecks, roundingChecks, halfChecks, guardChecks])
  await checks(run);
report.checks = run.outcome;
if (!options["skip-bench"]) report.bench = benchAgainstTorch(options.target === "cuda" ? "cuda" : "cpu");
report.finishedAt = new Date().toISOString();

const text = JSON.stringify(report, null, 2);
console.log(text);
if (options.out !== undefined) {
  mkdirSync(options.out, { recursive: true });
  writeFileSync(join(options.out, `gpu-proof-${options.target}.json`), `${text}\n`);
}
const conformanceFailed = (report.conformance as Outcome | undefined)?.failed ?? 0;
process.exitCode = run.outcome.failed + conformanceFailed > 0 ? 1 : 0;
