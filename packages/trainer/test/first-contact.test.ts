import { DataLoader, type Dataset, type Logger, tf } from "@fulmen/core";
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
      /unknown flag 'use_distributed_sampler' \(did you mean 'useDistributedSampler'\?\)/,
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
      [
        { valCheckInterval: -0.5 },
        /invalid valCheckInterval -0\.5; it must be a fraction of the epoch in \[0, 1\]/,
      ],
      [{ valCheckInterval: "00:00:10:00" as never }, /validation by elapsed time is not implemented/],
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
      [
        { logEveryNSteps: -1 },
        /invalid logEveryNSteps -1; it must be an integer >= 1, or 0 for no step logging/,
      ],
      [{ maxSteps: null as never }, /invalid maxSteps null/],
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
        { callbacks: [3] as never },
        /invalid callbacks an array of 1; it must be a Callback instance or an array/,
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
      // Lightning's 0.0 (validate after every batch) and log_every_n_steps=0 (no step logging).
      { valCheckInterval: 0 },
      { logEveryNSteps: 0 },
      // Lightning lower-cases the algorithm and takes one callback as well as a list.
      { gradientClipAlgorithm: "Value" as never },
      { callbacks: new (class Quiet extends Callback {})() },
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

describe("Lightning's null flags (a LightningCLI config writes them)", () => {
  it("mean the default for the Optional flags", () => {
    const trainer = new Trainer({
      precision: null,
      plugins: null,
      limitTrainBatches: null,
      limitValBatches: null,
      limitTestBatches: null,
      limitPredictBatches: null,
      valCheckInterval: null,
      numSanityValSteps: null,
      logEveryNSteps: null,
      enableCheckpointing: null,
      enableProgressBar: null,
      enableModelSummary: null,
      gradientClipAlgorithm: null,
      deterministic: null,
      defaultRootDir: null,
      callbacks: null,
      logger: false,
      maxTime: null,
    });
    const o = trainer.options;
    expect([o.precision, o.limitTrainBatches, o.limitValBatches, o.valCheckInterval]).toEqual([
      "32-true",
      1,
      1,
      1,
    ]);
    expect([o.numSanityValSteps, o.logEveryNSteps, o.gradientClipAlgorithm, o.deterministic]).toEqual([
      2,
      50,
      "norm",
      false,
    ]);
    expect([o.enableCheckpointing, o.enableProgressBar, o.enableModelSummary]).toEqual([true, true, true]);
    expect(o.defaultRootDir).toBe(process.cwd());
    expect(trainer.callbacks.map((c) => c.constructor.name).sort()).toEqual([
      "ModelCheckpoint",
      "ModelSummary",
      "ProgressBar",
    ]);
    expect(new Trainer({ logger: null, enableProgressBar: false }).loggers).toHaveLength(1);
  });

  it("give maxEpochs no limit when maxTime or a Timer bounds training, as Lightning's _parse_loop_limits", () => {
    expect(new Trainer({ logger: false }).options.maxEpochsResolved).toBe(1000);
    expect(new Trainer({ logger: false, maxTime: "00:00:01:00" }).options.maxEpochsResolved).toBe(-1);
    expect(new Trainer({ logger: false, maxSteps: 10 }).options.maxEpochsResolved).toBe(-1);
  });
});

describe("barebones", () => {
  it("refuses a flag that turns on what it turns off, as Lightning's ValueError", () => {
    expect(() => new Trainer({ barebones: true, enableCheckpointing: true })).toThrow(
      /barebones turns off enableCheckpointing, which is set; drop it or barebones/,
    );
    expect(() => new Trainer({ barebones: true, logEveryNSteps: 10, profiler: "simple" })).toThrow(
      /barebones turns off logEveryNSteps, profiler, which are set/,
    );
    const trainer = new Trainer({
      barebones: true,
      logger: false,
      enableProgressBar: null,
      numSanityValSteps: 0,
    });
    expect([trainer.options.logEveryNSteps, trainer.loggers.length]).toEqual([0, 0]);
  });
});

describe("the validation schedule (Lightning's _should_check_val_fx)", () => {
  const validations = async (options: TrainerOptions, batches = 10) => {
    const at: number[] = [];
    const module = new ToyModule();
    module.onValidationStart = function (this: ToyModule) {
      at.push(this.trainer!.globalStep);
    };
    await new Trainer(quiet({ maxEpochs: 1, ...options })).fit(module, {
      trainDataloaders: loader(batches * 8, 8),
      valDataloaders: loader(8, 8),
    });
    return at;
  };

  it("validates every int(n * fraction) batches, without an extra run at the epoch's end", async () => {
    expect(await validations({ valCheckInterval: 0.3 })).toEqual([3, 6, 9]);
    expect(await validations({ valCheckInterval: 0 }, 3)).toEqual([1, 2, 3]);
  });

  it("refuses a whole number of batches larger than the epoch, unless checkValEveryNEpoch is null", async () => {
    await expect(validations({ valCheckInterval: 12 })).rejects.toThrow(
      /valCheckInterval 12 must be at most the number of training batches \(10\)\. To disable validation set limitValBatches to 0; to validate every 12 batches across epochs set checkValEveryNEpoch to null/,
    );
    expect(await validations({ valCheckInterval: 12, checkValEveryNEpoch: null, maxEpochs: 3 })).toEqual([
      12, 24,
    ]);
  });

  it("validates at the batch where a stop is requested, before stopping", async () => {
    const at: number[] = [];
    const module = new ToyModule();
    module.onValidationStart = () => at.push(module.trainer!.globalStep);
    module.onTrainBatchEnd = () => {
      if (module.trainer!.globalStep === 4) module.trainer!.shouldStop = true;
    };
    await new Trainer(quiet({ maxEpochs: 1 })).fit(module, {
      trainDataloaders: loader(80, 8),
      valDataloaders: loader(8, 8),
    });
    expect(at).toEqual([4]);
  });
});

