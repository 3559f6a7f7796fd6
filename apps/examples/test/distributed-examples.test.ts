import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const dist = join(__dirname, "../dist");

describe("the examples with --devices 2 (DDP on 2 processes)", () => {
  it("the Fabric example trains across 2 ranks; rank 0 reports", () => {
    const run = spawnSync(
      process.execPath,
      [join(dist, "mnist-fabric.js"), "--devices", "2", "--epochs", "2"],
      {
        encoding: "utf8",
        timeout: 300_000,
      },
    );
    expect(run.status, run.stderr).toBe(0);
    const final = /final test accuracy ([\d.]+)% \((\w+), 32-true, DDP × 2\)/.exec(run.stdout);
    expect(final, run.stdout).not.toBeNull();
    expect(Number(final![1])).toBeGreaterThan(85);
    expect(run.stdout.match(/final test accuracy/g)).toHaveLength(1);
  });

  it("the Trainer example trains across 2 ranks; only rank 0 writes logs and checkpoints", () => {
    const root = mkdtempSync(join(tmpdir(), "fulmen-mnist-ddp-"));
    try {
      const run = spawnSync(
        process.execPath,
        [join(dist, "mnist-trainer.js"), "--devices", "2", "--epochs", "1", "--root", root],
        { encoding: "utf8", timeout: 300_000 },
      );
      expect(run.status, run.stderr).toBe(0);
      const accuracy = /test accuracy ([\d.]+)%/.exec(run.stdout);
      expect(Number(accuracy![1])).toBeGreaterThan(75);
      expect(readdirSync(join(root, "mnist_cnn"))).toEqual(["version_0"]);
      expect(readdirSync(join(root, "mnist_cnn", "version_0", "checkpoints")).sort()).toHaveLength(2);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("the character GPT with sharded strategies on 2 processes", () => {
  it.each([
    ["fsdp", "fsdp"],
    ["deepspeed_stage_3", "deepspeed"],
  ])("--strategy %s trains, matches DDP's final loss and writes text on rank 0 only", (strategy, name) => {
    const run = (s: string) =>
      spawnSync(
        process.execPath,
        [join(dist, "char-gpt-trainer.js"), "--steps", "30", "--devices", "2", "--strategy", s],
        {
          encoding: "utf8",
          timeout: 300_000,
        },
      );
    const sharded = run(strategy);
    expect(sharded.status, sharded.stderr).toBe(0);
    const line = new RegExp(
      `trained 30 steps \\(${name} × 2\\) in [\\d.]+ s; final train loss ([\\d.]+)`,
    ).exec(sharded.stdout);
    expect(line, sharded.stdout).not.toBeNull();
    expect(sharded.stdout.match(/^The /gm)).toHaveLength(1);
    const ddp = run("ddp");
    const ddpLoss = /final train loss ([\d.]+)/.exec(ddp.stdout);
    expect(ddpLoss, ddp.stdout).not.toBeNull();
    expect(Number(line![1])).toBeCloseTo(Number(ddpLoss![1]), 3);
    expect(Number(line![1])).toBeLessThan(3.6);
  });
});
