import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { GoldenFile } from "../src/index";

const root = resolve(__dirname, "../../..");
const fixture = join(root, "packages/core/test/fixtures/torch-layers-convolution.json");
const cli = join(root, "apps/parity/dist/cli.js");
const golden = JSON.parse(readFileSync(fixture, "utf8")) as GoldenFile;

function parity(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
}

describe("pnpm parity: the convolution family (Conv1d/3d, ConvTranspose1d/2d/3d, 1-D, 3-D and adaptive pooling, Upsample, Unflatten, 3-D norms)", () => {
  it("passes every case of torch-layers-convolution.json on the cpu backend, none missing", () => {
    const run = parity("--strict", fixture);
    const lines = run.stdout.trim().split("\n");
    expect(run.status, lines.filter((l) => !l.startsWith("PASS")).join("\n") + run.stderr).toBe(0);
    expect(lines.at(-1)).toBe(`${golden.cases.length} passed, 0 failed`);
    for (const type of [
      "Conv1d",
      "ConvTranspose1d",
      "ConvTranspose2d",
      "MaxPool1d",
      "AvgPool1d",
      "AdaptiveAvgPool1d",
      "AdaptiveAvgPool2d",
      "AdaptiveMaxPool2d",
      "Upsample",
      "Unflatten",
      "Conv3d",
      "ConvTranspose3d",
      "MaxPool3d",
      "AvgPool3d",
      "AdaptiveAvgPool3d",
      "AdaptiveMaxPool3d",
      "BatchNorm3d",
      "InstanceNorm3d",
    ]) {
      expect(
        golden.cases.some((c) => c.module === type),
        type,
      ).toBe(true);
    }
  }, 120_000);

  it("passes the family's cases of torch-layers.json (Conv1d, ConvTranspose2d, AdaptiveAvgPool2d)", () => {
    const run = parity(join(root, "packages/core/test/fixtures/torch-layers.json"));
    for (const name of [
      "Conv1d_basic",
      "Conv1d_stride_pad_dil_groups",
      "ConvTranspose2d_stride2_pad1_outpad1",
      "ConvTranspose2d_groups_nobias",
      "AdaptiveAvgPool2d_1x1",
      "AdaptiveAvgPool2d_2x3_uneven",
    ]) {
      expect(run.stdout).toMatch(new RegExp(`PASS +\\d+ module ${name}:`));
    }
  }, 120_000);
});