describe("step outputs and batches in the Trainer's hooks", () => {
  it("hands validationStep's and testStep's outputs to the batch-end hooks, then frees them", async () => {
    const seen: number[][] = [];
    class ReadsOutputs extends Callback {
      override onValidationBatchEnd(_t: Trainer, _m: LightningModule, outputs: unknown): void {
        seen.push(Array.from((outputs as { preds: tf.Tensor }).preds.dataSync()));
      }
      override onTestBatchEnd(_t: Trainer, _m: LightningModule, outputs: unknown): void {
        seen.push([(outputs as tf.Tensor).dataSync().length]);
      }
    }
    const module = new ToyModule();
    module.validationStep = function (this: ToyModule, batch: Batch) {
      return { preds: tf.argMax(this.forward(batch.x), 1) };
    } as never;
    module.testStep = function (this: ToyModule, batch: Batch) {
      return this.forward(batch.x);
    } as never;
    const trainer = new Trainer(quiet({ callbacks: [new ReadsOutputs()] }));
    await trainer.validate(module, { dataloaders: loader(16, 8) });
    const before = tf.memory().numTensors;
    await trainer.test(module, { dataloaders: loader(16, 8) });
    expect(seen.map((s) => s.length)).toEqual([8, 8, 1, 1]);
    expect(seen.slice(2)).toEqual([[24], [24]]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("refuses an async validationStep by name (its promise was ignored, and with it any error after an await)", async () => {
    const module = new ToyModule();
    module.validationStep = async function (this: ToyModule) {
      this.log("v", 1);
    } as never;
    await expect(new Trainer(quiet()).validate(module, { dataloaders: loader(8, 8) })).rejects.toThrow(
      /validationStep returned a Promise: steps run synchronously/,
    );
  });

  it("returns predictStep outputs that are tensors of the batch alive ([preds, y], Lightning's common form)", async () => {
    const module = new ToyModule();
    module.predictStep = function (this: ToyModule, batch: Batch) {
      return [tf.argMax(this.forward(batch.x), 1), batch.y];
    } as never;
    const outputs = (await new Trainer(quiet()).predict(module, {
      dataloaders: loader(16, 8),
    })) as tf.Tensor[][];
    expect(outputs).toHaveLength(2);
    for (const [preds, y] of outputs) {
      expect(preds!.isDisposed || y!.isDisposed).toBe(false);
      expect(y!.dataSync().length).toBe(8);
    }
    tf.dispose(outputs.flat());
  });

  it("leaves alone tensors the dataset holds when a collateFn hands them out (pre-batched data)", async () => {
    const stored = Array.from({ length: 2 }, (_, i) => ({
      x: tf.randomNormal([8, 4], 0, 1, "float32", i) as tf.Tensor2D,
      y: tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], "int32"),
    }));
    const ready: Dataset<Batch> = { length: 2, get: (i) => stored[i]! };
    const data = new DataLoader(ready, { batchSize: 1, collateFn: (items: Batch[]) => items[0]! });
    await new Trainer(quiet({ maxEpochs: 2 })).fit(new ToyModule(), {
      trainDataloaders: data,
      valDataloaders: data,
    });
    expect(stored.every((b) => !b.x.isDisposed && !b.y.isDisposed)).toBe(true);
    for (const b of stored) tf.dispose([b.x, b.y]);
  });
});

describe("Lightning's flags for features Fulmen leaves out", () => {
  it("accept their defaults (a Lightning config carries them) and refuse other values as not implemented", () => {
    const defaults = {
      reloadDataloadersEveryNEpochs: 0,
      syncBatchnorm: false,
      benchmark: null,
      inferenceMode: true,
      useDistributedSampler: true,
      logger: false,
    } as const;
    expect(() => new Trainer(defaults)).not.toThrow();
    expect(() => new Trainer({ inferenceMode: false, benchmark: false, logger: false })).not.toThrow();
    expect(() => new Trainer({ syncBatchnorm: true, reloadDataloadersEveryNEpochs: 2 } as never)).toThrow(
      /Trainer: reloadDataloadersEveryNEpochs 2, syncBatchnorm true: these are Lightning flags Fulmen does not implement yet; leave them out or at Lightning's default \(reloadDataloadersEveryNEpochs: 0; syncBatchnorm: false\)/,
    );
    expect(() => new Trainer({ benchmark: true } as never)).toThrow(/benchmark true: a Lightning flag/);
  });

  it("useDistributedSampler false leaves each rank's loader as given", async () => {
    const { SingleDeviceStrategy } = await import("@fulmen/fabric");
    class SecondOfTwo extends SingleDeviceStrategy {
      override get worldSize(): number {
        return 2;
      }
      override get globalRank(): number {
        return 1;
      }
    }
    const batches = async (useDistributedSampler: boolean) => {
      let seen = 0;
      const module = new ToyModule();
      module.onTrainBatchStart = () => {
        seen += 1;
      };
      const options = quiet({
        maxEpochs: 1,
        devices: 2,
        strategy: new SecondOfTwo() as never,
        useDistributedSampler,
      });
      await new Trainer(options).fit(module, { trainDataloaders: loader(32, 8) });
      return seen;
    };
    // 4 batches of 8: rank 1 of 2 reads half of them through a DistributedSampler, all of them without one.
    expect([await batches(true), await batches(false)]).toEqual([2, 4]);
  });
});
