import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FulmenError } from "@fulmen/core";
import { Fabric } from "@fulmen/fabric";
import { afterAll, describe, expect, it } from "vitest";
import { askWithoutPackage } from "../../../tooling/test-helpers/sharded-project";
import { DeepSpeedStrategy } from "../src";

const folders: string[] = [];
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

describe("DeepSpeedStrategy refuses what this version does not implement", () => {
  it.each(["deepspeed_stage_3_offload", "deepspeed_stage_2_offload", "deepspeed_stage_1_offload"])(
    "strategy %s on a CPU accelerator is an error naming why, not a fallback",
    (name) => {
      expect(() => new Fabric({ accelerator: "cpu", devices: 2, strategy: name })).toThrow(
        /offloading to host memory needs an accelerator with memory of its own .*"cpu" accelerator's tensors already live in host memory/,
      );
      expect(() => new DeepSpeedStrategy({ stage: 2, offloadParameters: true })).toThrow(
        /offloadParameters needs stage 3/,
      );
    },
  );

  it("refuses a DeepSpeed config, unknown options, other stages and other precisions", () => {
    expect(() => new DeepSpeedStrategy({ stage: 2, bucketCapMb: 5 } as never)).toThrow(
      /unknown option.*'bucketCapMb'/,
    );
    expect(() => new DeepSpeedStrategy({ stage: 0 as never })).toThrow(FulmenError);
    expect(() => new DeepSpeedStrategy({ stage: 4 as never })).toThrow(/stage must be 1, 2 or 3/);
    expect(
      () => new Fabric({ accelerator: "cpu", devices: 2, strategy: "deepspeed", precision: "bf16-true" }),
    ).toThrow(/precision "bf16-true" is not implemented yet with sharding/);
  });

  it("names the stage: deepspeed (2), deepspeed_stage_1, deepspeed_stage_2, deepspeed_stage_3", () => {
    const stage = (name: string) =>
      (new Fabric({ accelerator: "cpu", devices: 2, strategy: name }).strategy as DeepSpeedStrategy).stage;
    expect([
      stage("deepspeed"),
      stage("deepspeed_stage_1"),
      stage("deepspeed_stage_2"),
      stage("deepspeed_stage_3"),
    ]).toEqual([2, 1, 2, 3]);
  });
});

describe("finding the package by name", () => {
  it("says which package to install when @fulmen/strategy-deepspeed is missing", () => {
    const run = askWithoutPackage("deepspeed_stage_2");
    expect(run.status, run.stderr).toBe(3);
    expect(run.message).toMatch(
      /"deepspeed_stage_2" is provided by @fulmen\/strategy-deepspeed, which is not installed/,
    );
    expect(run.message).toMatch(/npm install @fulmen\/strategy-deepspeed/);
  });
});

