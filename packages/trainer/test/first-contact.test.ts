import type { Logger } from "@fulmen/core";
import { tf } from "@fulmen/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Callback, type LightningModule, Trainer, type TrainerOptions } from "../src/index";
import { type Batch, loader, quiet, ToyModule } from "./helpers/toy";

/** A logger that keeps every row it is given. */
class RecordingLogger implements Logger {
  readonly name = "recording";
  readonly version = 0;
  readonly logDir = undefined;
  readonly rows: Array<{ step: number | undefined; metrics: Record<string, number> }> = [];
  logMetrics(metrics: Record<string, number>, step?: number): void {
    this.rows.push({ step, metrics: { ...metrics } });
  }
  logHyperparams(): void {}
  save(): void {}
  finalize(): void {}
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("Trainer flags", () => {
  it("suggest the camelCase spelling of Lightning's snake_case names", () => {
    expect(() => new Trainer({ max_epochs: 3 } as never)).toThrow(
      /Trainer: unknown flag 'max_epochs' \(did you mean 'maxEpochs'\?\)\. Valid flags: /,
    );
    expect(() => new Trainer({ check_val_every_n_epoch: 2, gpus: 1 } as never)).toThrow(
      /unknown flags 'check_val_every_n_epoch' \(did you mean 'checkValEveryNEpoch'\?\), 'gpus'\./,
    );
    expect(() => new Trainer({ use_distributed_sampler: false } as never)).toThrow(
      /use_distributed_sampler is a Lightning flag Fulmen does not implement yet/,
    );
  });

  it("are refused out of range, naming the flag, the value and the valid range", () => {
    const refused: Array<[TrainerOptions, RegExp]> = [
      [{ maxEpochs: -5 }, /invalid maxEpochs -5; it must be an integer >= 0, -1 for no limit, or null/],
      [{ maxEpochs: 2.5 }, /invalid maxEpochs 2\.5/],
      [{ minEpochs: -1 }, /invalid minEpochs -1; it must be an integer >= 0 or null/],
      [{ maxSteps: -2 }, /invalid maxSteps -2; it must be an integer >= 0 or -1 for no limit/],
      [{ minSteps: 1.5 }, /invalid minSteps 1\.5/],
      [{ accumulateGradBatches: 0 }, /invalid accumulateGradBatches 0; it must be an integer >= 1/],
      [{ gradientClipVal: -1 }, /invalid gradientClipVal -1; it must be a number >= 0 or null/],
      [
        { gradientClipAlgorithm: "l2" as never },
        /invalid gradientClipAlgorithm 'l2'; it must be "norm" or "value"/,
      ],
      [{ valCheckInterval: 0 }, /invalid valCheckInterval 0; it must be a fraction of the epoch in \(0, 1\]/],
      [{ valCheckInterval: 2.5 }, /invalid valCheckInterval 2\.5/],
      [{ checkValEveryNEpoch: 0 }, /invalid checkValEveryNEpoch 0; it must be an integer >= 1 or null/],
      [
        { limitTrainBatches: 1.5 },
        /invalid limitTrainBatches 1\.5; it must be a fraction in \[0, 1\] or a whole/,
      ],
      [{ limitValBatches: -0.1 }, /invalid limitValBatches -0\.1/],
      [{ limitTestBatches: Number.NaN }, /invalid limitTestBatches NaN/],
      [{ overfitBatches: 2.5 }, /invalid overfitBatches 2\.5/],
      [{ fastDevRun: -1 }, /invalid fastDevRun -1; it must be true, false or a whole number of batches >= 0/],
      [
        { numSanityValSteps: -2 },
        /invalid numSanityValSteps -2; it must be an integer >= 0, or -1 for every/,
      ],
      [{ logEveryNSteps: 0 }, /invalid logEveryNSteps 0; it must be an integer >= 1/],
      [{ devices: 0 }, /invalid devices 0; it must be a positive integer, -1 \(all\) or "auto"/],
      [{ numNodes: 0 }, /invalid numNodes 0; it must be a positive integer/],
      [
        { enableProgressBar: "false" as never },
        /invalid enableProgressBar 'false'; it must be true or false/,
      ],
      [{ deterministic: "yes" as never }, /invalid deterministic 'yes'; it must be true, false or "warn"/],
      [{ maxTime: { hour: 1 } as never }, /Trainer maxTime: unknown option 'hour'/],
      [{ maxTime: { minutes: -3 } }, /invalid maxTime\.minutes -3; it must be a number >= 0/],
      [{ maxTime: "1:00" }, /invalid maxTime '1:00'; it must look like "DD:HH:MM:SS"/],
      [{ defaultRootDir: 3 as never }, /invalid defaultRootDir 3; it must be a directory path/],
      [{ logger: {} as never }, /invalid logger an object; it must be true, false, a Logger/],
      [
        { callbacks: new (class Quiet extends Callback {})() as never },
        /invalid callbacks a Quiet; it must be an array/,
      ],
    ];
    for (const [options, message] of refused)
      expect(() => new Trainer(options), message.source).toThrow(message);
    // Lightning's special values are accepted.
    for (const options of [
      { maxEpochs: -1 },
      { maxEpochs: null },
      { maxSteps: -1 },
      { numSanityValSteps: -1 },
      { limitTrainBatches: 0 },
      { limitValBatches: 10 },
      { valCheckInterval: 0.25 },
      { valCheckInterval: 3 },
      { checkValEveryNEpoch: null },
      { devices: -1 },
      { gradientClipVal: 0 },
      { maxTime: { hours: 1.5 } },
    ] as TrainerOptions[])
      expect(() => new Trainer({ ...options, logger: false })).not.toThrow();
  });

  it("refuse a fraction of the batches that leaves none, as Lightning does", async () => {
    const trainer = new Trainer(quiet({ maxEpochs: 1, limitTrainBatches: 0.1 }));
    await expect(trainer.fit(new ToyModule(), { trainDataloaders: loader(16, 8) })).rejects.toThrow(
      /limitTrainBatches 0\.1 of 2 batches is less than one batch; increase limitTrainBatches to at least 0\.5/,
    );
  });

  it("numSanityValSteps -1 checks every validation batch", async () => {
    const module = new ToyModule();
    let sanityBatches = 0;
    class CountsSanityBatches extends Callback {
      override onValidationBatchStart(trainer: Trainer): void {
        if (trainer.state.stage === "sanity_check") sanityBatches += 1;
      }
    }
    const callbacks = [new CountsSanityBatches()];
    await new Trainer(quiet({ maxEpochs: 1, numSanityValSteps: -1, callbacks })).fit(module, {
      trainDataloaders: loader(16, 8),
      valDataloaders: loader(40, 8),
    });
    expect(sanityBatches).toBe(5);
  });
});

describe("validation data without a validationStep", () => {
  it("warns once, as Lightning does, and skips the validation loop", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const module = new ToyModule();
    (module as { validationStep?: unknown }).validationStep = undefined;
    const validations: number[] = [];
    module.onValidationStart = () => validations.push(1);
    await new Trainer(quiet({ maxEpochs: 3, numSanityValSteps: 2 })).fit(module, {
      trainDataloaders: loader(16, 8),
      valDataloaders: loader(16, 8),
    });
    const messages = warn.mock.calls.map((c) => String(c[0]));
    expect(messages.filter((m) => m.includes("validationStep"))).toEqual([
      "Warning: You passed in a `valDataloaders` but ToyModule has no `validationStep`. Skipping val loop.",
    ]);
    expect(validations).toEqual([]);
    warn.mockClear();
    await new Trainer(quiet({ maxEpochs: 1 })).fit(module, { trainDataloaders: loader(16, 8) });
    expect(warn).not.toHaveBeenCalled();
  });
});

