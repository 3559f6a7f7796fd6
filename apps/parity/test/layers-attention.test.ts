import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { GoldenFile } from "../src/index";

const root = resolve(__dirname, "../../..");
const cli = join(root, "apps/parity/dist/cli.js");
const fixtures = join(root, "packages/core/test/fixtures");
/** The attention family's golden file (gen_layers_attention.py, PyTorch 1.13). */
const attentionFixture = join(fixtures, "torch-layers-attention.json");
const attention = JSON.parse(readFileSync(attentionFixture, "utf8")) as GoldenFile;
const layers = JSON.parse(readFileSync(join(fixtures, "torch-layers.json"), "utf8")) as GoldenFile;

function parity(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
}

function summary(stdout: string) {
  const lines = stdout.trim().split("\n");
  const match = /^(\d+) passed, (\d+) failed(?:, (\d+) missing)?/.exec(lines.at(-1) ?? "");
  if (match === null) throw new Error(`no summary line in:\n${stdout}`);
  return { passed: Number(match[1]), failed: Number(match[2]), missing: Number(match[3] ?? 0), lines };
}

function writeCases(name: string, file: GoldenFile): string {
  const path = join(mkdtempSync(join(tmpdir(), "parity-attention-")), name);
  writeFileSync(path, JSON.stringify(file));
  return path;
}

describe("pnpm parity: the attention family (MultiheadAttention, Transformer encoder and decoder)", () => {
  it("passes every case of torch-layers-attention.json on the cpu backend, none missing", () => {
    const run = parity("--strict", attentionFixture);
    const s = summary(run.stdout);
    expect(s.failed, s.lines.filter((l) => !l.startsWith("PASS")).join("\n")).toBe(0);
    expect([s.passed, s.missing]).toEqual([attention.cases.length, 0]);
    expect(run.status).toBe(0);
    // The file covers every class of the family.
    const modules = new Set(attention.cases.map((c) => c.module));
    for (const m of [
      "MultiheadAttention",
      "TransformerEncoderLayer",
      "TransformerEncoder",
      "TransformerDecoderLayer",
      "TransformerDecoder",
    ])
      expect(modules).toContain(m);
  }, 120_000);

  it("passes the MultiheadAttention and TransformerEncoderLayer cases of torch-layers.json", () => {
    const file = structuredClone(layers);
    file.cases = file.cases.filter((c) => /^(MultiheadAttention|Transformer)/.test(String(c.module)));
    expect(file.cases.length).toBeGreaterThanOrEqual(5);
    const run = parity("--strict", writeCases("layers-attention.json", file));
    const s = summary(run.stdout);
    expect(s.failed, s.lines.join("\n")).toBe(0);
    expect([s.passed, s.missing]).toEqual([file.cases.length, 0]);
  }, 60_000);

  it("fails a case whose attention weights are wrong, naming the tuple's extra output", () => {
    const file = structuredClone(attention);
    const c = file.cases.find((x) => x.name === "MHA_batch_first_bool_mask_and_kpm_no_avg")!;
    const weights = (c.extra_outputs as Array<{ data: number[] }>)[0]!;
    weights.data[3] = weights.data[3]! + 0.05;
    file.cases = [c];
    const run = parity(writeCases("tampered.json", file));
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /FAIL +0 module MHA_batch_first_bool_mask_and_kpm_no_avg: .*worst in extra_outputs\[0\]/,
    );
  }, 60_000);
});
