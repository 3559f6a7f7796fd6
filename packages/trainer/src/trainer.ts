import {
  type DataLoader,
  DataLoader as DataLoaderClass,
  FulmenError,
  getDefaultGenerator,
  type Logger,
  type Optimizer,
  ReduceLROnPlateau,
  type Strategy,
  tf,
} from "@fulmen/core";
import { Fabric, type FabricDataLoader, TensorBoardLogger } from "@fulmen/fabric";
import type { Callback, HookName, Stage } from "./callbacks/callback";
import { ModelCheckpoint } from "./callbacks/model-checkpoint";
import { ModelSummary } from "./callbacks/model-summary";
import { ProgressBar } from "./callbacks/progress-bar";
import type { LightningDataModule } from "./datamodule";
import { type LightningModule, type LogOptions, lossOf } from "./lightning-module";
import { batchSizeOf, type LogContext, MetricStore, type MetricStoreState } from "./logging/metric-store";
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
  trainDataloaders?: DataLoader<unknown, unknown>;
  valDataloaders?: DataLoader<unknown, unknown>;
  datamodule?: LightningDataModule;
  /** Resume from a checkpoint: a path, "last" or "best" (from the ModelCheckpoint callback). */
  ckptPath?: string | null;
}

/** Options of {@link Trainer.validate}, {@link Trainer.test} and {@link Trainer.predict}. */
export interface EvaluateOptions {
  dataloaders?: DataLoader<unknown, unknown>;
  datamodule?: LightningDataModule;
  /** Load these weights first: a path, "last" or "best". */
  ckptPath?: string | null;
}

/** What the Trainer is doing. */
export interface TrainerState {
  fn: Stage | null;
  status: "initializing" | "running" | "finished" | "interrupted";
  stage: "train" | "sanity_check" | "validate" | "test" | "predict" | null;
}

const SKIP = Symbol("fulmen.skipBatch");
const MONITORING = new Set(["ModelCheckpoint", "EarlyStopping"]);
const VERSION = "0.1.0";

interface LoopProgress {
  epoch: number;
  /** Batches of `epoch` already done (a mid-epoch checkpoint resumes after them). */
  batchesDone: number;
  epochFinished: boolean;
  /** The shuffle generator's state at the start of `epoch`, to replay its order. */
  shuffleState: ReturnType<typeof getDefaultGenerator>["getState"] extends () => infer S ? S | null : null;
}

/**
 * Lightning's Trainer: runs a LightningModule's training, validation, test and prediction loops with Lightning's
 * flags, hooks, logging and checkpoints, on top of Fabric (accelerator, precision and strategy come from it).
 */
