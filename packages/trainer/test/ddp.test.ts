import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = mkdtempSync(join(tmpdir(), "fulmen-trainer-ddp-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface FitResult {
  weights: Record<string, number[]>;
  metrics: Record<string, number>;
  step: number;
  numTensors: number;
}

function runFit(devices: number): { dir: string; ranks: FitResult[] } {
  const dir = join(root, `devices-${devices}`);
  mkdirSync(dir, { recursive: true });
  const run = spawnSync(process.execPath, [join(__dirname, "fixtures/ddp-fit.mjs"), String(devices), dir], {
    encoding: "utf8",
    timeout: 180_000,
  });
  expect(run.status, run.stderr).toBe(0);
  const ranks = Array.from(
    { length: devices },
    (_, r) => JSON.parse(readFileSync(join(dir, `result.rank${r}.json`), "utf8")) as FitResult,
  );
  return { dir, ranks };
}

function maxDifference(a: FitResult, b: FitResult): number {
  let worst = 0;
  for (const [k, values] of Object.entries(a.weights))
    for (const [i, v] of values.entries()) worst = Math.max(worst, Math.abs(v - b.weights[k]![i]!));
  return worst;
}

describe("Trainer with strategy ddp on 2 real processes", () => {
  it("trains like one process with the whole batch; only rank 0 writes logs and checkpoints; syncDist reduces", () => {
    const single = runFit(1).ranks[0]!;
    const { dir, ranks } = runFit(2);
    const [zero, one] = ranks as [FitResult, FitResult];
    expect(zero.step).toBe(single.step);
    expect(maxDifference(single, zero)).toBeLessThan(1e-5);
    expect(maxDifference(zero, one)).toBe(0);
    // syncDist: both ranks log the same reduced values; "rank" is summed over ranks 0 and 1.
    expect(zero.metrics.val_loss).toBeCloseTo(single.metrics.val_loss!, 5);
    expect(one.metrics.val_loss).toBe(zero.metrics.val_loss);
    expect(zero.metrics.train_loss_epoch).toBe(one.metrics.train_loss_epoch);
    expect([single.metrics.rank, zero.metrics.rank, one.metrics.rank]).toEqual([0, 1, 1]);
    expect(zero.numTensors).toBe(one.numTensors);
    // One experiment folder (rank 1 made none), and ModelCheckpoint's top-2 plus last.ckpt.
    expect(readdirSync(join(dir, "logs"))).toEqual(["version_0"]);
    const checkpoints = readdirSync(join(dir, "ckpt")).sort();
    expect(checkpoints).toHaveLength(3);
    expect(checkpoints).toContain("last.ckpt");
    expect(readdirSync(join(runFit(1).dir, "ckpt")).sort()).toEqual(checkpoints);
  });
});
