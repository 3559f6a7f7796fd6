import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FulmenError, Parameter, tf } from "@fulmen/core";
import { Fabric } from "@fulmen/fabric";
import { afterAll, describe, expect, it } from "vitest";
import { DeepSpeedStrategy, FlatShard } from "../src";

const folders: string[] = [];
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

describe("DeepSpeedStrategy refuses what this version does not implement", () => {
  it.each([
    ["deepspeed_stage_3", /stage 3 .*not implemented yet/],
    ["deepspeed_stage_3_offload", /stage 3 .*not implemented yet/],
    ["deepspeed_stage_2_offload", /offload.*not implemented yet/],
    ["deepspeed_stage_1_offload", /offload.*not implemented yet/],
  ])("strategy %s is an error, not a fallback", (name, message) => {
    expect(() => new Fabric({ accelerator: "cpu", devices: 2, strategy: name })).toThrow(message);
  });

  it("refuses a DeepSpeed config, unknown options, other stages and other precisions", () => {
    expect(() => new DeepSpeedStrategy({ config: { zero_optimization: { stage: 2 } } })).toThrow(
      /JSON config is not implemented yet/,
    );
    expect(() => new DeepSpeedStrategy({ stage: 2, bucketCapMb: 5 } as never)).toThrow(
      /unknown option.*'bucketCapMb'/,
    );
    expect(() => new DeepSpeedStrategy({ stage: 0 as never })).toThrow(FulmenError);
    expect(
      () => new Fabric({ accelerator: "cpu", devices: 2, strategy: "deepspeed", precision: "16-mixed" }),
    ).toThrow(/precision "16-mixed" is not implemented yet with ZeRO/);
  });

  it("names the stage: deepspeed (2), deepspeed_stage_1, deepspeed_stage_2, and fsdp is not implemented", () => {
    const stage = (name: string) =>
      (new Fabric({ accelerator: "cpu", devices: 2, strategy: name }).strategy as DeepSpeedStrategy).stage;
    expect([stage("deepspeed"), stage("deepspeed_stage_1"), stage("deepspeed_stage_2")]).toEqual([2, 1, 2]);
    expect(() => new Fabric({ accelerator: "cpu", devices: 2, strategy: "fsdp" })).toThrow(
      /@fulmen\/strategy-fsdp.*FSDP is not implemented yet/,
    );
  });
});

describe("finding the package by name", () => {
  it("says which package to install when @fulmen/strategy-deepspeed is missing", () => {
    const project = mkdtempSync(join(tmpdir(), "fulmen-no-deepspeed-"));
    folders.push(project);
    mkdirSync(join(project, "node_modules/@fulmen"), { recursive: true });
    for (const name of ["core", "fabric"])
      symlinkSync(resolve(__dirname, "../..", name), join(project, "node_modules/@fulmen", name), "dir");
    writeFileSync(
      join(project, "main.mjs"),
      'import { Fabric } from "@fulmen/fabric";\n' +
        'try { new Fabric({ accelerator: "cpu", devices: 2, strategy: "deepspeed_stage_2" }); } catch (e) { console.log(e.message); process.exit(3); }\n',
    );
    const run = spawnSync(process.execPath, [join(project, "main.mjs")], { encoding: "utf8", cwd: project });
    expect(run.status, run.stderr).toBe(3);
    expect(run.stdout).toMatch(
      /"deepspeed_stage_2" is provided by @fulmen\/strategy-deepspeed, which is not installed/,
    );
    expect(run.stdout).toMatch(/npm install @fulmen\/strategy-deepspeed/);
  });
});

describe("FlatShard (ZeRO's partition of a flat, padded buffer)", () => {
  it("splits parameters of uneven sizes into equal shards, padding the last, and maps values both ways", () => {
    const params = [new Parameter(tf.range(0, 5)), new Parameter(tf.reshape(tf.range(5, 11), [2, 3]))];
    const shards = [0, 1, 2, 3].map((rank) => new FlatShard(params, rank, 4));
    expect(shards[0]!.shardSize).toBe(3);
    expect(shards[0]!.paddedNumel).toBe(12);
    const values = shards.map((s) => {
      const t = s.shardOf((p) => p.data);
      const out = Array.from(t.dataSync());
      t.dispose();
      return out;
    });
    expect(values).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
      [9, 10, 0],
    ]);
    const flat = shards[0]!.flatten((p) => p.data);
    expect(Array.from(flat)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0]);
    const seen: number[][] = [];
    shards[0]!.unflatten(
      flat.map((v) => v * 2),
      (p, v) => {
        expect(v.shape).toEqual(p.shape);
        seen.push(Array.from(v.dataSync()));
      },
    );
    expect(seen).toEqual([
      [0, 2, 4, 6, 8],
      [10, 12, 14, 16, 18, 20],
    ]);
    for (const p of params) p.data.dispose();
  });
});