describe("a DeepSpeed JSON config", () => {
  it("sets the stage and clipping, from an object or a file, and notes what Fulmen does another way", () => {
    const strategy = new DeepSpeedStrategy({
      config: {
        zero_optimization: { stage: 3, overlap_comm: false, reduce_bucket_size: 5e8 },
        gradient_clipping: 1,
      },
    });
    expect(strategy.stage).toBe(3);
    expect(strategy.config!.gradientClipping).toBe(1);
    expect(strategy.config!.overlapComm).toBe(false);
    expect(strategy.config!.notes.join("\n")).toMatch(/reduce_bucket_size/);
    // overlap_comm is honoured under stage 3 (the only stage whose communication overlaps), noted under 1 and 2.
    const stage2 = new DeepSpeedStrategy({ config: { zero_optimization: { stage: 2, overlap_comm: true } } });
    expect(stage2.config!.notes.join("\n")).toMatch(/overlap_comm: under stages 1 and 2/);
    expect(new DeepSpeedStrategy({ config: { zero_optimization: { stage: 3 } } }).config!.overlapComm).toBe(
      null,
    );
    expect(
      () => new DeepSpeedStrategy({ config: { zero_optimization: { stage: 3, overlap_comm: "yes" } } }),
    ).toThrow(/overlap_comm must be true or false, got "yes"/);
    expect(strategy.config!.paramPersistenceThreshold).toBe(1e5);
    const stage3 = new DeepSpeedStrategy({
      config: {
        zero_optimization: {
          stage: 3,
          stage3_param_persistence_threshold: 0,
          stage3_prefetch_bucket_size: 5e7,
          stage3_max_live_parameters: 1e9,
          stage3_gather_16bit_weights_on_model_save: true,
        },
      },
    });
    expect(stage3.config!.paramPersistenceThreshold).toBe(0);
    expect(stage3.config!.notes.join("\n")).toMatch(
      /stage3_prefetch_bucket_size: .*one module ahead[\s\S]*stage3_max_live_parameters[\s\S]*stage3_gather_16bit_weights_on_model_save: .*float32/,
    );
    const folder = mkdtempSync(join(tmpdir(), "fulmen-ds-config-"));
    folders.push(folder);
    const path = join(folder, "ds.json");
    writeFileSync(path, JSON.stringify({ zero_optimization: { stage: 1 }, bf16: { enabled: true } }));
    const fromFile = new DeepSpeedStrategy({ config: path });
    expect(fromFile.stage).toBe(1);
    expect(fromFile.config!.bf16).toBe(true);
    expect(
      () => new Fabric({ accelerator: "cpu", devices: 2, strategy: new DeepSpeedStrategy({ config: path }) }),
    ).toThrow(/enables bf16 but the precision is "32-true"/);
    expect(
      new Fabric({ accelerator: "cpu", devices: 2, precision: "bf16-mixed", strategy: fromFile }).strategy
        .name,
    ).toBe("deepspeed");
  });

  it("refuses, naming them, unknown keys, offloading, fp16 without 16-mixed, optimizer sections and a conflicting stage", () => {
    const make = (config: Record<string, unknown>, stage?: 1 | 2 | 3) => () =>
      new DeepSpeedStrategy({ config, ...(stage === undefined ? {} : { stage }) });
    expect(make({ zero_optimization: { stage: 2 }, wall_clock_breakdown: true })).toThrow(
      /'wall_clock_breakdown'/,
    );
    expect(make({ zero_optimization: { stage: 2, sub_group_size: 1 } })).toThrow(
      /'zero_optimization.sub_group_size'/,
    );
    expect(make({ zero_optimization: { stage: 3, offload_param: { device: "nvme" } } })).toThrow(
      /offload_param device "nvme" is not supported/,
    );
    expect(make({ zero_optimization: { stage: 2, offload_param: { device: "cpu" } } })).toThrow(
      /offloadParameters needs stage 3/,
    );
    const fp16 = new DeepSpeedStrategy({
      config: { zero_optimization: { stage: 2 }, fp16: { enabled: true } },
    });
    expect(() => new Fabric({ accelerator: "cpu", devices: 2, strategy: fp16 })).toThrow(
      /enables fp16 but the precision is "32-true"/,
    );
    expect(make({ zero_optimization: { stage: 2 }, fp16: { enabled: true, hysteresis: 0 } })).toThrow(
      /fp16.hysteresis has an invalid value 0/,
    );
    expect(
      make({ zero_optimization: { stage: 2 }, fp16: { enabled: true }, bf16: { enabled: true } }),
    ).toThrow(/both enabled/);
    expect(make({ zero_optimization: { stage: 2 }, optimizer: { type: "AdamW" } })).toThrow(/'optimizer'/);
    expect(make({ zero_optimization: { stage: 2 } }, 3)).toThrow(/disagrees with the config's/);
    expect(make({})).toThrow(/stage must be 1, 2 or 3, got 0/);
    expect(make({ zero_optimization: { stage: 3, stage3_param_persistence_threshold: "auto" } })).toThrow(
      /stage3_param_persistence_threshold must be a number >= 0, got "auto"/,
    );
    expect(() => new DeepSpeedStrategy({ config: "/nonexistent/ds.json" })).toThrow(/cannot be read/);
  });
});
