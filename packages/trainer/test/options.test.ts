import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EarlyStopping, ModelCheckpoint, Trainer } from "../src/index";
import { loader, quiet, RecordingCallback, ToyModule, tempRoot } from "./helpers/toy";

async function fitWithScores(scores: number[], early: EarlyStopping, maxEpochs = 10): Promise<Trainer> {
  const module = new ToyModule();
  let epoch = 0;
  module.validationStep = function (this: ToyModule) {
    this.log("m", scores[Math.min(epoch, scores.length - 1)]!);
  } as never;
  module.onValidationEnd = () => {
    epoch += 1;
  };
  const trainer = new Trainer(quiet({ maxEpochs, callbacks: [early] }));
  await trainer.fit(module, { trainDataloaders: loader(8, 8), valDataloaders: loader(8, 8) });
  return trainer;
}

describe("EarlyStopping options", () => {
  it("minDelta: improvements smaller than it do not count", async () => {
    const t = await fitWithScores(
      [1, 0.99, 0.98, 0.97, 0.5],
      new EarlyStopping({ monitor: "m", patience: 2, minDelta: 0.05 }),
    );
    expect(t.currentEpoch).toBe(3);
  });

  it("stoppingThreshold, divergenceThreshold and checkFinite stop at once", async () => {
    expect(
      (await fitWithScores([1, 0.5, 0.05, 0.01], new EarlyStopping({ monitor: "m", stoppingThreshold: 0.1 })))
        .currentEpoch,
    ).toBe(3);
    expect(
      (await fitWithScores([1, 5, 50], new EarlyStopping({ monitor: "m", divergenceThreshold: 10 })))
        .currentEpoch,
    ).toBe(3);
    expect((await fitWithScores([1, Number.NaN], new EarlyStopping({ monitor: "m" }))).currentEpoch).toBe(2);
    expect(
      (await fitWithScores([1, 2, 3, 4, 5], new EarlyStopping({ monitor: "m", mode: "max", patience: 1 }), 5))
        .currentEpoch,
    ).toBe(5);
  });
});

describe("ModelCheckpoint options", () => {
  async function run(options: ConstructorParameters<typeof ModelCheckpoint>[0], epochs = 4) {
    const dir = tempRoot();
    const trainer = new Trainer(
      quiet({
        maxEpochs: epochs,
        enableCheckpointing: true,
        callbacks: [new ModelCheckpoint({ dirpath: dir, ...options })],
      }),
    );
    await trainer.fit(new ToyModule(), { trainDataloaders: loader(16, 8) });
    return readdirSync(dir).sort();
  }

  it("keeps only the latest without a monitor, all with saveTopK -1 and a monitor, none with 0", async () => {
    expect(await run({})).toEqual(["epoch=3-step=8.ckpt"]);
    expect(await run({ monitor: "train_loss", saveTopK: -1 })).toHaveLength(4);
    expect(await run({ saveTopK: 0, saveLast: true })).toEqual(["last.ckpt"]);
  });

  it("saves every n epochs or every n training steps", async () => {
    expect(await run({ everyNEpochs: 2, monitor: "train_loss", saveTopK: -1 })).toEqual([
      "epoch=1-step=4.ckpt",
      "epoch=3-step=8.ckpt",
    ]);
    expect(await run({ everyNTrainSteps: 3, monitor: "train_loss_step", saveTopK: -1 }, 2)).toEqual([
      "epoch=1-step=3.ckpt",
    ]);
  });

  it("is refused when checkpointing is off", () => {
    expect(() => new Trainer({ enableCheckpointing: false, callbacks: [new ModelCheckpoint()] })).toThrow(
      /enableCheckpointing is false/,
    );
  });
});

describe("Trainer flags", () => {
  it("barebones turns off logging, checkpoints, progress bar and summary", () => {
    const trainer = new Trainer({ barebones: true, defaultRootDir: tempRoot() });
    expect(trainer.loggers).toEqual([]);
    expect(trainer.callbacks.map((c) => c.constructor.name)).toEqual([]);
    expect(trainer.options.numSanityValSteps).toBe(0);
  });

  it("runs numSanityValSteps validation batches before training (default 2) and limits test and predict", async () => {
    const recorder = new RecordingCallback();
    const trainer = new Trainer({
      ...quiet({ maxEpochs: 1, callbacks: [recorder] }),
      numSanityValSteps: undefined,
    });
    await trainer.fit(new ToyModule(), { trainDataloaders: loader(8, 8), valDataloaders: loader(32, 8) });
    const sanity = recorder.seen.slice(
      recorder.seen.indexOf("onSanityCheckStart"),
      recorder.seen.indexOf("onSanityCheckEnd"),
    );
    expect(sanity.filter((h) => h === "onValidationBatchStart")).toHaveLength(2);
    const limited = new Trainer(quiet({ limitTestBatches: 0.5, limitPredictBatches: 2 }));
    const preds = await limited.predict(new ToyModule(), { dataloaders: loader(64, 8) });
    expect(preds).toHaveLength(2);
  });

  it("checkValEveryNEpoch null validates by batch count alone, across epochs (Lightning)", async () => {
    const validatedAt: number[] = [];
    const module = new ToyModule();
    module.onValidationStart = function (this: ToyModule) {
      validatedAt.push(this.trainer!.globalStep);
    };
    // 3 batches an epoch, every 2 batches of the run: after steps 2, 4 and 6 (the second epoch's 1st and 3rd).
    const trainer = new Trainer(quiet({ maxEpochs: 2, checkValEveryNEpoch: null, valCheckInterval: 2 }));
    await trainer.fit(module, { trainDataloaders: loader(24, 8), valDataloaders: loader(8, 8) });
    expect(validatedAt).toEqual([2, 4, 6]);
  });
});
