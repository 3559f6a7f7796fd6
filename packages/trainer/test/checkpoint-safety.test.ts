import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type CheckpointFileSystem,
  FulmenError,
  manualSeed,
  nn,
  nodeFileSystem,
  SafetensorsCheckpointIO,
  type tf,
} from "@fulmen/core";
import { Fabric } from "@fulmen/fabric";
import { afterEach, describe, expect, it } from "vitest";
import { mountTinyDisk } from "../../../tooling/test-helpers/tmpfs";
import { Callback, ModelCheckpoint, Trainer } from "../src/index";
import { type Batch, loader, quiet, ToyModule, tempRoot } from "./helpers/toy";

/** Logs a chosen score per epoch, so that the top k is known in advance. */
class Scored extends ToyModule {
  constructor(private readonly scores: number[]) {
    super();
  }
  override trainingStep(batch: Batch): tf.Scalar {
    this.log("score", this.scores[this.currentEpoch]!);
    return super.trainingStep(batch);
  }
}

/** A module with 16k parameters (a 66 KB checkpoint), to fill a small disk. */
class Wide extends ToyModule {
  constructor() {
    super();
    manualSeed(3);
    this.net = new nn.Sequential(new nn.Linear(4, 2048), new nn.Tanh(), new nn.Linear(2048, 3));
  }
}

/** Runs `fn` when epoch `epoch` starts. */
class AtEpochStart extends Callback {
  constructor(
    private readonly epoch: number,
    private readonly fn: () => void,
  ) {
    super();
  }
  override onTrainEpochStart(trainer: Trainer): void {
    if (trainer.currentEpoch === this.epoch) this.fn();
  }
}

const temporaries = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".fulmen-tmp"));

describe("a checkpoint save that cannot complete during fit", () => {
  it("fails fit with the save's error and keeps the last good checkpoint (injected full disk)", async () => {
    const dir = tempRoot();
    // A disk that fills up once `budget` is set: a short write of what is left, then ENOSPC.
    let budget = Number.POSITIVE_INFINITY;
    const disk: CheckpointFileSystem = {
      ...nodeFileSystem,
      writeSync(fd, buffer, offset, length) {
        if (budget <= 0)
          throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
        const n = nodeFileSystem.writeSync(fd, buffer, offset, Math.min(length, budget));
        budget -= n;
        return n;
      },
    };
    const first = join(dir, "epoch=0-step=2.ckpt");
    let good: Buffer | null = null;
    const ckpt = new ModelCheckpoint({ dirpath: dir, saveLast: true });
    const trainer = new Trainer(
      quiet({
        maxEpochs: 3,
        enableCheckpointing: true,
        plugins: new SafetensorsCheckpointIO({ fileSystem: disk }),
        callbacks: [
          ckpt,
          new AtEpochStart(1, () => {
            good = readFileSync(first);
            budget = 100;
          }),
        ],
      }),
    );
    const fit = trainer.fit(new ToyModule(), { trainDataloaders: loader(16, 8) });
    await expect(fit).rejects.toThrow(FulmenError);
    await expect(fit).rejects.toThrow(
      new RegExp(`cannot save '${join(dir, "epoch=1-step=4.ckpt")}': ENOSPC.*unchanged`),
    );
    expect(trainer.state.status).toBe("interrupted");
    expect(readdirSync(dir).sort()).toEqual(["epoch=0-step=2.ckpt", "last.ckpt"]);
    expect(readFileSync(first).equals(good!)).toBe(true);
    expect(readFileSync(join(dir, "last.ckpt")).equals(good!)).toBe(true);
    expect(ckpt.bestModelPath).toBe(first);
    expect(ckpt.lastModelPath).toBe(first);
  });

  describe("on a real full disk (a tmpfs)", () => {
    let unmount: (() => void) | null = null;
    afterEach(() => {
      unmount?.();
      unmount = null;
    });

    it("fails fit with ENOSPC, keeping the previous checkpoint and last.ckpt intact", async (ctx) => {
      // Room for two 66 KB checkpoints (epoch 0 and its last.ckpt), not a third.
      const disk = mountTinyDisk(168);
      if ("reason" in disk) return ctx.skip(disk.reason);
      unmount = disk.unmount;
      const first = join(disk.dir, "epoch=0-step=2.ckpt");
      let good: Buffer | null = null;
      const trainer = new Trainer(
        quiet({
          maxEpochs: 3,
          enableCheckpointing: true,
          callbacks: [
            new ModelCheckpoint({ dirpath: disk.dir, saveLast: true }),
            new AtEpochStart(1, () => {
              good = readFileSync(first);
            }),
          ],
        }),
      );
      await expect(trainer.fit(new Wide(), { trainDataloaders: loader(16, 8) })).rejects.toThrow(
        new RegExp(`cannot save '${join(disk.dir, "epoch=1-step=4.ckpt")}': ENOSPC`),
      );
      expect(readdirSync(disk.dir).sort()).toEqual(["epoch=0-step=2.ckpt", "last.ckpt"]);
      expect(readFileSync(first).equals(good!)).toBe(true);
      const restored = new Fabric({ accelerator: "cpu" }).load(join(disk.dir, "last.ckpt"));
      expect(restored.globalStep).toBe(2);
    });
  });
});