export class Trainer {
  readonly options: ResolvedTrainerOptions;
  /** The Fabric that runs the loops (created on the first fit/validate/test/predict). */
  fabric: Fabric | null = null;
  readonly callbacks: Callback[];
  readonly loggers: Logger[];
  optimizers: Optimizer[] = [];
  lrSchedulerConfigs: NormalizedSchedulerConfig[] = [];
  currentEpoch = 0;
  /** Optimizer steps taken. */
  globalStep = 0;
  /** Set by a callback (EarlyStopping) or by you to end training after the current step. */
  shouldStop = false;
  state: TrainerState = { fn: null, status: "initializing", stage: null };
  /** Training batches per epoch, as limited. */
  numTrainingBatches = 0;
  /** Validation batches per run, as limited. */
  numValBatches = 0;
  /** Every metric the loggers received last, by name. */
  readonly loggedMetrics: Record<string, number> = {};
  private readonly stores: Record<"train" | "validate" | "test", MetricStore> = {
    train: new MetricStore(),
    validate: new MetricStore(),
    test: new MetricStore(),
  };
  private store: MetricStore = this.stores.train;
  private logContext: LogContext = "train-step";
  private currentBatchSize = 1;
  private module: LightningModule | null = null;
  private datamodule: LightningDataModule | null = null;
  private startTime = 0;
  private progress: LoopProgress = { epoch: 0, batchesDone: 0, epochFinished: false, shuffleState: null };
  private trainLoader: FabricDataLoader<unknown, unknown> | null = null;
  private lastLoss: number | null = null;
  /** The profiler when `profiler: "simple"` is set. */
  readonly profiler: SimpleProfiler | null;

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
    return {
      ...this.stores.train.callbackMetrics,
      ...this.stores.validate.callbackMetrics,
      ...this.stores.test.callbackMetrics,
    };
  }

  /** The metrics shown in the progress bar (and the running training loss as `loss`). */
  get progressBarMetrics(): Record<string, number> {
    const out: Record<string, number> = this.lastLoss === null ? {} : { loss: this.lastLoss };
    return { ...out, ...this.stores.train.progressBarMetrics, ...this.stores.validate.progressBarMetrics };
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

  /** Whether this process writes logs and checkpoints (rank 0). */
  get isGlobalZero(): boolean {
    return this.fabric?.isGlobalZero ?? true;
  }

  /** Training batches between validations within an epoch (Infinity: only at the end of the epoch). */
  get valCheckBatch(): number {
    const interval = this.options.valCheckInterval;
    if (interval > 1) return interval;
    return Math.max(1, Math.floor(this.numTrainingBatches * interval));
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
      if (config.interval === "step" && this.globalStep % config.frequency === 0) this.stepScheduler(config);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Hooks

  private callHook(hook: HookName, ...args: unknown[]): void {
    const module = this.module;
    const monitoringLast = hook === "onTrainEpochEnd" || hook === "onValidationEnd";
    const callbacks = monitoringLast
      ? this.callbacks.filter((c) => !MONITORING.has(c.constructor.name))
      : this.callbacks;
    for (const c of callbacks) (c[hook] as (...a: unknown[]) => void).call(c, this, module, ...args);
    const moduleHook = module === null ? undefined : (module as unknown as Record<string, unknown>)[hook];
    if (typeof moduleHook === "function") moduleHook.apply(module, args);
    if (monitoringLast) {
      for (const c of this.callbacks.filter((c) => MONITORING.has(c.constructor.name))) {
        (c[hook] as (...a: unknown[]) => void).call(c, this, module, ...args);
      }
    }
  }

  /** Records a `this.log` call from the module. */
  recordMetric(name: string, value: number | tf.Tensor, options: LogOptions): void {
    if (this.state.stage === "predict") throw new FulmenError("this.log cannot be used while predicting.");
    const synced =
      options.syncDist === true && this.worldSize > 1 ? this.syncAcrossRanks(value, options) : value;
    this.store.record(name, synced, options, this.logContext, this.currentBatchSize);
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

  /** Whether any rank says yes (Lightning's `reduce_boolean_decision(all=False)`); keeps ranks in step. */
  private anyRank(decision: boolean): boolean {
    if (this.worldSize <= 1) return decision;
    return tf.tidy(
      () => this.fabric!.allReduce(tf.scalar(decision ? 1 : 0), { reduceOp: "max" }).dataSync()[0]! > 0,
    );
  }

  private logToLoggers(metrics: Record<string, number>, step: number): void {
    if (Object.keys(metrics).length === 0 || !this.isGlobalZero) return;
    const withEpoch = { ...metrics, epoch: this.currentEpoch };
    Object.assign(this.loggedMetrics, withEpoch);
    for (const logger of this.loggers) logger.logMetrics(withEpoch, step);
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
            collateFn: (s: unknown[]) => train.collate(s),
          })
        : train;
      this.trainLoader = fabric.setupDataloaders(fixedTrain);
      const valSource = overfit ? fixedTrain : val;
      const valLoader = valSource === undefined ? null : fabric.setupDataloaders(valSource);
      this.numTrainingBatches = limitBatches(this.options.limitTrainBatches, this.trainLoader.length);
      this.numValBatches =
        valLoader === null ? 0 : limitBatches(this.options.limitValBatches, valLoader.length);
      if (options.ckptPath) this.restore(this.resolveCkptPath(options.ckptPath), true);
      if (Object.keys(module.hparams).length > 0 && this.isGlobalZero)
        for (const l of this.loggers) l.logHyperparams(module.hparams);
      this.callHook("onFitStart");
      if (
        valLoader !== null &&
        this.options.numSanityValSteps > 0 &&
        this.progress.epoch === 0 &&
        this.progress.batchesDone === 0
      ) {
        this.state.stage = "sanity_check";
        this.callHook("onSanityCheckStart");
        this.runEvaluation(
          "validate",
          valLoader,
          Math.min(this.options.numSanityValSteps, this.numValBatches),
          false,
        );
        this.callHook("onSanityCheckEnd");
        this.stores.validate.discard();
      }
      this.state.stage = "train";
      this.callHook("onTrainStart");
      this.startTime = Date.now();
      while (!this.trainingDone()) {
        this.runTrainingEpoch(valLoader);
      }
      this.callHook("onTrainEnd");
      this.callHook("onFitEnd");
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
      const m = fabric.setup(module);
      if (options.ckptPath) this.restore(this.resolveCkptPath(options.ckptPath), false);
      const loader = fabric.setupDataloaders(data);
      const limit = limitBatches(this.options.limitPredictBatches, loader.length);
      this.state.stage = "predict";
      m.eval();
      this.callHook("onPredictStart");
      const outputs: unknown[] = [];
      let batchIdx = 0;
      for (const batch of loader) {
        if (batchIdx >= limit) break;
        const out = fabric.autocast(() =>
          module.predictStep
            ? module.predictStep(batch as never, batchIdx)
            : (m.forward as (b: unknown) => unknown)(batch),
        );
        keepTensors(out);
        outputs.push(out);
        this.callHook("onPredictBatchEnd", out, batch, batchIdx);
        disposeTensors(batch);
        batchIdx += 1;
      }
      this.callHook("onPredictEnd");
      this.finish("predict");
      return outputs;
    } catch (e) {
      this.fail(e);
      throw e;
    }
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
      if (options.ckptPath) this.restore(this.resolveCkptPath(options.ckptPath), false);
      const loader = fabric.setupDataloaders(data);
      const limit = limitBatches(
        stage === "validate" ? this.options.limitValBatches : this.options.limitTestBatches,
        loader.length,
      );
      const metrics = this.runEvaluation(stage, loader, limit, true);
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
    this.datamodule = datamodule ?? null;
    module.trainer = this;
    this.shouldStop = false;
    if (this.datamodule !== null) {
      this.datamodule.prepareData();
      this.datamodule.setup(fn);
    }
    for (const c of this.callbacks) c.setup(this, module, fn);
    module.setup?.(fn);
    return fabric;
  }

  private profile<T>(action: string, fn: () => T): T {
    return this.profiler === null ? fn() : this.profiler.profile(action, fn);
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

  // ---------------------------------------------------------------------------------------------------------------
  // Loops

  private trainingDone(): boolean {
    return this.anyRank(this.trainingDoneHere());
  }

  private trainingDoneHere(): boolean {
    const o = this.options;
    if (o.maxSteps !== -1 && this.globalStep >= o.maxSteps) return true;
    if (o.maxEpochsResolved !== -1 && this.currentEpoch >= o.maxEpochsResolved) return true;
    if (o.maxTimeMs !== null && Date.now() - this.startTime >= o.maxTimeMs) return true;
    if (this.shouldStop) {
      const minEpochsMet = o.minEpochs === null || this.currentEpoch >= o.minEpochs;
      const minStepsMet = o.minSteps === null || this.globalStep >= o.minSteps;
      if (minEpochsMet && minStepsMet) return true;
      this.shouldStop = false;
    }
    return false;
  }

  private runTrainingEpoch(valLoader: FabricDataLoader<unknown, unknown> | null): void {
    const module = this.lightningModule;
    const loader = this.trainLoader!;
    const resumeFrom =
      this.progress.epoch === this.currentEpoch && !this.progress.epochFinished
        ? this.progress.batchesDone
        : 0;
    const shuffle = loader.loader.generator;
    if (resumeFrom > 0 && this.progress.shuffleState !== null) shuffle.setState(this.progress.shuffleState);
    this.progress = {
      epoch: this.currentEpoch,
      batchesDone: resumeFrom,
      epochFinished: false,
      shuffleState: shuffle.getState(),
    };
    this.store = this.stores.train;
    module.train();
    this.callHook("onTrainEpochStart");
    const validateThisEpoch =
      valLoader !== null &&
      this.numValBatches > 0 &&
      this.options.checkValEveryNEpoch !== null &&
      (this.currentEpoch + 1) % this.options.checkValEveryNEpoch === 0;
    let batchIdx = 0;
    for (const batch of loader) {
      if (batchIdx >= this.numTrainingBatches || this.trainingStopsNow()) {
        disposeTensors(batch);
        break;
      }
      if (batchIdx < resumeFrom) {
        disposeTensors(batch);
        batchIdx += 1;
        continue;
      }
      this.profile("run_training_batch", () => this.runTrainingBatch(batch, batchIdx));
      disposeTensors(batch);
      batchIdx += 1;
      const atEpochEnd = batchIdx >= this.numTrainingBatches;
      if (validateThisEpoch && (batchIdx % this.valCheckBatch === 0 || atEpochEnd))
        this.runValidationDuringFit(valLoader!);
    }
    this.logContext = "epoch-end";
    this.store = this.stores.train;
    this.progress.epochFinished = true;
    this.callHook("onTrainEpochEnd");
    this.logToLoggers(this.stores.train.endEpoch(), Math.max(0, this.globalStep - 1));
    for (const config of this.lrSchedulerConfigs) {
      if (config.interval === "epoch" && (this.currentEpoch + 1) % config.frequency === 0)
        this.stepScheduler(config);
    }
    this.currentEpoch += 1;
  }

  private trainingStopsNow(): boolean {
    return this.anyRank(this.trainingStopsNowHere());
  }

  private trainingStopsNowHere(): boolean {
    const o = this.options;
    if (o.maxSteps !== -1 && this.globalStep >= o.maxSteps) return true;
    if (o.maxTimeMs !== null && Date.now() - this.startTime >= o.maxTimeMs) return true;
    return (
      this.shouldStop &&
      (o.minSteps === null || this.globalStep >= o.minSteps) &&
      (o.minEpochs === null || this.currentEpoch >= o.minEpochs)
    );
  }

  private runTrainingBatch(batch: unknown, batchIdx: number): void {
    const module = this.lightningModule;
    const fabric = this.fabric!;
    this.logContext = "train-step";
    this.currentBatchSize = batchSizeOf(batch);
    this.callHook("onTrainBatchStart", batch, batchIdx);
    let outputs: Record<string, number> = {};
    if (module.automaticOptimization) {
      const accumulate = this.options.accumulateGradBatches;
      const optimizer = this.optimizers[0]!;
      if (this.optimizers.length > 1) {
        throw new FulmenError(
          "Several optimizers need manual optimization: set automaticOptimization = false in the module.",
        );
      }
      const isLast = batchIdx + 1 >= this.numTrainingBatches;
      const boundary = (batchIdx + 1) % accumulate === 0 || isLast;
      if (batchIdx % accumulate === 0) {
        this.callHook("onBeforeZeroGrad", optimizer);
        optimizer.zeroGrad();
      }
      let loss: tf.Scalar | null = null;
      // Gradients are averaged across ranks only at the accumulation boundary (DDP's no_sync for the rest).
      const backward = (): tf.Scalar =>
        tf.tidy(() =>
          fabric.backward(() => {
            const out = fabric.autocast(() => module.trainingStep!(batch as never, batchIdx));
            const value = lossOf(out);
            if (value === null) throw SKIP;
            if (this.options.detectAnomaly) {
              const v = value.dataSync()[0]!;
              if (!Number.isFinite(v)) {
                throw new FulmenError(
                  `detectAnomaly: the training loss is ${v} at epoch ${this.currentEpoch}, batch ${batchIdx} (global step ${this.globalStep}).`,
                );
              }
            }
            this.callHook("onBeforeBackward", value);
            return (accumulate === 1 ? value : tf.div(value, accumulate)) as tf.Scalar;
          }, module),
        );
      try {
        loss = boundary ? backward() : fabric.noBackwardSync(module, backward);
      } catch (e) {
        if (e !== SKIP) throw e;
      }
      if (loss !== null) {
        this.lastLoss = loss.dataSync()[0]! * accumulate;
        outputs = { loss: this.lastLoss };
        loss.dispose();
        this.callHook("onAfterBackward");
        if (boundary) {
          this.callHook("onBeforeOptimizerStep", optimizer);
          this.clipGradients(optimizer);
          this.profile("optimizer_step", () => optimizer.step());
        }
      }
    } else {
      tf.tidy(() => {
        fabric.autocast(() => module.trainingStep!(batch as never, batchIdx));
      });
    }
    // Counted before onTrainBatchEnd, so that a checkpoint written there resumes after this batch.
    this.progress.batchesDone = batchIdx + 1;
    this.callHook("onTrainBatchEnd", outputs, batch, batchIdx);
    if (
      this.stores.train.hasStepMetrics &&
      this.globalStep > 0 &&
      this.globalStep % this.options.logEveryNSteps === 0
    ) {
      this.logToLoggers(this.stores.train.takeStepMetrics(), this.globalStep - 1);
    } else if (this.stores.train.hasStepMetrics && this.options.logEveryNSteps === 1) {
      this.logToLoggers(this.stores.train.takeStepMetrics(), Math.max(0, this.globalStep - 1));
    }
  }

  private clipGradients(optimizer: Optimizer): void {
    const value = this.options.gradientClipVal;
    const module = this.lightningModule;
    if (module.configureGradientClipping) {
      module.configureGradientClipping(optimizer, value, this.options.gradientClipAlgorithm);
      return;
    }
    if (value === null || value === 0) return;
    if (this.options.gradientClipAlgorithm === "norm") {
      this.fabric!.clipGradients(module, optimizer, { maxNorm: value, errorIfNonfinite: false })?.dispose();
    } else {
      this.fabric!.clipGradients(module, optimizer, { clipVal: value });
    }
  }

  private stepScheduler(config: NormalizedSchedulerConfig): void {
    if (config.scheduler instanceof ReduceLROnPlateau) {
      const metric = this.callbackMetrics[config.monitor!];
      if (metric === undefined) {
        if (config.strict) {
          throw new FulmenError(
            `ReduceLROnPlateau conditioned on metric '${config.monitor}', which is not available. Available metrics are: ${Object.keys(this.callbackMetrics).join(", ") || "none"}. Log it with this.log, or set strict: false.`,
          );
        }
        return;
      }
      config.scheduler.step(metric);
    } else {
      config.scheduler.step();
    }
  }

  private runValidationDuringFit(valLoader: FabricDataLoader<unknown, unknown>): void {
    this.runEvaluation("validate", valLoader, this.numValBatches, true);
    this.store = this.stores.train;
    this.logContext = "train-step";
    this.lightningModule.train();
  }

  /** Runs validation or test batches; returns the reduced epoch metrics. */
  private runEvaluation(
    stage: "validate" | "test",
    loader: FabricDataLoader<unknown, unknown>,
    limit: number,
    log: boolean,
  ): Record<string, number> {
    const module = this.lightningModule;
    const fabric = this.fabric!;
    const hooks =
      stage === "validate"
        ? ([
            "onValidationStart",
            "onValidationEpochStart",
            "onValidationBatchStart",
            "onValidationBatchEnd",
            "onValidationEpochEnd",
            "onValidationEnd",
          ] as const)
        : ([
            "onTestStart",
            "onTestEpochStart",
            "onTestBatchStart",
            "onTestBatchEnd",
            "onTestEpochEnd",
            "onTestEnd",
          ] as const);
    const step = (stage === "validate" ? module.validationStep : module.testStep)?.bind(module);
    if (step === undefined) return {};
    const previousStage = this.state.stage;
    if (this.state.stage !== "sanity_check") this.state.stage = stage;
    this.store = this.stores[stage];
    module.eval();
    this.callHook(hooks[0]);
    this.callHook(hooks[1]);
    let batchIdx = 0;
    for (const batch of loader) {
      if (batchIdx >= limit) {
        disposeTensors(batch);
        break;
      }
      this.logContext = "eval-step";
      this.currentBatchSize = batchSizeOf(batch);
      this.callHook(hooks[2], batch, batchIdx);
      const out = this.profile(`${stage}_step`, () =>
        tf.tidy(() => {
          fabric.autocast(() => step(batch as never, batchIdx));
        }),
      );
      this.callHook(hooks[3], out, batch, batchIdx);
      disposeTensors(batch);
      batchIdx += 1;
    }
    this.logContext = "epoch-end";
    this.callHook(hooks[4]);
    const metrics = this.stores[stage].endEpoch();
    if (log && this.state.stage !== "sanity_check")
      this.logToLoggers(metrics, Math.max(0, this.globalStep - 1));
    this.callHook(hooks[5]);
    this.state.stage = previousStage;
    return metrics;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Checkpoints

  /** Writes a checkpoint of the whole training state (Lightning's `trainer.save_checkpoint`). */
  saveCheckpoint(path: string, weightsOnly = false): void {
    const fabric = this.fabric;
    const module = this.lightningModule;
    if (fabric === null) throw new FulmenError("saveCheckpoint works once the Trainer has run.");
    const checkpoint: Record<string, unknown> = {
      epoch: this.progress.epoch,
      globalStep: this.globalStep,
      fulmenVersion: VERSION,
      stateDict: module,
      hyperParameters: module.hparams,
    };
    if (!weightsOnly) {
      checkpoint.optimizerStates = this.optimizers;
      checkpoint.lrSchedulers = this.lrSchedulerConfigs.map((c) => c.scheduler);
      checkpoint.callbacks = Object.fromEntries(this.callbacks.map((c) => [c.stateKey, c.stateDict()]));
      checkpoint.loops = {
        progress: { ...this.progress },
        trainMetrics: this.stores.train.stateDict(),
        generator: getDefaultGenerator().getState(),
      };
      if (this.datamodule !== null) checkpoint.datamodule = this.datamodule.stateDict();
    }
    for (const c of this.callbacks) c.onSaveCheckpoint(this, module, checkpoint);
    module.onSaveCheckpoint?.(checkpoint);
    fabric.save(path, checkpoint);
  }

  private resolveCkptPath(ckptPath: string): string {
    const cb = this.checkpointCallback;
    if (ckptPath === "last" || ckptPath === "best") {
      const path = ckptPath === "last" ? cb?.lastCheckpointPath() : cb?.bestModelPath;
      if (!path) {
        throw new FulmenError(
          `ckptPath "${ckptPath}": there is no ${ckptPath} checkpoint (is a ModelCheckpoint callback saving one?).`,
        );
      }
      return path;
    }
    return ckptPath;
  }

  private restore(path: string, full: boolean): void {
    const fabric = this.fabric!;
    const module = this.lightningModule;
    const state: Record<string, unknown> = { stateDict: module };
    if (full) {
      state.optimizerStates = this.optimizers;
      state.lrSchedulers = this.lrSchedulerConfigs.map((c) => c.scheduler);
    }
    const rest = fabric.load(path, state, { strict: false }) as Record<string, unknown>;
    module.hparams = (rest.hyperParameters as Record<string, unknown>) ?? module.hparams;
    const checkpoint = { ...rest, stateDict: null };
    for (const c of this.callbacks) c.onLoadCheckpoint(this, module, checkpoint);
    module.onLoadCheckpoint?.(checkpoint);
    if (!full) return;
    this.globalStep = Number(rest.globalStep ?? 0);
    const loops = rest.loops as
      | {
          progress: LoopProgress;
          trainMetrics: MetricStoreState;
          generator: ReturnType<ReturnType<typeof getDefaultGenerator>["getState"]>;
        }
      | undefined;
    const callbacks = (rest.callbacks as Record<string, Record<string, unknown>>) ?? {};
    for (const c of this.callbacks)
      if (callbacks[c.stateKey] !== undefined) c.loadStateDict(callbacks[c.stateKey]!);
    if (this.datamodule !== null && rest.datamodule !== undefined)
      this.datamodule.loadStateDict(rest.datamodule as Record<string, unknown>);
    if (loops !== undefined) {
      this.progress = loops.progress;
      this.currentEpoch = loops.progress.epochFinished ? loops.progress.epoch + 1 : loops.progress.epoch;
      this.stores.train.loadStateDict(loops.trainMetrics);
      getDefaultGenerator().setState(loops.generator);
    }
  }
}

function keepTensors(value: unknown): void {
  if (value instanceof tf.Tensor) tf.keep(value);
  else if (Array.isArray(value)) value.forEach(keepTensors);
  else if (value !== null && typeof value === "object") Object.values(value).forEach(keepTensors);
}

function disposeTensors(value: unknown): void {
  if (value instanceof tf.Tensor) value.dispose();
  else if (Array.isArray(value)) value.forEach(disposeTensors);
  else if (value !== null && typeof value === "object") Object.values(value).forEach(disposeTensors);
}
