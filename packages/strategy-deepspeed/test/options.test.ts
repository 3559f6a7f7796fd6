import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FulmenError } from "@fulmen/core";
import { Fabric } from "@fulmen/fabric";
import { afterAll, describe, expect, it } from "vitest";
import { DeepSpeedStrategy } from "../src";

const folders: string[] = [];
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

describe("DeepSpeedStrategy refuses what this version does not implement", () => {
  it.each([
    ["deepspeed_stage_3_offload", /offload.*not implemented yet/],
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
    expect(() => new DeepSpeedStrategy({ stage: 4 as never })).toThrow(/stage must be 1, 2 or 3/);
    expect(
      () => new Fabric({ accelerator: "cpu", devices: 2, strategy: "deepspeed", precision: "16-mixed" }),
    ).toThrow(/precision "16-mixed" is not implemented yet with sharding/);
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
