import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AdamW, type DataLoader, nn, type Optimizer, SGD, tf } from "@fulmen/core";
import { CSVLogger } from "@fulmen/fabric";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { EarlyStopping, LightningDataModule, ModelCheckpoint, Trainer } from "../src/index";
import { type Batch, loader, quiet, RecordingCallback, ToyModule, tempRoot } from "./helpers/toy";

const root = () => tempRoot();

class ToyData extends LightningDataModule {
  calls: string[] = [];
  override prepareData(): void {
    this.calls.push("prepareData");
  }
  override setup(stage: string): void {
    this.calls.push(`setup:${stage}`);
  }
  override trainDataloader(): DataLoader<unknown, unknown> {
    return loader(16, 8) as DataLoader<unknown, unknown>;
  }
  override valDataloader(): DataLoader<unknown, unknown> {
    return loader(8, 8) as DataLoader<unknown, unknown>;
  }
  override testDataloader(): DataLoader<unknown, unknown> {
    return loader(8, 8) as DataLoader<unknown, unknown>;
  }
}

describe("Trainer features", () => {
  it("takes its data from a LightningDataModule, calling prepareData and setup per stage", async () => {
    const dm = new ToyData();
    const trainer = new Trainer(quiet({ maxEpochs: 1 }));
    await trainer.fit(new ToyModule(), { datamodule: dm });
    await trainer.test(new ToyModule(), { datamodule: dm });
    expect(dm.calls).toEqual(["prepareData", "setup:fit", "prepareData", "setup:test"]);
    expect(trainer.globalStep).toBe(2);
    expect(trainer.datamodule).toBe(dm);
    expect(trainer.fitLoop.progress).toMatchObject({ epoch: 0, batchesDone: 2, epochFinished: true });
    await trainer.validate(new ToyModule(), { dataloaders: loader(8, 8) });
    expect(trainer.datamodule).toBeNull();
  });

  it("runs manual optimization with several optimizers and toggled parameters", async () => {
    class TwoHeads extends ToyModule {
      override automaticOptimization = false;
      head = new nn.Linear(3, 1);
      override trainingStep(batch: Batch): tf.Scalar {
        const [first, second] = this.optimizers() as Optimizer[];
        this.toggleOptimizer(first!);
        first!.zeroGrad();
        this.manualBackward(() => nn.crossEntropy(this.forward(batch.x), batch.y) as tf.Scalar).dispose();
        expect(this.head.weight.requiresGrad).toBe(false);
        first!.step();
        this.untoggleOptimizer(first!);
        expect(this.head.weight.requiresGrad).toBe(true);
        second!.zeroGrad();
        this.manualBackward(
          () => tf.mean(tf.square(this.head.forward(this.forward(batch.x)))) as tf.Scalar,
        ).dispose();
        second!.step();
        return tf.scalar(0);
      }
      override configureOptimizers() {
        return [new SGD(this.net, { lr: 0.1 }), new SGD(this.head, { lr: 0.1 })];
      }
    }
    const module = new TwoHeads();
    const before = Array.from(module.head.weight.data.dataSync());
    const trainer = new Trainer(quiet({ maxEpochs: 1 }));
    await trainer.fit(module, { trainDataloaders: loader(16, 8) });
    expect(trainer.globalStep).toBe(4);
    expect(Array.from(module.head.weight.data.dataSync())).not.toEqual(before);
  });

  it("saves hyperparameters to the loggers and into checkpoints", async () => {
    const dir = root();
    const module = new ToyModule();
    module.saveHyperparameters({ lr: 0.1, layers: [16], nested: { dropout: 0.2 } });
    const csv = new CSVLogger({ rootDir: dir });
    const trainer = new Trainer(quiet({ maxEpochs: 1, logger: csv, enableCheckpointing: true }));
    await trainer.fit(module, { trainDataloaders: loader(16, 8) });
    expect(parse(readFileSync(join(csv.logDir, "hparams.yaml"), "utf8"))).toEqual({
      lr: 0.1,
      layers: [16],
      nested: { dropout: 0.2 },
    });
    const ckpt = trainer.checkpointCallback!.bestModelPath;
    expect(ckpt).toBe(join(csv.logDir, "checkpoints", "epoch=0-step=2.ckpt"));
    const restored = new ToyModule(9);
    await new Trainer(quiet()).test(restored, { dataloaders: loader(8, 8), ckptPath: ckpt });
    expect(restored.hparams).toEqual(module.hparams);
    expect(Array.from(restored.parameters()[0]!.data.dataSync())).toEqual(
      Array.from(module.parameters()[0]!.data.dataSync()),
    );
  });

  it("tests the best checkpoint with ckptPath 'best'", async () => {
    const dir = root();
    const module = new ToyModule();
    const ckpt = new ModelCheckpoint({ dirpath: dir, monitor: "val_loss" });
    const trainer = new Trainer(quiet({ maxEpochs: 3, enableCheckpointing: true, callbacks: [ckpt] }));
    await trainer.fit(module, { trainDataloaders: loader(32, 8), valDataloaders: loader(16, 8) });
    expect(existsSync(ckpt.bestModelPath)).toBe(true);
    const [metrics] = await trainer.test(module, { dataloaders: loader(16, 8), ckptPath: "best" });
    expect(metrics!.test_loss).toBeCloseTo(ckpt.bestModelScore!, 5);
    await expect(
      new Trainer(quiet()).test(module, { dataloaders: loader(8, 8), ckptPath: "best" }),
    ).rejects.toThrow(/there is no best checkpoint/);
  });

  it("keeps training until minEpochs even when EarlyStopping asks to stop", async () => {
    const module = new ToyModule();
    module.validationStep = function (this: ToyModule) {
      this.log("flat", 1);
    } as never;
    const trainer = new Trainer(
      quiet({
        maxEpochs: 10,
        minEpochs: 5,
        callbacks: [new EarlyStopping({ monitor: "flat", patience: 1 })],
      }),
    );
    await trainer.fit(module, { trainDataloaders: loader(16, 8), valDataloaders: loader(8, 8) });
    expect(trainer.currentEpoch).toBe(5);
  });

  it("stops at maxTime", async () => {
    const module = new ToyModule();
    const slow = module.trainingStep.bind(module);
    module.trainingStep = ((batch: Batch) => {
      const until = Date.now() + 30;
      while (Date.now() < until) {
        // busy-wait: a slow step
      }
      return slow(batch);
    }) as never;
    const trainer = new Trainer(quiet({ maxEpochs: 100, maxTime: { seconds: 0.2 } }));
    await trainer.fit(module, { trainDataloaders: loader(64, 8) });
    expect(trainer.globalStep).toBeGreaterThan(2);
    expect(trainer.globalStep).toBeLessThan(20);
  });

  it("clips by value with gradientClipAlgorithm 'value'", async () => {
    const recorder = new RecordingCallback();
    const module = new ToyModule();
    let largest = 0;
    module.onBeforeOptimizerStep = () => {
      largest = Math.max(
        largest,
        ...module.parameters().flatMap((p) => Array.from(p.grad!.dataSync()).map(Math.abs)),
      );
    };
    const trainer = new Trainer(
      quiet({ maxEpochs: 1, gradientClipVal: 1e-3, gradientClipAlgorithm: "value", callbacks: [recorder] }),
    );
    await trainer.fit(module, { trainDataloaders: loader(16, 8) });
    expect(largest).toBeGreaterThan(1e-3);
    expect(
      module
        .parameters()
        .every(
          (p) => p.grad === null || Array.from(p.grad.dataSync()).every((v) => Math.abs(v) <= 1e-3 + 1e-9),
        ),
    ).toBe(true);
  });

  it("prints a model summary with parameter counts", async () => {
    const lines: string[] = [];
    const { ModelSummary } = await import("../src/index");
    const trainer = new Trainer(quiet({ maxEpochs: 1, callbacks: [new ModelSummary((t) => lines.push(t))] }));
    await trainer.fit(new ToyModule(), { trainDataloaders: loader(8, 8) });
    expect(lines[0]).toMatch(/0 \| net {2}\| Sequential \| 131/);
    expect(lines[0]).toMatch(/131 {5}Total params/);
  });

  it("lists nested layers down to maxDepth (-1: all; 0: no summary)", async () => {
    const { ModelSummary } = await import("../src/index");
    const tables: string[] = [];
    for (const maxDepth of [2, -1, 0]) {
      const trainer = new Trainer(
        quiet({ maxEpochs: 1, callbacks: [new ModelSummary({ maxDepth, print: (t) => tables.push(t) })] }),
      );
      await trainer.fit(new ToyModule(), { trainDataloaders: loader(8, 8) });
    }
    expect(tables).toHaveLength(2);
    // ToyModule's net is Sequential(Linear(4, 16), Tanh, Linear(16, 3)): depth 2 lists its children.
    expect(tables[0]).toMatch(/net\.0 +\| Linear +\| 80/);
    expect(tables[0]).toMatch(/net\.2 +\| Linear +\| 51/);
    expect(tables[1]).toBe(tables[0]);
    expect(() => new ModelSummary({ maxDepth: -2 })).toThrow(/maxDepth must be -1, 0 or a positive integer/);
  });

  it("overfits a few batches: trains and validates on the same unshuffled batches", async () => {
    const recorder = new RecordingCallback();
    const module = new ToyModule();
    module.configure = (m) => new AdamW(m, { lr: 0.05 });
    const trainer = new Trainer(quiet({ maxEpochs: 30, overfitBatches: 2, callbacks: [recorder] }));
    await trainer.fit(module, { trainDataloaders: loader(64, 8, true) });
    expect(trainer.globalStep).toBe(60);
    expect(recorder.seen.filter((h) => h === "onValidationBatchStart")).toHaveLength(60);
    expect(trainer.callbackMetrics.val_loss!).toBeLessThan(0.3);
  });

  it("profiles the loops with profiler 'simple'", async () => {
    const trainer = new Trainer(quiet({ maxEpochs: 1, profiler: "simple" }));
    const timings: string[] = [];
    const log = console.log;
    console.log = (text: string) => timings.push(text);
    try {
      await trainer.fit(new ToyModule(), { trainDataloaders: loader(16, 8), valDataloaders: loader(8, 8) });
    } finally {
      console.log = log;
    }
    expect(timings[0]).toMatch(/FIT Profiler Report/);
    expect(timings[0]).toMatch(/\| run_training_batch +\| [0-9.]+ +\| 2 /);
    expect(timings[0]).toMatch(/\| optimizer_step +\| [0-9.]+ +\| 2 /);
    expect(timings[0]).toMatch(/\| validate_step +\| [0-9.]+ +\| 1 /);
  });
});
