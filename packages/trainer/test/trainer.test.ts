import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AdamW, CosineAnnealingLR, nn, ReduceLROnPlateau, SGD, StepLR, tf } from "@fulmen/core";
import { CSVLogger, Fabric } from "@fulmen/fabric";
import { describe, expect, it } from "vitest";
import { EarlyStopping, ModelCheckpoint, Trainer, type TrainerOptions } from "../src/index";
import { type Batch, loader, quiet, RecordingCallback, ToyModule, tempRoot } from "./helpers/toy";

const root = () => tempRoot();

function csvRows(logger: CSVLogger): Array<Record<string, string>> {
  const [header, ...lines] = readFileSync(logger.metricsFile, "utf8").trim().split("\n");
  const cols = header!.split(",");
  return lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [cols[i]!, v])));
}

describe("Trainer.fit", () => {
  it("calls hooks in Lightning's order", async () => {
    const recorder = new RecordingCallback();
    const trainer = new Trainer(
      quiet({
        maxEpochs: 1,
        limitTrainBatches: 2,
        limitValBatches: 2,
        numSanityValSteps: 1,
        callbacks: [recorder],
      }),
    );
    await trainer.fit(new ToyModule(), { trainDataloaders: loader(32), valDataloaders: loader(16) });
    const batch = [
      "onTrainBatchStart",
      "onBeforeZeroGrad",
      "onBeforeBackward",
      "onAfterBackward",
      "onBeforeOptimizerStep",
      "onTrainBatchEnd",
    ];
    const validation = [
      "onValidationStart",
      "onValidationEpochStart",
      "onValidationBatchStart",
      "onValidationBatchEnd",
      "onValidationEpochEnd",
      "onValidationEnd",
    ];
    expect(recorder.seen).toEqual([
      "setup",
      "onFitStart",
      "onSanityCheckStart",
      "onValidationStart",
      "onValidationEpochStart",
      "onValidationBatchStart",
      "onValidationBatchEnd",
      "onValidationEpochEnd",
      "onValidationEnd",
      "onSanityCheckEnd",
      "onTrainStart",
      "onTrainEpochStart",
      ...batch,
      ...batch,
      ...validation.slice(0, 4),
      ...validation.slice(2, 4),
      ...validation.slice(4),
      "onTrainEpochEnd",
      "onTrainEnd",
      "onFitEnd",
      "teardown",
    ]);
    expect(trainer.globalStep).toBe(2);
    expect(trainer.currentEpoch).toBe(1);
  });

  it("trains like the same loop written with Fabric, with accumulation and norm clipping", async () => {
    const trainer = new Trainer(
      quiet({ maxEpochs: 2, accumulateGradBatches: 2, gradientClipVal: 0.5, numSanityValSteps: 0 }),
    );
    const viaTrainer = new ToyModule(3);
    viaTrainer.configure = (m) => new AdamW(m, { lr: 0.01 });
    await trainer.fit(viaTrainer, { trainDataloaders: loader(40, 8) });
    expect(trainer.globalStep).toBe(6); // 5 batches per epoch: steps after batches 2, 4 and the last

    const fabric = new Fabric({ accelerator: "cpu" });
    const plain = new ToyModule(3);
    const [m, opt] = fabric.setup(plain, new AdamW(plain, { lr: 0.01 }));
    for (let epoch = 0; epoch < 2; epoch++) {
      let i = 0;
      for (const { x, y } of loader(40, 8)) {
        if (i % 2 === 0) opt.zeroGrad();
        fabric.backward(() => tf.div(nn.crossEntropy(m.net.forward(x), y), 2) as tf.Scalar).dispose();
        if ((i + 1) % 2 === 0 || i === 4) {
          fabric.clipGradients(m, opt, { maxNorm: 0.5, errorIfNonfinite: false })?.dispose();
          opt.step();
        }
        i += 1;
      }
    }
    expect(viaTrainer.parameters().map((p) => Array.from(p.data.dataSync()))).toEqual(
      plain.parameters().map((p) => Array.from(p.data.dataSync())),
    );
  });

  it("logs on step and on epoch with Lightning's names, every logEveryNSteps", async () => {
    const dir = root();
    const csv = new CSVLogger({ rootDir: dir });
    const trainer = new Trainer(
      quiet({ maxEpochs: 2, logEveryNSteps: 2, logger: csv, numSanityValSteps: 0 }),
    );
    await trainer.fit(new ToyModule(), { trainDataloaders: loader(32, 8), valDataloaders: loader(16, 8) });
    const rows = csvRows(csv);
    const stepRows = rows.filter((r) => r.train_loss_step !== "");
    expect(stepRows.map((r) => r.step)).toEqual(["1", "3", "5", "7"]);
    const epochRows = rows.filter((r) => r.train_loss_epoch !== "");
    expect(epochRows.map((r) => [r.step, r.epoch])).toEqual([
      ["3", "0"],
      ["7", "1"],
    ]);
    const valRows = rows.filter((r) => r.val_loss !== "");
    expect(valRows).toHaveLength(2);
    expect(Object.keys(trainer.callbackMetrics).sort()).toEqual(
      ["train_loss", "train_loss_epoch", "train_loss_step", "val_acc", "val_loss"].sort(),
    );
    expect(trainer.progressBarMetrics.train_loss_step).toBeDefined();
  });

  it("validates at valCheckInterval and every checkValEveryNEpoch epochs", async () => {
    const count = (options: TrainerOptions) => {
      const recorder = new RecordingCallback();
      const trainer = new Trainer(quiet({ numSanityValSteps: 0, callbacks: [recorder], ...options }));
      return trainer
        .fit(new ToyModule(), { trainDataloaders: loader(32, 8), valDataloaders: loader(8, 8) })
        .then(() => recorder.seen.filter((h) => h === "onValidationStart").length);
    };
    expect(await count({ maxEpochs: 2, valCheckInterval: 0.5 })).toBe(4);
    expect(await count({ maxEpochs: 4, checkValEveryNEpoch: 2 })).toBe(2);
    // 4 batches, every 3: after the third only; Lightning adds no validation at the epoch's end.
    expect(await count({ maxEpochs: 1, valCheckInterval: 3 })).toBe(1);
    expect(await count({ maxEpochs: 1, limitValBatches: 0 })).toBe(0);
  });

  it("stops at maxSteps, and runs fastDevRun batches once without logging", async () => {
    const a = new Trainer(quiet({ maxSteps: 5, numSanityValSteps: 0 }));
    await a.fit(new ToyModule(), { trainDataloaders: loader(64, 8) });
    expect(a.globalStep).toBe(5);
    const b = new Trainer({
      accelerator: "cpu",
      fastDevRun: 2,
      enableProgressBar: false,
      defaultRootDir: root(),
    });
    await b.fit(new ToyModule(), { trainDataloaders: loader(64, 8), valDataloaders: loader(16, 8) });
    expect([b.globalStep, b.currentEpoch, b.loggers.length, b.checkpointCallback]).toEqual([
      2,
      1,
      0,
      undefined,
    ]);
  });

  it("steps schedulers per step or per epoch, and ReduceLROnPlateau on a monitored metric", async () => {
    const epochModule = new ToyModule();
    epochModule.configure = (m) => {
      const optimizer = new SGD(m, { lr: 1 });
      return { optimizer, lrScheduler: new StepLR(optimizer, { stepSize: 1, gamma: 0.5 }) };
    };
    const t1 = new Trainer(quiet({ maxEpochs: 3, numSanityValSteps: 0 }));
    await t1.fit(epochModule, { trainDataloaders: loader(16, 8) });
    expect(t1.optimizers[0]!.paramGroups[0]!.lr).toBeCloseTo(0.125, 10);

    const stepModule = new ToyModule();
    stepModule.configure = (m) => {
      const optimizer = new SGD(m, { lr: 1 });
      return [
        [optimizer],
        [{ scheduler: new CosineAnnealingLR(optimizer, { tMax: 4 }), interval: "step" as const }],
      ];
    };
    const t2 = new Trainer(quiet({ maxEpochs: 1, numSanityValSteps: 0 }));
    await t2.fit(stepModule, { trainDataloaders: loader(32, 8) });
    expect(t2.optimizers[0]!.paramGroups[0]!.lr).toBeCloseTo(0, 10);

    const plateau = new ToyModule();
    plateau.configure = (m) => {
      const optimizer = new SGD(m, { lr: 1 });
      return {
        optimizer,
        lrScheduler: {
          scheduler: new ReduceLROnPlateau(optimizer, { patience: 0, mode: "max" }),
          monitor: "val_score",
        },
      };
    };
    plateau.validationStep = function (this: ToyModule) {
      this.log("val_score", 1);
    } as never;
    const t3 = new Trainer(quiet({ maxEpochs: 3, numSanityValSteps: 0 }));
    await t3.fit(plateau, { trainDataloaders: loader(16, 8), valDataloaders: loader(8, 8) });
    expect(t3.optimizers[0]!.paramGroups[0]!.lr).toBeCloseTo(0.01, 10);

    const missing = new ToyModule();
    missing.configure = (m) => {
      const optimizer = new SGD(m, { lr: 1 });
      return { optimizer, lrScheduler: { scheduler: new ReduceLROnPlateau(optimizer), monitor: "nope" } };
    };
    await expect(
      new Trainer(quiet({ maxEpochs: 1 })).fit(missing, { trainDataloaders: loader(16, 8) }),
    ).rejects.toThrow(/ReduceLROnPlateau conditioned on metric 'nope'/);
  });

  it("stops early when the monitored metric stops improving", async () => {
    const module = new ToyModule();
    let calls = 0;
    module.validationStep = function (this: ToyModule) {
      this.log("score", calls++ < 2 ? 1 - calls : 5);
    } as never;
    const early = new EarlyStopping({ monitor: "score", patience: 2 });
    const trainer = new Trainer(quiet({ maxEpochs: 20, numSanityValSteps: 0, callbacks: [early] }));
    await trainer.fit(module, { trainDataloaders: loader(16, 8), valDataloaders: loader(8, 8) });
    expect(trainer.currentEpoch).toBe(4);
    expect(early.reason).toMatch(/did not improve in the last 2 records/);
    await expect(
      new Trainer(
        quiet({ maxEpochs: 1, numSanityValSteps: 0, callbacks: [new EarlyStopping({ monitor: "absent" })] }),
      ).fit(new ToyModule(), {
        trainDataloaders: loader(16, 8),
        valDataloaders: loader(8, 8),
      }),
    ).rejects.toThrow(/EarlyStopping conditioned on metric 'absent'/);
  });

  it("keeps the top-k checkpoints by a monitored metric and the last one", async () => {
    const dir = root();
    const module = new ToyModule();
    const scores = [0.5, 0.2, 0.9, 0.1];
    let epoch = 0;
    module.validationStep = function (this: ToyModule) {
      this.log("metric", scores[epoch]!);
    } as never;
    module.onValidationEnd = () => {
      epoch += 1;
    };
    const ckpt = new ModelCheckpoint({
      dirpath: dir,
      monitor: "metric",
      saveTopK: 2,
      saveLast: true,
      filename: "{epoch}-{metric:.2f}",
    });
    const trainer = new Trainer(
      quiet({ maxEpochs: 4, numSanityValSteps: 0, enableCheckpointing: true, callbacks: [ckpt] }),
    );
    await trainer.fit(module, { trainDataloaders: loader(16, 8), valDataloaders: loader(8, 8) });
    expect(readdirSync(dir).sort()).toEqual([
      "epoch=1-metric=0.20.ckpt",
      "epoch=3-metric=0.10.ckpt",
      "last.ckpt",
    ]);
    expect(ckpt.bestModelPath).toBe(join(dir, "epoch=3-metric=0.10.ckpt"));
    expect(ckpt.bestModelScore).toBe(0.1);
  });

  it("names unknown flags and bad configurations", () => {
    expect(() => new Trainer({ max_epochs: 3 } as never)).toThrow(
      /unknown flag 'max_epochs' \(did you mean 'maxEpochs'\?\)/,
    );
    expect(() => new Trainer({ accumulateGradBatches: 0 })).toThrow(/accumulateGradBatches/);
    expect(() => new Trainer({ reloadDataloadersEveryNEpochs: 1 } as never)).toThrow(
      /a Lightning flag Fulmen does not implement yet/,
    );
    expect(() => new Trainer({ profiler: "advanced" } as never)).toThrow(
      /invalid profiler 'advanced'; it must be "simple" or null/,
    );
    expect(() => new Trainer({ valCheckInterval: 1.5 })).toThrow(/valCheckInterval/);
  });

  it("stops with a message naming the step when detectAnomaly sees a NaN loss", async () => {
    const module = new ToyModule();
    module.trainingStep = function (this: ToyModule, batch: Batch) {
      return tf.mul(
        nn.crossEntropy(this.forward(batch.x), batch.y),
        this.globalStep === 2 ? Number.NaN : 1,
      ) as tf.Scalar;
    } as never;
    await expect(
      new Trainer(quiet({ maxEpochs: 1, detectAnomaly: true })).fit(module, {
        trainDataloaders: loader(64, 8),
      }),
    ).rejects.toThrow(/the training loss is NaN at epoch 0, batch 2 \(global step 2\)/);
  });
});

describe("Trainer.validate / test / predict", () => {
  it("returns the reduced metrics and the predictions", async () => {
    const trainer = new Trainer(quiet());
    const module = new ToyModule();
    const [val] = await trainer.validate(module, { dataloaders: loader(16, 8) });
    expect(Object.keys(val!).sort()).toEqual(["val_acc", "val_loss"]);
    const [test] = await trainer.test(module, { dataloaders: loader(16, 8) });
    expect(test!.test_loss).toBeGreaterThan(0);
    const preds = await trainer.predict(module, { dataloaders: loader(16, 8) });
    expect(preds).toHaveLength(2);
    expect((preds[0] as tf.Tensor).shape).toEqual([8, 3]);
  });
});
