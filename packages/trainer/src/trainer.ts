import {
  type DataLoader,
  DataLoader as DataLoaderClass,
  FulmenError,
  type Logger,
  type Optimizer,
  type Strategy,
  tf,
} from "@fulmen/core";
import { Fabric, TensorBoardLogger } from "@fulmen/fabric";
import type { Callback, Stage } from "./callbacks/callback";
import { ModelCheckpoint } from "./callbacks/model-checkpoint";
import { ModelSummary } from "./callbacks/model-summary";
import { ProgressBar } from "./callbacks/progress-bar";
import { resolveCkptPath, restoreCheckpoint, saveCheckpoint } from "./checkpointing/checkpoint-connector";
import type { LightningDataModule } from "./datamodule";
import { callHook } from "./hooks";
import type { LightningModule, LogOptions } from "./lightning-module";
import { LoggerConnector } from "./logging/logger-connector";
import { runEvaluationLoop } from "./loops/evaluation-loop";
import { FitLoop } from "./loops/fit-loop";
import { runPredictLoop } from "./loops/predict-loop";
import { stepScheduler } from "./loops/scheduler-stepping";
import { type NormalizedSchedulerConfig, normalizeOptimizerConfig } from "./optimizer-config";
import { SimpleProfiler } from "./profiler/simple-profiler";
import {
  limitBatches,
  type ResolvedTrainerOptions,
  resolveTrainerOptions,
  type TrainerOptions,
} from "./trainer-options";

/** Options of {@link Trainer.fit}. */
export interface FitOptions {
  /** The training data; when absent, the datamodule's `trainDataloader()` (one of them is required). */
  trainDataloaders?: DataLoader<unknown, unknown>;
  /** The validation data; when absent, the datamodule's `valDataloader()`, else fit does not validate. */
  valDataloaders?: DataLoader<unknown, unknown>;
  /** A datamodule providing the loaders not passed here; its `prepareData` and `setup("fit")` are called. */
  datamodule?: LightningDataModule;
  /** Resume from a checkpoint: a path, "last" or "best" (from the ModelCheckpoint callback). */
  ckptPath?: string | null;
}

/** Options of {@link Trainer.validate}, {@link Trainer.test} and {@link Trainer.predict}. */
export interface EvaluateOptions {
  /**
   * The data to run on; when absent, the datamodule's `valDataloader()`, `testDataloader()` or
   * `predictDataloader()` for the stage (one of them is required).
   */
  dataloaders?: DataLoader<unknown, unknown>;
  /** A datamodule providing the loader when none is passed; its `prepareData` and `setup(stage)` are run. */
  datamodule?: LightningDataModule;
  /** Load these weights first: a path, "last" or "best". */
  ckptPath?: string | null;
}

/** What the Trainer is doing. */
export interface TrainerState {
  /** The entry point running or last run (`"fit"`, `"validate"`, `"test"`, `"predict"`); null before any. */
  fn: Stage | null;
  /**
   * `"initializing"` until the first entry point starts, `"running"` during one, `"finished"` after it ends,
   * `"interrupted"` after it failed with an error.
   */
  status: "initializing" | "running" | "finished" | "interrupted";
  /** The loop running now (`"sanity_check"` for the sanity check's validation); null between loops. */
  stage: "train" | "sanity_check" | "validate" | "test" | "predict" | null;
}

/**
 * Lightning's Trainer: runs a LightningModule's training, validation, test and prediction loops with Lightning's
 * flags, hooks, logging and checkpoints, on top of Fabric (accelerator, precision and strategy come from it).
 */
