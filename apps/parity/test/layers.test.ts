import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { nn } from "@fulmen/core";
import { describe, expect, it } from "vitest";
import type { GoldenFile } from "../src/index";

const root = resolve(__dirname, "../../..");
const fixture = join(root, "packages/core/test/fixtures/torch-layers.json");
const cli = join(root, "apps/parity/dist/cli.js");
const golden = JSON.parse(readFileSync(fixture, "utf8")) as GoldenFile;

/**
 * The layer cases that passed when the layer replay was written: every case of a layer, loss or option Fulmen
 * had then. A case may move from missing to passed as Fulmen grows; none may stop passing.
 */
const PASSED_WHEN_WRITTEN = 67;

function parity(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
}

/** The replay's per-case lines and its summary. */
function summary(stdout: string) {
  const lines = stdout.trim().split("\n");
  const last = lines.at(-1)!;
  const match = /^(\d+) passed, (\d+) failed(?:, (\d+) missing \(not implemented: (.*)\))?$/.exec(last);
  if (match === null) throw new Error(`no summary line in:\n${stdout}`);
  return {
    passed: Number(match[1]),
    failed: Number(match[2]),
    missing: Number(match[3] ?? 0),
    gaps: match[4] === undefined ? [] : match[4].split("; "),
    lines,
  };
}

/** Whether Fulmen really lacks what a MISS line names (`nn.X` or `nn.functional.f`; an option of one). */
function reallyMissing(gap: string): boolean {
  const [path, option] = gap.split(" option ");
  const parts = path!.split(".").slice(1);
  let target: unknown = nn;
  for (const p of parts) target = (target as Record<string, unknown> | undefined)?.[p];
  return option !== undefined ? target !== undefined : target === undefined;
}

