import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nn } from "@fulmen/core";
import { afterAll, describe, expect, it } from "vitest";
import { Fabric } from "../src";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs a 2-rank fixture in a fresh folder and returns the folder. */
function runFixture(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), "fulmen-rank-order-"));
  dirs.push(dir);
  const run = spawnSync(process.execPath, [join(__dirname, "fixtures", name), dir], {
    encoding: "utf8",
    timeout: 120_000,
  });
  expect(run.status, run.stderr).toBe(0);
  return dir;
}

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8"));
const lines = (path: string) => readFileSync(path, "utf8").trim().split("\n");

describe("fabric.rankZeroFirst on 2 processes", () => {
  it("finishes rank 0's fn before rank 1's starts (async and sync), and returns every rank's own result", () => {
    const dir = runFixture("rank-zero-first.mjs");
    expect(lines(join(dir, "async.log"))).toEqual(["start 0", "end 0", "start 1", "end 1"]);
    expect(lines(join(dir, "sync.log"))).toEqual(["start 0", "end 0", "start 1", "end 1"]);
    const [r0, r1] = [0, 1].map((r) => readJson(join(dir, `result.rank${r}.json`)));
    expect(r0.asyncResult).toEqual({ sawMarker: false, content: "downloaded by rank 0" });
    expect(r1.asyncResult).toEqual({ sawMarker: true, content: "downloaded by rank 0" });
    expect([r0.syncResult, r1.syncResult]).toEqual([false, true]);
  });
});

describe("fabric.noBackwardSync(module, fn, { enabled }) on 2 DDP processes", () => {
  it("keeps gradients local when enabled and averages them across ranks when not", () => {
    const dir = runFixture("no-backward-sync.mjs");
    const [g0, g1] = [0, 1].map((r) => readJson(join(dir, `grads.rank${r}.json`)));
    const flat = (g: number[][]) => g.flat();
    // Enabled (the default, explicitly, or with the module as given to setup): each rank keeps its own gradient.
    expect(flat(g0.skipped)).not.toEqual(flat(g1.skipped));
    for (const g of [g0, g1]) {
      expect(g.skippedExplicitly).toEqual(g.skipped);
      expect(g.skippedWithOriginal).toEqual(g.skipped);
    }
    // Disabled: the gradients are synchronised — the mean of the local ones, the same on both ranks.
    const mean = flat(g0.skipped).map((v: number, i: number) => (v + flat(g1.skipped)[i]!) / 2);
    for (const g of [g0, g1]) {
      flat(g.notSkipped).forEach((v: number, i: number) => {
        expect(v).toBeCloseTo(mean[i]!, 5);
      });
      expect(g.notSkipped).toEqual(g.plain);
    }
    expect(g0.notSkipped).toEqual(g1.notSkipped);
    for (const g of [g0, g1]) {
      expect(g.errors[0]).toMatch(/set up the model first .*fabric\.setup/);
      expect(g.errors[1]).toMatch(/enabled must be true or false/);
    }
  });
});

describe("fabric.rankZeroFirst and noBackwardSync in one process", () => {
  it("runs fn and returns its result; refuses modules another Fabric set up", async () => {
    const fabric = new Fabric({ accelerator: "cpu", devices: 1 });
    expect(fabric.rankZeroFirst(() => 7)).toBe(7);
    await expect(fabric.rankZeroFirst(async () => "done", { local: true })).resolves.toBe("done");
    expect(() => fabric.rankZeroFirst(() => 1, { local: 1 as never })).toThrow(/local must be true or false/);
    expect(() => fabric.rankZeroFirst(() => 1, { rank: 0 } as never)).toThrow(/rank/);
    const model = fabric.setup(new nn.Linear(2, 1));
    expect(fabric.noBackwardSync(model, () => "ran", { enabled: false })).toBe("ran");
    const other = new Fabric({ accelerator: "cpu", devices: 1 });
    expect(() => other.noBackwardSync(model, () => 0)).toThrow(/set up the model first/);
  });
});
