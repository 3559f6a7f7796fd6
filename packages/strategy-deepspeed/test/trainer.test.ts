import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** A user's project with core, fabric, trainer and this package installed; the Trainer names the strategy. */
const project = mkdtempSync(join(tmpdir(), "fulmen-zero-fit-"));
const packages = resolve(__dirname, "../..");

beforeAll(() => {
  mkdirSync(join(project, "node_modules/@fulmen"), { recursive: true });
  for (const name of ["core", "fabric", "trainer", "strategy-deepspeed"])
    symlinkSync(join(packages, name), join(project, "node_modules/@fulmen", name), "dir");
  copyFileSync(join(__dirname, "fixtures/zero-fit.mjs"), join(project, "zero-fit.mjs"));
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

interface FitResult {
  weights: Record<string, number[]>;
  step: number;
  strategy: string;
  numTensors: number;
}

function runFit(
  name: string,
  strategy: string,
  devices: number,
  maxEpochs: number,
  ckpt?: string,
): FitResult[] {
  const root = join(project, name);
  mkdirSync(root, { recursive: true });
  const args = [join(project, "zero-fit.mjs"), strategy, String(devices), root, String(maxEpochs)];
  if (ckpt !== undefined) args.push(ckpt);
  const run = spawnSync(process.execPath, args, {
    encoding: "utf8",
    timeout: 120_000,
    cwd: project,
    env: { ...process.env, FULMEN_COLLECTIVE_TIMEOUT_MS: "60000" },
  });
  expect(run.status, run.stderr).toBe(0);
  return Array.from(
    { length: devices },
    (_, r) => JSON.parse(readFileSync(join(root, `result.rank${r}.json`), "utf8")) as FitResult,
  );
}

function maxDifference(a: FitResult, b: FitResult): number {
  let worst = 0;
  for (const [k, values] of Object.entries(a.weights))
    for (const [i, v] of values.entries()) worst = Math.max(worst, Math.abs(v - b.weights[k]![i]!));
  return worst;
}

describe('Trainer with strategy "deepspeed_stage_2" on 2 real processes', () => {
  it("fits like DDP (accumulation, clipping), checkpoints, and resumes from last.ckpt as if never stopped", () => {
    const ddp = runFit("ddp", "ddp", 2, 4);
    const zero = runFit("zero", "deepspeed_stage_2", 2, 4);
    expect(zero[0]!.strategy).toBe("deepspeed");
    expect(zero[0]!.step).toBe(ddp[0]!.step);
    expect(maxDifference(ddp[0]!, zero[0]!)).toBeLessThan(1e-5);
    expect(maxDifference(zero[0]!, zero[1]!)).toBe(0);
    expect(zero[0]!.numTensors).toBe(zero[1]!.numTensors);
    // Two epochs, then two more from the checkpoint: the same weights as the uninterrupted fit.
    const first = runFit("first", "deepspeed_stage_2", 2, 2);
    const resumed = runFit("resumed", "deepspeed_stage_2", 2, 4, join(project, "first/ckpt/last.ckpt"));
    expect(first[0]!.step).toBe(zero[0]!.step / 2);
    expect(resumed[0]!.step).toBe(zero[0]!.step);
    expect(maxDifference(zero[0]!, resumed[0]!)).toBeLessThan(1e-5);
    expect(maxDifference(resumed[0]!, resumed[1]!)).toBe(0);
  });
});