describe("pnpm parity: PyTorch's layers and losses", () => {
  it("passes every case of the layers Fulmen has, lists the missing ones, and writes its numbers with --out", () => {
    const out = join(mkdtempSync(join(tmpdir(), "parity-layers-")), "layers.json");
    const run = parity("--out", out, fixture);
    expect(run.status, run.stderr).toBe(0);
    const s = summary(run.stdout);
    expect(s.failed, s.lines.filter((l) => l.startsWith("FAIL")).join("\n")).toBe(0);
    expect(s.passed).toBeGreaterThanOrEqual(PASSED_WHEN_WRITTEN);
    expect(s.passed + s.missing).toBe(golden.cases.length);
    // A MISS names something Fulmen really does not have: no failure hides behind it.
    const missLines = s.lines.filter((l) => l.startsWith("MISS"));
    expect(missLines).toHaveLength(s.missing);
    for (const gap of s.gaps) expect(reallyMissing(gap), gap).toBe(true);
    expect(run.stdout).toMatch(/PASS +\d+ loss nll_loss_mean_weight_ignore/);
    expect(run.stdout).toMatch(/PASS +\d+ module BatchNorm1d_cumulative_momentum_none/);
    expect(run.stdout).toMatch(/PASS +\d+ loss bce_with_logits_mean/);
    // --strict counts the missing cases as failures.
    if (s.missing > 0) expect(parity("--strict", fixture).status).toBe(1);

    // Fulmen's own numbers, in the same format: they replay against themselves, exactly.
    const results = JSON.parse(readFileSync(out, "utf8")) as GoldenFile;
    expect(results.cases).toHaveLength(golden.cases.length);
    const bce = results.cases.find((c) => c.name === "bce_with_logits_mean")!;
    const torchBce = golden.cases.find((c) => c.name === "bce_with_logits_mean")!;
    expect((bce.input_grad as { data: number[] }).data).not.toEqual(
      (torchBce.input_grad as { data: number[] }).data,
    );
    const again = summary(parity(out).stdout);
    expect([again.passed, again.failed, again.missing]).toEqual([s.passed, 0, s.missing]);
    expect(again.lines.filter((l) => l.startsWith("PASS")).every((l) => l.includes(" 0.00e+0 "))).toBe(true);
  }, 120_000);

  it("fails a case whose numbers are wrong (BCE's old gradient at a logit of 0) and names where", () => {
    const tampered = structuredClone(golden);
    const bce = tampered.cases.find((c) => c.name === "bce_with_logits_mean")!;
    const input = bce.input as { data: number[] };
    const grad = bce.input_grad as { data: number[] };
    const zero = input.data.indexOf(0);
    expect(zero).toBeGreaterThanOrEqual(0);
    // The old formulation's slope at 0: +0.5/n instead of −0.5/n for y = 1.
    grad.data[zero] = -grad.data[zero]!;
    const bn = tampered.cases.find((c) => c.name === "BatchNorm1d_cumulative_momentum_none")!;
    (bn.kwargs as Record<string, unknown>).momentum = 0.1;
    tampered.cases = [bce, bn];
    const path = join(mkdtempSync(join(tmpdir(), "parity-layers-")), "tampered.json");
    writeFileSync(path, JSON.stringify(tampered));
    const run = parity(path);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/FAIL +0 loss bce_with_logits_mean: .*worst in input_grad/);
    expect(run.stdout).toMatch(
      /FAIL +1 module BatchNorm1d_cumulative_momentum_none: .*worst in state_dict_after\.running_/,
    );
    expect(summary(run.stdout).failed).toBe(2);
  }, 60_000);

  it("binds PyTorch's arguments as Python does: positional optionals, keywords for positionals, explicit defaults", () => {
    // The same calls, spelled as other generators may write them; PyTorch's numbers stay valid for each.
    const respelled: Record<string, { args?: unknown[]; kwargs?: Record<string, unknown> }> = {
      // MaxPool2d(3, 2, 1): stride and padding positional (the old replay silently pooled with stride 3, no padding)
      MaxPool2d_k3_s2_p1: { args: [3, 2, 1], kwargs: {} },
      Conv2d_rect_stride2_pad12: { args: [2, 3, [3, 2], 2, [1, 2]], kwargs: { padding_mode: "zeros" } },
      AvgPool2d_no_count_include_pad: { args: [3, 2, 1, false, false, null], kwargs: {} },
      BatchNorm1d_cumulative_momentum_none: { args: [3, 1e-5, null], kwargs: { device: null } },
      Embedding_padding_idx: { args: [6, 3, 0], kwargs: { max_norm: null, sparse: false } },
      Linear_nobias_3d: { args: [6, 3, false], kwargs: {} },
      LayerNorm_2dims_eps: { args: [[3, 4], 0.001, true], kwargs: {} },
      GELU_approximatetanh: { args: ["tanh"], kwargs: {} },
      Flatten_1_2: { args: [], kwargs: { start_dim: 1, end_dim: 2 } },
      Dropout_eval: { args: [], kwargs: { p: 0.3, inplace: false } },
      Identity: { args: [54], kwargs: { unused: "anything" } },
    };
    const losses: Record<string, Record<string, unknown>> = {
      cross_entropy_label_smoothing_mean: { label_smoothing: 0.1, weight: null, reduction: "mean" },
      bce_with_logits_mean: { weight: null, pos_weight: null, size_average: null, reduce: null },
    };
    const file = structuredClone(golden);
    file.cases = file.cases.filter((c) => (c.name as string) in respelled || (c.name as string) in losses);
    for (const c of file.cases) {
      const spec = respelled[c.name as string];
      if (spec !== undefined) Object.assign(c, spec);
      else c.kwargs = losses[c.name as string];
    }
    expect(file.cases).toHaveLength(Object.keys(respelled).length + Object.keys(losses).length);
    const path = join(mkdtempSync(join(tmpdir(), "parity-layers-")), "respelled.json");
    writeFileSync(path, JSON.stringify(file));
    const run = parity(path);
    const s = summary(run.stdout);
    expect(s.failed, s.lines.filter((l) => !l.startsWith("PASS")).join("\n")).toBe(0);
    expect([s.passed, s.missing]).toEqual([file.cases.length, 0]);
    expect(run.status).toBe(0);

    // What Python would refuse, or Fulmen cannot take, is said, never silently dropped.
    const refused = structuredClone(file);
    const byName = (name: string) => refused.cases.find((c) => c.name === name)!;
    Object.assign(byName("MaxPool2d_k3_s2_p1"), { args: [3, 2, 1, 1, false, false, 9] });
    Object.assign(byName("Conv2d_rect_stride2_pad12"), { args: [2, 3, [3, 2]], kwargs: { in_channels: 2 } });
    Object.assign(byName("Dropout_eval"), { kwargs: { p: 0.3, inplace: true } });
    refused.cases = ["MaxPool2d_k3_s2_p1", "Conv2d_rect_stride2_pad12", "Dropout_eval"].map(byName);
    writeFileSync(path, JSON.stringify(refused));
    const bad = parity(path);
    expect(bad.stdout).toMatch(/FAIL +0 .*MaxPool2d takes at most 6 positional arguments/);
    expect(bad.stdout).toMatch(/FAIL +1 .*Conv2d got multiple values for argument 'in_channels'/);
    expect(bad.stdout).toMatch(/MISS +2 .*not implemented: nn\.Dropout option inplace/);
    expect(bad.status).toBe(1);
  }, 60_000);

  // wasm runs tfjs's NHWC kernels (and Fulmen's replacements); host runs the native engine's NCHW ones.
  for (const accelerator of ["wasm", "host"]) {
    it(`passes the same cases on the ${accelerator} accelerator`, () => {
      const run = parity("--accelerator", accelerator, fixture);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain(`${golden.cases.length} cases, ${accelerator}`);
      const s = summary(run.stdout);
      expect(s.failed, s.lines.filter((l) => l.startsWith("FAIL")).join("\n")).toBe(0);
      expect(s.passed).toBeGreaterThanOrEqual(PASSED_WHEN_WRITTEN);
    }, 120_000);
  }
});
