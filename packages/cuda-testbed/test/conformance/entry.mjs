// tfjs-core's own backend conformance specs, run against the native engine's host backend. esbuild bundles
// this file (tfjs-core's test modules are extensionless ESM), jasmine runs it. Prints one JSON line of totals.

import { CUDA_BACKEND, CudaAccelerator } from "@fulmen/accelerator-cuda";
import { HOST_BACKEND, HostAccelerator } from "@fulmen/accelerator-host";
import { tf } from "@fulmen/core";
import Jasmine from "jasmine";
import { registerCudaEmulationBackend, registerHostMemoryDeviceBackend } from "../../src/index";
import { importConformanceSpecs } from "./specs.mjs";

const runner = new Jasmine();
runner.exitOnCompletion = false;
runner.env.configure({ random: false });
const { setTestEnvs } = await import("@tensorflow/tfjs-core/dist/jasmine_util");
// FULMEN_CONFORMANCE: "device" (the device backend over host memory), "emulated" (the GPU engine on the host
// CUDA emulator, GEMMs on its tiled kernel), "emulated-cublas" (the same, GEMMs through its cuBLAS calls to the
// emulated cuBLAS), "cuda" (the GPU engine on a GPU), or the host engine.
const target = process.env.FULMEN_CONFORMANCE ?? "host";
if (target === "emulated-cublas") process.env.FULMEN_CUDA_EMULATE_CUBLAS = "1";
await new HostAccelerator().setup();
if (target === "cuda") await new CudaAccelerator().setup();
const backends = {
  device: () => registerHostMemoryDeviceBackend(),
  emulated: () => registerCudaEmulationBackend(),
  "emulated-cublas": () => registerCudaEmulationBackend(),
  cuda: () => CUDA_BACKEND,
};
const backendName = backends[target]?.() ?? HOST_BACKEND;
setTestEnvs([{ name: target, backendName, isDataSync: true }]);
const failures = [];
let passed = 0;
runner.env.addReporter({
  specDone(result) {
    if (result.status === "passed") passed++;
    else if (result.status === "failed")
      failures.push(`${result.fullName}: ${result.failedExpectations.map((f) => f.message).join("; ")}`);
  },
});
await importConformanceSpecs();
await runner.execute();
const device = tf.findBackend(backendName)?.device?.describe() ?? backendName;
console.log(JSON.stringify({ device, passed, failed: failures.length, failures: failures.slice(0, 100) }));
