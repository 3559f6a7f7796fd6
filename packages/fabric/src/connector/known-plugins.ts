import { acceleratorRegistry, precisionRegistry, strategyRegistry } from "@fulmen/core/plugin";

// Names Lightning users know whose implementation is not part of this package: the connector's errors say where
// each one lives, or that it is not available yet.
for (const name of ["ddp_spawn", "ddp_fork", "ddp_notebook"]) {
  strategyRegistry.knownIn(name, {
    packageName: "@fulmen/fabric",
    note: `"${name}" starts ranks by forking or spawning a function, which Node cannot do with a running tfjs backend; use "ddp", which re-runs the script once per rank`,
  });
}
for (const name of ["dp", "ddp_find_unused_parameters_true"]) {
  strategyRegistry.knownIn(name, {
    packageName: "@fulmen/fabric",
    note: `"${name}" is not implemented; use "ddp"${name === "dp" ? " (Lightning also turns dp on CPU into ddp)" : " and make every parameter take part in the loss"}`,
  });
}

/**
 * The package that provides each strategy Fabric does not ship, loaded by name when it is asked for (the
 * package registers the names; those it does not implement yet throw an error saying so).
 */
export const STRATEGY_PACKAGES: Readonly<Record<string, string>> = Object.fromEntries(
  [
    "deepspeed",
    "deepspeed_stage_1",
    "deepspeed_stage_1_offload",
    "deepspeed_stage_2",
    "deepspeed_stage_2_offload",
    "deepspeed_stage_3",
    "deepspeed_stage_3_offload",
  ]
    .map((name) => [name, "@fulmen/strategy-deepspeed"])
    .concat(["fsdp", "fsdp_cpu_offload"].map((name) => [name, "@fulmen/strategy-fsdp"])),
);
for (const [name, packageName] of Object.entries(STRATEGY_PACKAGES)) {
  strategyRegistry.knownIn(name, {
    packageName,
    note: `install it in your project (npm install ${packageName}), and Fabric loads it by name`,
  });
}
/** The package that provides each accelerator Fabric does not ship, loaded by name when it is asked for. */
export const ACCELERATOR_PACKAGES: Readonly<Record<string, string>> = {
  cuda: "@fulmen/accelerator-cuda",
  gpu: "@fulmen/accelerator-cuda",
  host: "@fulmen/accelerator-host",
};

/** Engine packages `accelerator: "auto"` loads when they are installed, as it prefers their accelerators. */
export const ENGINE_PACKAGES: readonly string[] = ["@fulmen/accelerator-cuda", "@fulmen/accelerator-host"];

for (const name of ["cuda", "gpu"]) {
  acceleratorRegistry.knownIn(name, {
    packageName: "@fulmen/accelerator-cuda",
    note: 'install it in your project (npm install @fulmen/accelerator-cuda; Fabric loads it by name), and opt in to its GPU build, which is not yet verified on a GPU, with FULMEN_CUDA_UNVERIFIED=1; the native CPU engine is the "host" accelerator (@fulmen/accelerator-host)',
  });
}
acceleratorRegistry.knownIn("host", {
  packageName: "@fulmen/accelerator-host",
  note: "install it in your project (npm install @fulmen/accelerator-host; it builds the native CPU engine and needs apt-get install -y g++ make python3 libopenblas-dev), and Fabric loads it by name",
});
precisionRegistry.knownIn("64-true", {
  packageName: "@fulmen/precision",
  note: 'TensorFlow.js has no float64 dtype, so "64-true" cannot exist; use "32-true"',
});