export class Trainer {
  /** The flags given to the constructor, checked and with every default filled in. */
  readonly options: ResolvedTrainerOptions;
  /** The Fabric that runs the loops (created on the first fit/validate/test/predict). */
  fabric: Fabric | null = null;
  /**
   * The callbacks in the order they are called: those given, then the defaults the flags add when none of
   * that kind was given (ModelCheckpoint, ModelSummary, the progress bar).
   */
  readonly callbacks: Callback[];
  /** The loggers metrics go to (empty with `logger: false`); `logger` is the first. */
  readonly loggers: Logger[];
  /** The optimizers from the module's `configureOptimizers`, set up by Fabric; empty until `fit`. */
  optimizers: Optimizer[] = [];
  /** The schedulers from `configureOptimizers`, with every option filled in; empty until `fit`. */
  lrSchedulerConfigs: NormalizedSchedulerConfig[] = [];
  /** The current training epoch, counted from 0; it goes up by one as each epoch ends. */
  currentEpoch = 0;
  /** Optimizer steps taken. */
  globalStep = 0;
  /** Set by a callback (EarlyStopping) or by you to end training after the current step. */
  shouldStop = false;
  /** What the Trainer is doing: the entry point, its status and the loop running. */
  state: TrainerState = { fn: null, status: "initializing", stage: null };
  /** Training batches per epoch, as limited. */
  numTrainingBatches = 0;
  /** Validation batches per run, as limited. */
  numValBatches = 0;
  /** The profiler when `profiler: "simple"` is set. */
  readonly profiler: SimpleProfiler | null;
  /** Where `this.log` calls and the loggers meet (Lightning's logger connector); the loops log through it. */
  readonly loggerConnector: LoggerConnector;
  /** The training loop (Lightning's `trainer.fitLoop`): its progress is what a checkpoint resumes from. */
  readonly fitLoop = new FitLoop(this);
  private module: LightningModule | null = null;
  private currentDatamodule: LightningDataModule | null = null;

  constructor(options: TrainerOptions = {}) {
    this.options = resolveTrainerOptions(options);
    const o = this.options;
    this.profiler = o.profiler === "simple" ? new SimpleProfiler() : null;
    const loggers =
      o.logger === true
        ? [new TensorBoardLogger({ rootDir: o.defaultRootDir })]
        : o.logger === false
          ? []
          : o.logger;
    this.loggers = Array.isArray(loggers) ? loggers : [loggers];
    this.loggerConnector = new LoggerConnector(this.loggers, () => this.isGlobalZero);
    this.callbacks = [...o.callbacks];
    const has = (name: string) => this.callbacks.some((c) => c.constructor.name === name);
    if (o.enableCheckpointing && !has("ModelCheckpoint")) this.callbacks.push(new ModelCheckpoint());
    if (!o.enableCheckpointing && has("ModelCheckpoint")) {
      throw new FulmenError(
        "Trainer: a ModelCheckpoint callback was given but enableCheckpointing is false.",
      );
    }
    if (o.enableModelSummary && !has("ModelSummary")) this.callbacks.push(new ModelSummary());
    if (o.enableProgressBar && !has("ProgressBar")) this.callbacks.push(new ProgressBar());
  }

  /** The first logger, if any. */
  get logger(): Logger | undefined {
    return this.loggers[0];
  }

  /** Where logs go: the first logger's folder, else the default root. */
  get logDir(): string {
    return this.logger?.logDir ?? this.options.defaultRootDir;
  }

  /** The latest value of every metric, as callbacks see them. */
  get callbackMetrics(): Record<string, number> {
    return this.loggerConnector.callbackMetrics;
  }

  /** The metrics shown in the progress bar (and the running training loss as `loss`). */
  get progressBarMetrics(): Record<string, number> {
    return this.loggerConnector.progressBarMetrics;
  }

  /** Every metric the loggers received last, by name. */
  get loggedMetrics(): Record<string, number> {
    return this.loggerConnector.loggedMetrics;
  }

  /** The first ModelCheckpoint callback. */
  get checkpointCallback(): ModelCheckpoint | undefined {
    return this.callbacks.find((c): c is ModelCheckpoint => c instanceof ModelCheckpoint);
  }

  /** The module being run. */
  get lightningModule(): LightningModule {
    if (this.module === null)
      throw new FulmenError("The Trainer has no module yet; call fit/validate/test/predict.");
    return this.module;
  }

  /** The datamodule of the running stage, if one was given. */
  get datamodule(): LightningDataModule | null {
    return this.currentDatamodule;
  }

  /** Whether this process writes logs and checkpoints (rank 0). */
  get isGlobalZero(): boolean {
    return this.fabric?.isGlobalZero ?? true;
  }