describe("onStep metrics of validationStep", () => {
  it("reach the loggers as name_step rows, counted across validation runs, and name_epoch at the end", async () => {
    const logger = new RecordingLogger();
    const module = new ToyModule();
    module.validationStep = function (this: ToyModule, batch: Batch) {
      this.log("val_count", batch.x.shape[0], { onStep: true, onEpoch: true });
      this.log("val_only_step", 1, { onStep: true, onEpoch: false });
    } as never;
    const trainer = new Trainer(quiet({ maxEpochs: 2, logger, numSanityValSteps: 1, logEveryNSteps: 100 }));
    await trainer.fit(module, { trainDataloaders: loader(16, 8), valDataloaders: loader(24, 8) });
    const stepRows = logger.rows.filter((r) => "val_count_step" in r.metrics);
    // 3 validation batches a run, 2 runs; the sanity check's batch is not logged.
    expect(stepRows.map((r) => r.step)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(stepRows.map((r) => r.metrics)).toEqual(
      Array.from({ length: 6 }, () => ({ val_count_step: 8, val_only_step: 1 })),
    );
    const epochRows = logger.rows.filter((r) => "val_count_epoch" in r.metrics);
    expect(epochRows.map((r) => [r.metrics.val_count_epoch, r.metrics.epoch])).toEqual([
      [8, 0],
      [8, 1],
    ]);
    // In evaluation, callbacks see epoch values only (Lightning): the forked name holds the epoch's.
    expect(trainer.callbackMetrics.val_count).toBe(8);
    expect("val_count_step" in trainer.callbackMetrics).toBe(false);
    expect("val_only_step" in trainer.callbackMetrics).toBe(false);
  });

  it("start counting again in trainer.validate", async () => {
    const logger = new RecordingLogger();
    const module = new ToyModule();
    module.validationStep = function (this: ToyModule) {
      this.log("v", 2, { onStep: true });
    } as never;
    const trainer = new Trainer(quiet({ logger }));
    await trainer.validate(module, { dataloaders: loader(16, 8) });
    await trainer.validate(module, { dataloaders: loader(16, 8) });
    expect(logger.rows.filter((r) => "v_step" in r.metrics).map((r) => r.step)).toEqual([0, 1, 0, 1]);
  });
});

describe("the Trainer on Fabric's releasing data loader", () => {
  it("hands hooks live batches and leaves no tensor behind, however many epochs", async () => {
    class ReadsBatches extends Callback {
      reads = 0;
      override onTrainBatchEnd(_t: Trainer, _m: LightningModule, _o: unknown, batch: unknown): void {
        this.reads += (batch as Batch).x.dataSync().length > 0 ? 1 : 0;
      }
      override onValidationBatchEnd(_t: Trainer, _m: LightningModule, _o: unknown, batch: unknown): void {
        this.reads += (batch as Batch).y.dataSync().length > 0 ? 1 : 0;
      }
    }
    const growth = async (maxEpochs: number) => {
      const reader = new ReadsBatches();
      const module = new ToyModule();
      const before = tf.memory().numTensors;
      await new Trainer(quiet({ maxEpochs, callbacks: [reader] })).fit(module, {
        trainDataloaders: loader(32, 8),
        valDataloaders: loader(16, 8),
      });
      const after = tf.memory().numTensors;
      module.dispose();
      return { grown: after - before, reads: reader.reads };
    };
    const one = await growth(1);
    const three = await growth(3);
    expect([one.reads, three.reads]).toEqual([6, 18]);
    expect(three.grown).toBe(one.grown);
  });
});
