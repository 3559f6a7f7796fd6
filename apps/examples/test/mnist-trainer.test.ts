import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tf } from "@fulmen/core";
import { CSVLogger, TensorBoardLogger } from "@fulmen/fabric";
import { EarlyStopping, ModelCheckpoint, Trainer } from "@fulmen/trainer";
import { describe, expect, it } from "vitest";
import { MnistCnn, MnistDataModule } from "../src/mnist-cnn-module";
import { fastestAccelerator } from "./fastest-accelerator";

describe("the Trainer example (MNIST CNN)", () => {
  it("trains a CNN with checkpoints, early stopping and both loggers, then tests the best checkpoint", async () => {
    const root = mkdtempSync(join(tmpdir(), "fulmen-mnist-"));
    const data = new MnistDataModule(64);
    const tb = new TensorBoardLogger({ rootDir: root, name: "tb" });
    const csv = new CSVLogger({ rootDir: root, name: "csv" });
    const trainer = new Trainer({
      maxEpochs: 2,
      limitTrainBatches: 0.5,
      defaultRootDir: root,
      enableProgressBar: false,
      enableModelSummary: false,
      logger: [tb, csv],
      callbacks: [
        new ModelCheckpoint({ monitor: "val_acc", mode: "max" }),
        new EarlyStopping({ monitor: "val_loss", patience: 2 }),
      ],
    });
    await trainer.fit(new MnistCnn(3e-3, 120), { datamodule: data });
    expect(trainer.fabric!.accelerator.name).toBe(fastestAccelerator());
    const best = trainer.checkpointCallback!;
    expect(best.bestModelScore!).toBeGreaterThan(0.85);
    expect(readdirSync(join(tb.logDir, "checkpoints"))).toHaveLength(1);
    expect(readdirSync(tb.logDir).some((f) => f.startsWith("events.out.tfevents"))).toBe(true);
    expect(existsSync(csv.metricsFile)).toBe(true);
    const [metrics] = await trainer.test(new MnistCnn(), { datamodule: data, ckptPath: "best" });
    expect(metrics!.test_acc).toBeGreaterThan(0.85);
    await tf.setBackend("cpu");
  }, 120_000);
});