  /**
   * Training batches between validations (Lightning's `val_check_batch`): a whole-number `valCheckInterval` itself,
   * else that fraction of the epoch's batches, at least 1.
   */
  get valCheckBatch(): number {
    const interval = this.options.valCheckInterval;
    if (interval > 1) return interval;
    return Math.max(1, Math.floor(this.numTrainingBatches * interval));
  }

  /** How Fabric sets up the Trainer's loaders (`useDistributedSampler`). */
  private get loaderOptions(): { useDistributedSampler: boolean } {
    return { useDistributedSampler: this.options.useDistributedSampler };
  }

  /**
   * A whole number of batches between validations must fit in an epoch unless validation counts batches across
   * epochs (`checkValEveryNEpoch: null`): Lightning's ValueError, rather than an epoch that never validates.
   */
  private checkValCheckInterval(): void {
    const { valCheckInterval, checkValEveryNEpoch } = this.options;
    const batches = this.numTrainingBatches;
    if (valCheckInterval > 1 && batches > 0 && valCheckInterval > batches && checkValEveryNEpoch !== null)
      throw new FulmenError(
        `Trainer: valCheckInterval ${valCheckInterval} must be at most the number of training batches (${batches}). To disable validation set limitValBatches to 0; to validate every ${valCheckInterval} batches across epochs set checkValEveryNEpoch to null.`,
      );
  }

  private async ensureFabric(): Promise<Fabric> {
    if (this.fabric !== null) return this.fabric;
    const o = this.options;
    this.fabric = new Fabric({
      accelerator: o.accelerator,
      strategy: o.strategy,
      devices: o.devices,
      numNodes: o.numNodes,
      precision: o.precision,
      plugins: o.plugins,
      callbacks: [{ onAfterOptimizerStep: () => this.onOptimizerStepped() }],
    });
    await this.fabric.launch();
    this.checkDeterminism(this.fabric);
    return this.fabric;
  }

  /** `deterministic`: the accelerator must promise bit-reproducible kernels (or, with "warn", we say it does not). */
  private checkDeterminism(fabric: Fabric): void {
    const wanted = this.options.deterministic;
    const accelerator = fabric.accelerator;
    if (wanted === false || accelerator.deterministic === true) return;
    const message = `deterministic: the "${accelerator.name}" accelerator does not guarantee bit-reproducible kernels, so runs may differ in the last bits.`;
    if (wanted === "warn") console.warn(`Warning: ${message}`);
    else
      throw new FulmenError(
        `${message} Use an accelerator that does (cpu, wasm), or set deterministic: "warn" or false.`,
      );
  }

