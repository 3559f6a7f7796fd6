import { readFileSync } from "node:fs";
import { SGD, StepLR } from "@fulmen/core";
import { CSVLogger } from "@fulmen/fabric";
import { describe, expect, it } from "vitest";
import { GradientAccumulationScheduler, LearningRateMonitor, Timer, Trainer } from "../src/index";
import { loader, quiet, RecordingCallback, ToyModule, tempRoot } from "./helpers/toy";

const root = () => tempRoot();

describe("LearningRateMonitor", () => {
  it("logs the learning rate at each epoch start for epoch schedulers", async () => {
    const csv = new CSVLogger({ rootDir: root() });
    const module = new ToyModule();
    module.configure = (m) => {
      const optimizer = new SGD(m, { lr: 1 });
      return { optimizer, lrScheduler: new StepLR(optimizer, { stepSize: 1, gamma: 0.5 }) };
    };
    const trainer = new Trainer(quiet({ maxEpochs: 3, logger: csv, callbacks: [new LearningRateMonitor()] }));
    await trainer.fit(module, { trainDataloaders: loader(16, 8) });
    const lines = readFileSync(csv.metricsFile, "utf8").trim().split("\n");
    const col = lines[0]!.split(",").indexOf("lr-SGD");
    expect(
      lines
        .slice(1)
        .map((l) => l.split(",")[col])
        .filter((v) => v !== ""),
    ).toEqual(["1", "0.5", "0.25"]);
  });

  it("refuses to run without a logger", async () => {
    await expect(
      new Trainer(quiet({ maxEpochs: 1, callbacks: [new LearningRateMonitor()] })).fit(new ToyModule(), {
        trainDataloaders: loader(8, 8),
      }),
    ).rejects.toThrow(/LearningRateMonitor callback with a Trainer that has no logger/);
  });
});

describe("Timer", () => {
  it("stops training after its duration and reports elapsed time", async () => {
    const timer = new Timer({ duration: { seconds: 0.15 } });
    const module = new ToyModule();
    const step = module.trainingStep.bind(module);
    module.trainingStep = ((b: never) => {
      const until = Date.now() + 20;
      while (Date.now() < until) {
        // a slow step
      }
      return step(b);
    }) as never;
    const trainer = new Trainer(quiet({ maxEpochs: 50, callbacks: [timer] }));
    await trainer.fit(module, { trainDataloaders: loader(64, 8) });
    expect(trainer.globalStep).toBeLessThan(20);
    expect(timer.timeElapsed("train")).toBeGreaterThanOrEqual(0.15);
    expect(timer.timeRemaining()!).toBeLessThanOrEqual(0);
  });
});

describe("GradientAccumulationScheduler", () => {
  it("changes the accumulation factor by epoch", async () => {
    const recorder = new RecordingCallback();
    const trainer = new Trainer(
      quiet({ maxEpochs: 3, callbacks: [new GradientAccumulationScheduler({ 1: 2, 2: 4 }), recorder] }),
    );
    await trainer.fit(new ToyModule(), { trainDataloaders: loader(32, 8) });
    // 4 batches per epoch: 4 steps, then 2, then 1.
    expect(trainer.globalStep).toBe(7);
    expect(() => new GradientAccumulationScheduler({ 1: 0 })).toThrow(/factors must be integers >= 1/);
  });
});
