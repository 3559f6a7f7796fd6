import { FulmenError, nn, type tf } from "@fulmen/core";
import { Fabric } from "@fulmen/fabric";
import { describe, expect, it } from "vitest";
import { askWithoutPackage } from "../../../tooling/test-helpers/sharded-project";
import { FSDPStrategy, unitsByPolicy } from "../src";

describe("FSDPStrategy options", () => {
  it("derives mixedPrecision from the precision, as Lightning does, and lets each dtype be given", () => {
    const dtypes = (precision: string, mixedPrecision?: object) => {
      const strategy = new FSDPStrategy(mixedPrecision === undefined ? {} : { mixedPrecision });
      new Fabric({ accelerator: "cpu", devices: 2, precision: precision as never, strategy });
      return strategy.mixedPrecision;
    };
    expect(dtypes("32-true")).toEqual({
      paramDtype: "float32",
      reduceDtype: "float32",
      bufferDtype: "float32",
    });
    expect(dtypes("bf16-mixed")).toEqual({
      paramDtype: "bfloat16",
      reduceDtype: "bfloat16",
      bufferDtype: "bfloat16",
    });
    expect(dtypes("16-mixed", { paramDtype: "float32" })).toEqual({
      paramDtype: "float32",
      reduceDtype: "float16",
      bufferDtype: "float16",
    });
    expect(dtypes("32-true", { reduceDtype: "bfloat16" }).reduceDtype).toBe("bfloat16");
  });

  it("is found by name, with FULL_SHARD by default", () => {
    const strategy = new Fabric({ accelerator: "cpu", devices: 2, strategy: "fsdp" })
      .strategy as FSDPStrategy;
    expect(strategy).toBeInstanceOf(FSDPStrategy);
    expect(strategy.shardingStrategy).toBe("FULL_SHARD");
  });

  it("refuses, naming it, what this version does not implement, and unknown options", () => {
    expect(() => new Fabric({ accelerator: "cpu", devices: 2, strategy: "fsdp_cpu_offload" })).toThrow(
      /offloading to host memory needs an accelerator with memory of its own/,
    );
    expect(() => new FSDPStrategy({ mixedPrecision: { paramDtype: "half" as never } })).toThrow(
      /mixedPrecision.paramDtype must be one of float32, bfloat16, float16, got "half"/,
    );
    expect(() => new FSDPStrategy({ mixedPrecision: { param_dtype: "bfloat16" } as never })).toThrow(
      /param_dtype/,
    );
    expect(() => new FSDPStrategy({ stateDictType: "local" as never })).toThrow(/"full" or "sharded"/);
    expect(() => new FSDPStrategy({ shardingStrategy: "FULL" as never })).toThrow(
      /FULL_SHARD, SHARD_GRAD_OP/,
    );
    expect(() => new FSDPStrategy({ sharding_strategy: "FULL_SHARD" } as never)).toThrow(FulmenError);
    expect(
      () => new Fabric({ accelerator: "cpu", devices: 2, strategy: "fsdp", precision: "bf16-true" }),
    ).toThrow(/precision "bf16-true" is not implemented yet with sharding/);
  });
});

class Block extends nn.Module {
  fc = new nn.Linear(4, 4);
  norm = new nn.LayerNorm([4]);
  forward(x: tf.Tensor): tf.Tensor {
    return this.norm.forward(this.fc.forward(x));
  }
}

describe("autoWrapPolicy", () => {
  const model = () => new nn.Sequential(new Block(), new Block(), new nn.Linear(4, 2));

  it("module classes: every instance is a unit; without a policy, the root's children with parameters", () => {
    const m = model();
    const [b0, b1, head] = m.children();
    expect(unitsByPolicy(m, new Set([Block]))).toEqual([b0, b1]);
    expect(unitsByPolicy(m, [nn.Linear])).toEqual([(b0 as Block).fc, (b1 as Block).fc, head]);
    expect(unitsByPolicy(m, undefined)).toEqual([b0, b1, head]);
    expect(unitsByPolicy(m, (_module, name) => name === "2")).toEqual([head]);
    m.dispose();
    // A ModuleList has no forward to gather around: its members are the units.
    const list = new nn.ModuleList([new Block(), new Block()]);
    const holder = new nn.Sequential(list, new nn.ReLU());
    expect(unitsByPolicy(holder, undefined)).toEqual([...list]);
    holder.dispose();
  });

  it("{ minNumParams }: PyTorch's size-based policy, bottom-up, what a child wrapped no longer counting", () => {
    const m = model();
    const [b0, b1, head] = m.children();
    // A Block holds 20 + 8 parameters, the head 10: with 25, the blocks are units and the head stays at the root.
    expect(unitsByPolicy(m, { minNumParams: 25 })).toEqual([b0, b1]);
    expect(unitsByPolicy(m, { minNumParams: 10 })).toEqual([(b0 as Block).fc, (b1 as Block).fc, head]);
    expect(() => unitsByPolicy(m, { minNumParams: -1 })).toThrow(/minNumParams/);
    m.dispose();
    // A ModuleList is never a unit (it has no forward): its blocks are, and a list too small for a unit of its
    // own leaves its parameters to its parent.
    const list = new nn.ModuleList([new Block(), new Block()]);
    const holder = new nn.Sequential(list, new nn.Linear(4, 2));
    expect(unitsByPolicy(holder, { minNumParams: 25 })).toEqual([...list]);
    expect(unitsByPolicy(holder, { minNumParams: 50 })).toEqual([]);
    holder.dispose();
  });
});

describe("finding the package by name", () => {
  it("says which package to install when @fulmen/strategy-fsdp is missing", () => {
    const run = askWithoutPackage("fsdp");
    expect(run.status, run.stderr).toBe(3);
    expect(run.message).toMatch(/"fsdp" is provided by @fulmen\/strategy-fsdp, which is not installed/);
    expect(run.message).toMatch(/npm install @fulmen\/strategy-fsdp/);
  });
});