  /** Called by Fabric after every optimizer step (automatic or manual). */
  private onOptimizerStepped(): void {
    this.globalStep += 1;
    for (const config of this.lrSchedulerConfigs) {
      if (config.interval === "step" && this.globalStep % config.frequency === 0)
        stepScheduler(config, this.callbackMetrics);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Logging and collectives

  /** Records a `this.log` call from the module. */
  recordMetric(name: string, value: number | tf.Tensor, options: LogOptions): void {
    if (this.state.stage === "predict") throw new FulmenError("this.log cannot be used while predicting.");
    const synced =
      options.syncDist === true && this.worldSize > 1 ? this.syncAcrossRanks(value, options) : value;
    this.loggerConnector.record(name, synced, options);
  }

  /** `this.log(..., { syncDist: true })`: every rank logs the value reduced across ranks (by `reduceFx`). */
  private syncAcrossRanks(value: number | tf.Tensor, options: LogOptions): number {
    const op =
      options.reduceFx === "sum" || options.reduceFx === "max" || options.reduceFx === "min"
        ? options.reduceFx
        : "mean";
    return tf.tidy(() => {
      const local = typeof value === "number" ? tf.scalar(value) : tf.cast(tf.reshape(value, []), "float32");
      return this.fabric!.allReduce(local, { reduceOp: op }).dataSync()[0]!;
    });
  }

  /** The strategy (Lightning's `trainer.strategy`): collectives across ranks (`allReduce`, `broadcast`, …). */
  get strategy(): Strategy {
    if (this.fabric === null) throw new FulmenError("trainer.strategy exists once the Trainer has run.");
    return this.fabric.strategy;
  }

  /** The number of processes of the run. */
  get worldSize(): number {
    return this.fabric?.worldSize ?? 1;
  }

  /** This process's rank in the run. */
  get globalRank(): number {
    return this.fabric?.globalRank ?? 0;
  }

  /**
   * Rank 0's `value` on every rank (JSON-serialisable values), so that callbacks make the same decisions on
   * every rank; the value itself with one process.
   */
  broadcastFromZero<T>(value: T): T {
    return this.worldSize > 1 ? this.fabric!.broadcast(value, 0) : value;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Entry points

  /** Trains the module (Lightning's `trainer.fit`). */
  async fit(module: LightningModule, options: FitOptions = {}): Promise<void> {
    const fabric = await this.begin("fit", module, options.datamodule);
    try {
      const train = options.trainDataloaders ?? this.datamodule?.trainDataloader?.();
      if (train === undefined)
        throw new FulmenError(
          "trainer.fit needs training data: pass trainDataloaders or a datamodule with trainDataloader().",
        );
      const val = options.valDataloaders ?? this.datamodule?.valDataloader?.();
      if (!module.trainingStep)
        throw new FulmenError(`${module.constructor.name} has no trainingStep; implement it to train.`);
      const configured = normalizeOptimizerConfig(module.configureOptimizers?.());
      const [, ...optimizers] = fabric.setup(module, ...configured.optimizers) as unknown as [
        LightningModule,
        ...Optimizer[],
      ];
      this.optimizers = optimizers;
      this.lrSchedulerConfigs = configured.schedulers;
      const overfit = this.options.overfitBatches > 0;
      // overfitBatches trains and validates on the same first batches of the training data, unshuffled.
      const fixedTrain = overfit
        ? new DataLoaderClass(train.dataset, {
            batchSize: train.batchSize,
            // The loader's own function, so that the default collation keeps its batch-at-once path.
            collateFn: train.collateFn,
          })
        : train;
      const trainLoader = fabric.setupDataloaders(fixedTrain, this.loaderOptions);
      const valSource = overfit ? fixedTrain : val;
      const valLoader =
        valSource === undefined ? null : fabric.setupDataloaders(valSource, this.loaderOptions);
      this.fitLoop.setup(trainLoader, valLoader, val !== undefined);
      const limitFlag = (name: string) => (overfit ? "overfitBatches" : name);
      this.numTrainingBatches = limitBatches(
        this.options.limitTrainBatches,
        trainLoader.length,
        limitFlag("limitTrainBatches"),
      );
      this.numValBatches =
        valLoader === null || !this.fitLoop.validates
          ? 0
          : limitBatches(this.options.limitValBatches, valLoader.length, limitFlag("limitValBatches"));
      this.checkValCheckInterval();
      if (options.ckptPath) restoreCheckpoint(this, resolveCkptPath(this, options.ckptPath), true);
      if (Object.keys(module.hparams).length > 0 && this.isGlobalZero)
        for (const l of this.loggers) l.logHyperparams(module.hparams);
      callHook(this, "onFitStart");
      this.fitLoop.run();
      callHook(this, "onFitEnd");
      this.finish("fit");
    } catch (e) {
      this.fail(e);
      throw e;
    }
  }

  /** Runs one validation pass and returns the reduced metrics (Lightning's `trainer.validate`). */
  async validate(
    module: LightningModule,
    options: EvaluateOptions = {},
  ): Promise<Array<Record<string, number>>> {
    return this.evaluate("validate", module, options);
  }

  /** Runs the test loop and returns the reduced metrics (Lightning's `trainer.test`). */
  async test(module: LightningModule, options: EvaluateOptions = {}): Promise<Array<Record<string, number>>> {
    return this.evaluate("test", module, options);
  }

  /** Returns `predictStep`'s output for every batch (tensors are kept; the caller owns them). */
  async predict(module: LightningModule, options: EvaluateOptions = {}): Promise<unknown[]> {
    const fabric = await this.begin("predict", module, options.datamodule);
    try {
      const data = options.dataloaders ?? this.datamodule?.predictDataloader?.();
      if (data === undefined)
        throw new FulmenError(
          "trainer.predict needs data: pass dataloaders or a datamodule with predictDataloader().",
        );
      const model = fabric.setup(module);
      if (options.ckptPath) restoreCheckpoint(this, resolveCkptPath(this, options.ckptPath), false);
      const loader = fabric.setupDataloaders(data, this.loaderOptions);
      const outputs = runPredictLoop(
        this,
        model,
        loader,
        limitBatches(this.options.limitPredictBatches, loader.length, "limitPredictBatches"),
      );
      this.finish("predict");
      return outputs;
    } catch (e) {
      this.fail(e);
      throw e;
    }
  }

  /** Writes a checkpoint of the whole training state (Lightning's `trainer.save_checkpoint`). */
  saveCheckpoint(path: string, weightsOnly = false): void {
    saveCheckpoint(this, path, weightsOnly);
  }

  private async evaluate(
    stage: "validate" | "test",
    module: LightningModule,
    options: EvaluateOptions,
  ): Promise<Array<Record<string, number>>> {
    const fabric = await this.begin(stage, module, options.datamodule);
    try {
      const data =
        options.dataloaders ??
        (stage === "validate" ? this.datamodule?.valDataloader?.() : this.datamodule?.testDataloader?.());
      if (data === undefined)
        throw new FulmenError(
          `trainer.${stage} needs data: pass dataloaders or a datamodule that provides them.`,
        );
      const step = stage === "validate" ? module.validationStep : module.testStep;
      if (!step)
        throw new FulmenError(
          `${module.constructor.name} has no ${stage === "validate" ? "validationStep" : "testStep"}.`,
        );
      fabric.setup(module);
      if (options.ckptPath) restoreCheckpoint(this, resolveCkptPath(this, options.ckptPath), false);
      const loader = fabric.setupDataloaders(data, this.loaderOptions);
      const limit = limitBatches(
        stage === "validate" ? this.options.limitValBatches : this.options.limitTestBatches,
        loader.length,
        stage === "validate" ? "limitValBatches" : "limitTestBatches",
      );
      const metrics = runEvaluationLoop(this, stage, loader, limit, true);
      this.finish(stage);
      return [metrics];
    } catch (e) {
      this.fail(e);
      throw e;
    }
  }

  private async begin(
    fn: Stage,
    module: LightningModule,
    datamodule: LightningDataModule | undefined,
  ): Promise<Fabric> {
    const fabric = await this.ensureFabric();
    this.state = { fn, status: "running", stage: null };
    this.module = module;
    this.currentDatamodule = datamodule ?? null;
    module.trainer = this;
    this.shouldStop = false;
    this.loggerConnector.resetEvalSteps();
    if (this.currentDatamodule !== null) {
      this.currentDatamodule.prepareData();
      this.currentDatamodule.setup(fn);
    }
    for (const c of this.callbacks) c.setup(this, module, fn);
    module.setup?.(fn);
    // Lightning's configure_model: under a strategy that shards parameters, the layers made there are created
    // without values and materialised unit by unit when the module is set up, so no rank holds all weights.
    if (module.configureModel !== undefined)
      fabric.initModule(() => module.configureModel!(), {
        emptyInit: fabric.strategy.materializesDeferred === true,
      });
    return fabric;
  }

  private finish(fn: Stage): void {
    if (this.profiler !== null && this.isGlobalZero) {
      console.log(this.profiler.summary(fn.toUpperCase()));
      this.profiler.reset();
    }
    this.state.status = "finished";
    this.state.stage = null;
    for (const c of this.callbacks) c.teardown(this, this.lightningModule, fn);
    this.lightningModule.teardown?.(fn);
    this.datamodule?.teardown(fn);
    // Loggers write on rank 0 only (Lightning's rank-zero-only loggers).
    if (this.isGlobalZero) {
      for (const l of this.loggers) l.save();
      if (fn === "fit") for (const l of this.loggers) l.finalize("success");
    }
  }

  private fail(error: unknown): void {
    this.state.status = "interrupted";
    for (const c of this.callbacks) c.onException(this, this.lightningModule, error);
    if (this.isGlobalZero) for (const l of this.loggers) l.finalize("failed");
  }
}
