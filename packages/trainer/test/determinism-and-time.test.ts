import { readdirSync } from "node:fs";
import { join } from "node:path";
import { manualSeed } from "@fulmen/core";
import { CpuAccelerator } from "@fulmen/fabric";
import { describe, expect, it, vi } from "vitest";
import { ModelCheckpoint, Trainer } from "../src/index";
import { loader, quiet, ToyModule, tempRoot } from "./helpers/toy";

/** A cpu accelerator that, like a GPU with atomics, makes no reproducibility promise. */
class UnpromisingAccelerator extends CpuAccelerator {
  override readonly name = "unpromising";
  override readonly deterministic = false;
}

async function weightsAfterFit(options: Record<string, unknown>): Promise<number[]> {
  manualSeed(3);
  const module = new ToyModule();
  const trainer = new Trainer(quiet({ maxEpochs: 2, ...options }));
  await trainer.fit(module, { trainDataloaders: loader(32, 8, true) });
  return module.parameters().flatMap((p) => Array.from(p.data.dataSync()));
}

describe("deterministic", () => {
  it("true: runs repeat bit for bit on an accelerator that guarantees it", async () => {
    const first = await weightsAfterFit({ accelerator: "cpu", deterministic: true });
    const second = await weightsAfterFit({ accelerator: "cpu", deterministic: true });
    expect(second).toEqual(first);
  });

  it("true fails, and 'warn' warns, on an accelerator without that guarantee", async () => {
    await expect(
      weightsAfterFit({ accelerator: new UnpromisingAccelerator(), deterministic: true }),
    ).rejects.toThrow(/the "unpromising" accelerator does not guarantee bit-reproducible kernels/);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      await weightsAfterFit({ accelerator: new UnpromisingAccelerator(), deterministic: "warn" });
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/does not guarantee bit-reproducible kernels/));
    } finally {
      warn.mockRestore();
    }
  });
});

describe("ModelCheckpoint trainTimeInterval", () => {
  it("saves whenever that much training time has passed, checked after each batch", async () => {
    const dir = join(tempRoot(), "ckpt");
    const module = new ToyModule();
    const step = module.trainingStep.bind(module);
    // Each batch takes at least 25 ms, so a 60 ms interval saves every few batches.
    module.trainingStep = (batch) => {
      const until = Date.now() + 25;
      while (Date.now() < until) {}
      return step(batch);
    };
    const trainer = new Trainer(
      quiet({
        maxEpochs: 1,
        enableCheckpointing: true,
        callbacks: [
          new ModelCheckpoint({ dirpath: dir, trainTimeInterval: 60, saveTopK: -1, monitor: "train_loss" }),
        ],
      }),
    );
    await trainer.fit(module, { trainDataloaders: loader(64, 4) });
    const saved = readdirSync(dir).length;
    // 16 batches of ≥ 25 ms: at least 400 ms, so ≥ 4 saves, and fewer than one per batch.
    expect(saved).toBeGreaterThanOrEqual(4);
    expect(saved).toBeLessThan(16);
  });

  it("is exclusive with the other triggers", () => {
    expect(() => new ModelCheckpoint({ trainTimeInterval: 1000, everyNTrainSteps: 5 })).toThrow(
      /mutually exclusive/,
    );
    expect(() => new ModelCheckpoint({ trainTimeInterval: -1 })).toThrow(/positive number of milliseconds/);
  });
});
