/** @fulmen/strategy-deepspeed: DeepSpeed's ZeRO stages 1, 2 and 3 for Fulmen (Lightning's `DeepSpeedStrategy`). */
import { strategyRegistry } from "@fulmen/core/plugin";
import { DeepSpeedStrategy } from "./deepspeed-strategy";

export { type DeepSpeedJson, type ResolvedDeepSpeedConfig, readDeepSpeedConfig } from "./deepspeed-config";
export { DeepSpeedStrategy, type DeepSpeedStrategyOptions } from "./deepspeed-strategy";

// Lightning's names (the *_offload ones need an accelerator with memory of its own, and say so otherwise).
const NAMES: Array<[string, () => DeepSpeedStrategy, string]> = [
  ["deepspeed", () => new DeepSpeedStrategy(), "DeepSpeed ZeRO stage 2 (default stage)"],
  ["deepspeed_stage_1", () => new DeepSpeedStrategy({ stage: 1 }), "ZeRO stage 1: optimizer state sharded"],
  [
    "deepspeed_stage_2",
    () => new DeepSpeedStrategy({ stage: 2 }),
    "ZeRO stage 2: optimizer state and gradients sharded",
  ],
  [
    "deepspeed_stage_1_offload",
    () => new DeepSpeedStrategy({ stage: 1, offloadOptimizer: true }),
    "ZeRO stage 1, optimizer state in host memory",
  ],
  [
    "deepspeed_stage_2_offload",
    () => new DeepSpeedStrategy({ stage: 2, offloadOptimizer: true }),
    "ZeRO stage 2, optimizer state in host memory",
  ],
  [
    "deepspeed_stage_3",
    () => new DeepSpeedStrategy({ stage: 3 }),
    "ZeRO stage 3: optimizer state, gradients and parameters sharded",
  ],
  [
    "deepspeed_stage_3_offload",
    () => new DeepSpeedStrategy({ stage: 3, offloadOptimizer: true, offloadParameters: true }),
    "ZeRO stage 3, parameters and optimizer state in host memory",
  ],
];
for (const [name, factory, description] of NAMES)
  strategyRegistry.register(name, factory, { description, packageName: "@fulmen/strategy-deepspeed" });
