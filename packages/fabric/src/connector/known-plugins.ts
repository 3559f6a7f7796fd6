import { acceleratorRegistry, precisionRegistry, strategyRegistry } from "@fulmen/core";

// Names Lightning users know whose implementation is not part of this package: the connector's errors say where
// each one lives, or that it is not available yet.
const LATER_DISTRIBUTED = "the distributed issue adds it; until then Fulmen trains on a single device";

for (const name of [
  "ddp",
  "ddp_spawn",
  "ddp_fork",
  "ddp_notebook",
  "ddp_find_unused_parameters_true",
  "dp",
]) {
  strategyRegistry.knownIn(name, {
    packageName: "@fulmen/fabric",
    note: `"${name}" is not implemented yet (${LATER_DISTRIBUTED})`,
  });
}
for (const name of ["fsdp", "fsdp_cpu_offload"]) {
  strategyRegistry.knownIn(name, {
    packageName: "@fulmen/strategy-fsdp",
    note: "@fulmen/strategy-fsdp is not released yet",
  });
}
for (const name of [
  "deepspeed",
  "deepspeed_stage_1",
  "deepspeed_stage_1_offload",
  "deepspeed_stage_2",
  "deepspeed_stage_2_offload",
  "deepspeed_stage_3",
  "deepspeed_stage_3_offload",
]) {
  strategyRegistry.knownIn(name, {
    packageName: "@fulmen/strategy-deepspeed",
    note: "@fulmen/strategy-deepspeed is not released yet",
  });
}
acceleratorRegistry.knownIn("cuda", {
  packageName: "@fulmen/accelerator-cuda",
  note: "@fulmen/accelerator-cuda is not released yet",
});
acceleratorRegistry.knownIn("gpu", {
  packageName: "@fulmen/accelerator-cuda",
  note: "@fulmen/accelerator-cuda is not released yet",
});
precisionRegistry.knownIn("64-true", {
  packageName: "@fulmen/precision",
  note: 'TensorFlow.js has no float64 dtype, so "64-true" cannot exist; use "32-true"',
});
