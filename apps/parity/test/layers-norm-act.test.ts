import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(__dirname, "../../..");
const cli = join(root, "apps/parity/dist/cli.js");
const fixtures = join(root, "packages/core/test/fixtures");

/** Replays one golden file on the cpu backend with --strict (a missing layer or option fails it). */
function replay(file: string) {
  const run = spawnSync(process.execPath, [cli, "--strict", join(fixtures, file)], { encoding: "utf8" });
  const lines = run.stdout.trim().split("\n");
  return { run, lines, last: lines.at(-1) ?? "" };
}

describe("pnpm parity: the normalisation and activation families against PyTorch", () => {
  for (const [file, family] of [
    ["torch-layers-normalization.json", "GroupNorm, InstanceNorm1d/2d, RMSNorm"],
    ["torch-layers-activations.json", "activation modules"],
  ] as const) {
    it(`passes every case of ${file} (${family}), none missing`, () => {
      const cases = (JSON.parse(readFileSync(join(fixtures, file), "utf8")) as { cases: unknown[] }).cases;
      const { run, lines, last } = replay(file);
      expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(last).toBe(`${cases.length} passed, 0 failed`);
      expect(lines.filter((l) => l.startsWith("PASS"))).toHaveLength(cases.length);
    }, 60_000);
  }

  it("passes every GroupNorm and activation case of torch-layers.json", () => {
    const { lines } = replay("torch-layers.json");
    const ours =
      /^(\w+)\s+\d+ module (GroupNorm|SiLU|Softmax|LogSoftmax|LeakyReLU|ELU|Softplus|Mish|Hardswish|Hardtanh|Tanh|Sigmoid|GELU|ReLU)(?:_[^:]*)?:/;
    const mine = lines.map((l) => ours.exec(l)).filter((m) => m !== null);
    expect(mine.length).toBeGreaterThanOrEqual(18);
    for (const m of mine) expect(m![1], m![0]).toBe("PASS");
  }, 60_000);
});