describe("last.ckpt", () => {
  it("is written atomically and always holds the latest step, also when the top k skipped it", async () => {
    const dir = tempRoot();
    const ckpt = new ModelCheckpoint({ dirpath: dir, monitor: "score", saveTopK: 1, saveLast: true });
    const trainer = new Trainer(quiet({ maxEpochs: 3, enableCheckpointing: true, callbacks: [ckpt] }));
    // Epoch 2 does not make the top 1, yet last.ckpt must be epoch 2's state, not a copy of epoch 1's file.
    await trainer.fit(new Scored([3, 1, 2]), { trainDataloaders: loader(16, 8) });
    const last = new Fabric({ accelerator: "cpu" }).load(join(dir, "last.ckpt"));
    expect(last.globalStep).toBe(trainer.globalStep);
    expect(temporaries(dir)).toEqual([]);
  });
});

describe("a resumed fit", () => {
  it("keeps exactly saveTopK checkpoints and a current best path", async () => {
    const dir = tempRoot();
    // min mode: epoch 2 is the best (1); after the resume epoch 3 (2) replaces epoch 1 (4), epochs 4-5 do not rank.
    const scores = [5, 4, 1, 2, 3, 6];
    const callback = () =>
      new ModelCheckpoint({
        dirpath: dir,
        monitor: "score",
        saveTopK: 2,
        saveLast: true,
        filename: "{epoch}",
      });
    const run = async (maxEpochs: number, ckptPath?: string) => {
      const ckpt = callback();
      const trainer = new Trainer(quiet({ maxEpochs, enableCheckpointing: true, callbacks: [ckpt] }));
      await trainer.fit(new Scored(scores), { trainDataloaders: loader(16, 8), ckptPath });
      return { ckpt, trainer };
    };

    await run(3);
    expect(readdirSync(dir).sort()).toEqual(["epoch=1.ckpt", "epoch=2.ckpt", "last.ckpt"]);
    // The state inside a checkpoint knows that checkpoint itself.
    const saved = new Fabric({ accelerator: "cpu" }).load(join(dir, "epoch=2.ckpt")) as {
      callbacks: { ModelCheckpoint: { kept: Array<{ path: string }>; bestModelPath: string } };
    };
    expect(saved.callbacks.ModelCheckpoint.kept.map((k) => k.path).sort()).toEqual([
      join(dir, "epoch=1.ckpt"),
      join(dir, "epoch=2.ckpt"),
    ]);
    expect(saved.callbacks.ModelCheckpoint.bestModelPath).toBe(join(dir, "epoch=2.ckpt"));

    const { ckpt, trainer } = await run(6, "last");
    expect(trainer.currentEpoch).toBe(6);
    expect(readdirSync(dir).sort()).toEqual(["epoch=2.ckpt", "epoch=3.ckpt", "last.ckpt"]);
    expect(ckpt.bestModelPath).toBe(join(dir, "epoch=2.ckpt"));
    expect(existsSync(ckpt.bestModelPath)).toBe(true);
    expect(ckpt.bestModelScore).toBe(1);
    expect(Object.keys(ckpt.bestKModels).sort()).toEqual([
      join(dir, "epoch=2.ckpt"),
      join(dir, "epoch=3.ckpt"),
    ]);
  });

  it("does not adopt (or ever delete) another folder's top k when dirpath changed", async () => {
    const first = tempRoot();
    const second = tempRoot();
    // Without the dirpath rule, epoch 2 (0.5) would push the first folder's epoch=1.ckpt out of the top 1.
    const options = { monitor: "score", saveTopK: 1, saveLast: true, filename: "{epoch}" } as const;
    await new Trainer(
      quiet({
        maxEpochs: 2,
        enableCheckpointing: true,
        callbacks: [new ModelCheckpoint({ dirpath: first, ...options })],
      }),
    ).fit(new Scored([2, 1, 0.5, 4]), { trainDataloaders: loader(16, 8) });
    const ckpt = new ModelCheckpoint({ dirpath: second, ...options });
    await new Trainer(quiet({ maxEpochs: 4, enableCheckpointing: true, callbacks: [ckpt] })).fit(
      new Scored([2, 1, 0.5, 4]),
      { trainDataloaders: loader(16, 8), ckptPath: join(first, "last.ckpt") },
    );
    expect(readdirSync(first).sort()).toEqual(["epoch=1.ckpt", "last.ckpt"]);
    expect(readdirSync(second).sort()).toEqual(["epoch=2.ckpt", "last.ckpt"]);
    expect(ckpt.bestModelPath).toBe(join(second, "epoch=2.ckpt"));
  });
});
