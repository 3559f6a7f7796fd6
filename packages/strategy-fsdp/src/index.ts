/** @fulmen/strategy-fsdp: fully sharded data parallel for Fulmen (Lightning's `FSDPStrategy`). */
import { strategyRegistry } from "@fulmen/core";
import { FSDPStrategy } from "./fsdp-strategy";

export { FSDPStrategy, type FSDPStrategyOptions, type ShardingStrategy } from "./fsdp-strategy";
export { type AutoWrapPolicy, type ModuleClass, unitsByPolicy } from "./wrap-policy";

strategyRegistry.register("fsdp", () => new FSDPStrategy(), {
  description: "fully sharded data parallel: parameters, gradients and optimizer state sharded (FULL_SHARD)",
  packageName: "@fulmen/strategy-fsdp",
});
// Registered so that asking for it gives the strategy's own "not implemented yet" error, not "unknown strategy".
strategyRegistry.register("fsdp_cpu_offload", () => new FSDPStrategy({ cpuOffload: true }), {
  description: "FSDP with parameters offloaded to host memory (not implemented yet)",
  packageName: "@fulmen/strategy-fsdp",
});
