import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { GoldenFile } from "../src/index";

const root = resolve(__dirname, "../../..");
const fixture = join(root, "packages/core/test/fixtures/torch-layers-losses.json");
const cli = join(root, "apps/parity/dist/cli.js");
const golden = JSON.parse(readFileSync(fixture, "utf8")) as GoldenFile;

function parity(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
}

describe("pnpm parity: the losses family (gen_layers_losses.py)", () => {
  it("passes every loss case, none missing: nll, l1, smooth L1, Huber, BCE, KL, cosine, ranking, triplet, CTC", () => {
    const run = parity("--strict", fixture);
    const lines = run.stdout.trim().split("\n");
    expect(lines.filter((l) => !l.startsWith("PASS")).slice(1, -1)).toEqual([]);
    expect(lines.at(-1)).toBe(`${golden.cases.length} passed, 0 failed`);
    expect(run.status, run.stderr).toBe(0);
    for (const fn of ["nll_loss", "smooth_l1_loss", "kl_div", "triplet_margin_loss", "ctc_loss"])
      expect(run.stdout).toMatch(new RegExp(`PASS +\\d+ loss ${fn}_`));
    expect(run.stdout).toMatch(/PASS +\d+ module CTCLoss_default/);
  }, 120_000);

  it("fails when PyTorch's CTC gradient is replaced by the plain derivative (no exp(log_probs) term)", () => {
    const tampered = structuredClone(golden);
    const ctc = tampered.cases.find((c) => c.name === "ctc_loss_padded_sum")!;
    const lp = ctc.input as { data: number[] };
    const grad = ctc.input_grad as { data: number[] };
    grad.data = grad.data.map((g, i) => g - Math.exp(lp.data[i]!));
    tampered.cases = [ctc];
    const path = join(mkdtempSync(join(tmpdir(), "parity-losses-")), "tampered-ctc.json");
    writeFileSync(path, JSON.stringify(tampered));
    const replay = parity(path);
    expect(replay.status).toBe(1);
    expect(replay.stdout).toMatch(/FAIL +0 loss ctc_loss_padded_sum: .*worst in input_grad/);
  }, 60_000);
});
