import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * A user's project in a temporary folder: its node_modules holds core, fabric and this package, and the
 * training script asks for the strategy by name only (Fabric finds the package there).
 */
const project = mkdtempSync(join(tmpdir(), "fulmen-zero-"));
const packages = resolve(__dirname, "../..");

beforeAll(() => {
  mkdirSync(join(project, "node_modules/@fulmen"), { recursive: true });
  for (const [name, folder] of [
    ["core", "core"],
    ["fabric", "fabric"],
    ["trainer", "trainer"],
    ["strategy-deepspeed", "strategy-deepspeed"],
  ])
    symlinkSync(join(packages, folder!), join(project, "node_modules/@fulmen", name!), "dir");
  for (const script of ["zero-train.mjs", "zero-fit.mjs"])
    copyFileSync(join(__dirname, "fixtures", script), join(project, script));
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

interface RunSummary {
  weights: Record<string, number[]>;
  losses: number[];
  norms: number[];
  tensorCounts: number[];
  bytesAfterStep: number[];
  numParams: number;
  worldSize: number;
  name: string;
}

interface RunConfig {
  strategy: string;
  devices: number;
  model?: "small" | "big";
  steps?: number;
  saveAt?: number;
  resumeAt?: number;
  ckpt?: string;
}

let runs = 0;

function train(config: RunConfig): RunSummary[] {
  const out = join(project, `run-${runs++}.json`);
  const full = { model: "small", steps: 6, ...config, out };
  const run = spawnSync(process.execPath, [join(project, "zero-train.mjs"), JSON.stringify(full)], {
    encoding: "utf8",
    timeout: 120_000,
    cwd: project,
    env: { ...process.env, FULMEN_COLLECTIVE_TIMEOUT_MS: "60000" },
  });
  expect(run.status, run.stderr).toBe(0);
  return Array.from(
    { length: config.devices },
    (_, r) => JSON.parse(readFileSync(`${out}.rank${r}`, "utf8")) as RunSummary,
  );
}

function maxDifference(a: RunSummary, b: RunSummary): number {
  let worst = 0;
  for (const [key, values] of Object.entries(a.weights))
    for (const [i, v] of values.entries()) worst = Math.max(worst, Math.abs(v - b.weights[key]![i]!));
  return worst;
}

describe("DeepSpeed ZeRO stages 1 and 2 across real processes", () => {
  for (const devices of [2, 4]) {
    it(`${devices} ranks: stages 1 and 2 train exactly like DDP (AdamW, clipping, accumulation), without leaks`, () => {
      const ddp = train({ strategy: "ddp", devices });
      for (const strategy of ["deepspeed_stage_1", "deepspeed_stage_2"]) {
        const ranks = train({ strategy, devices });
        expect(ranks[0]!.name).toBe("deepspeed");
        expect(ranks[0]!.worldSize).toBe(devices);
        ranks.forEach((r, rank) => {
          for (const [i, loss] of r.losses.entries())
            expect(Math.abs(loss - ddp[rank]!.losses[i]!)).toBeLessThan(1e-5);
          for (const [i, norm] of r.norms.entries())
            expect(Math.abs(norm - ddp[rank]!.norms[i]!)).toBeLessThan(1e-5);
          expect(r.norms.every((norm) => norm > 0.1)).toBe(true); // so clipping changed every step
          expect(maxDifference(ddp[0]!, r)).toBeLessThan(1e-5);
          expect(maxDifference(ranks[0]!, r)).toBe(0);
          expect(new Set(r.tensorCounts).size).toBe(1);
        });
      }
    });
  }

  it("each rank holds ZeRO's bytes right after optimizer.step(): DDP 16Ψ, stage 1 8Ψ+8Ψ/N, stage 2 4Ψ+12Ψ/N", () => {
    const formulas: Array<[string, number, (psi: number, n: number) => number]> = [
      ["ddp", 2, (psi) => 16 * psi],
      ["deepspeed_stage_1", 2, (psi, n) => 8 * psi + (8 * psi) / n],
      ["deepspeed_stage_2", 2, (psi, n) => 4 * psi + (12 * psi) / n],
      ["deepspeed_stage_1", 4, (psi, n) => 8 * psi + (8 * psi) / n],
      ["deepspeed_stage_2", 4, (psi, n) => 4 * psi + (12 * psi) / n],
    ];
    for (const [strategy, devices, formula] of formulas) {
      const ranks = train({ strategy, devices, model: "big", steps: 1 });
      const psi = ranks[0]!.numParams;
      expect(psi).toBeGreaterThan(1_000_000);
      for (const r of ranks)
        for (const bytes of r.bytesAfterStep)
          expect(Math.abs(bytes / formula(psi, devices) - 1), `${strategy} on ${devices} ranks`).toBeLessThan(
            0.1,
          );
    }
  });

  it("checkpoints hold the full state: saved sharded on 2 ranks, resumed on 4 (stage 1) and 1, as if never stopped", () => {
    const ckpt = join(project, "zero.ckpt");
    const reference = train({ strategy: "deepspeed_stage_2", devices: 2, saveAt: 3, ckpt });
    // The file is the ordinary one: a DDP run written without interruption ends the same way.
    const ddp = train({ strategy: "ddp", devices: 2 });
    expect(maxDifference(ddp[0]!, reference[0]!)).toBeLessThan(1e-5);
    const resumedOn4 = train({ strategy: "deepspeed_stage_1", devices: 4, resumeAt: 3, ckpt });
    expect(maxDifference(reference[0]!, resumedOn4[0]!)).toBeLessThan(1e-5);
    const resumedOn1 = train({ strategy: "auto", devices: 1, resumeAt: 3, ckpt });
    expect(maxDifference(reference[0]!, resumedOn1[0]!)).toBeLessThan(1e-5);
  });
});
