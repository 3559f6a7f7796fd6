/** @fulmen/strategy-fsdp: fully sharded data parallel for Fulmen (Lightning's `FSDPStrategy`). */
import { strategyRegistry } from "@fulmen/core/plugin";
import { FSDPStrategy } from "./fsdp-strategy";

export {
  type FSDPMixedPrecision,
  FSDPStrategy,
  type FSDPStrategyOptions,
  type MixedPrecisionDtype,
  type ShardingStrategy,
} from "./fsdp-strategy";
export { type AutoWrapPolicy, type ModuleClass, unitsByPolicy } from "./wrap-policy";

strategyRegistry.register("fsdp", () => new FSDPStrategy(), {
  description: "fully sharded data parallel: parameters, gradients and optimizer state sharded (FULL_SHARD)",
  packageName: "@fulmen/strategy-fsdp",
});
strategyRegistry.register("fsdp_cpu_offload", () => new FSDPStrategy({ cpuOffload: true }), {
  description: "FSDP with parameter shards and optimizer state in host memory (needs a GPU accelerator)",
  packageName: "@fulmen/strategy-fsdp",
});
