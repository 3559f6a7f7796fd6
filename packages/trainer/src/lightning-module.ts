import {
  FulmenError,
  type LRScheduler,
  Module,
  type Optimizer,
  type Parameter,
  type ReduceLROnPlateau,
  type tf,
} from "@fulmen/core";
import type { Trainer } from "./trainer";

/** What a training step may return: the loss, an object holding it under `loss`, or nothing to skip the batch. */
export type TrainingStepOutput = tf.Scalar | { loss: tf.Scalar; [key: string]: unknown } | null | undefined;

/** A scheduler with Lightning's configuration (`lr_scheduler` dict). */
export interface LRSchedulerConfig {
  scheduler: LRScheduler | ReduceLROnPlateau;
  /** Step the scheduler every "epoch" (default) or every optimizer "step". */
  interval?: "epoch" | "step";
  /** Step it every this many intervals (default 1). */
  frequency?: number;
  /** The metric ReduceLROnPlateau reads (required for it). */
  monitor?: string;
  /** Fail when the monitored metric is missing (default true). */
  strict?: boolean;
  /** A name for LearningRateMonitor. */
  name?: string;
}

/** Every form `configureOptimizers` may return, as Lightning accepts them. */
export type OptimizerConfig =
  | Optimizer
  | Optimizer[]
  | { optimizer: Optimizer; lrScheduler?: LRScheduler | ReduceLROnPlateau | LRSchedulerConfig }
  | Array<{ optimizer: Optimizer; lrScheduler?: LRScheduler | ReduceLROnPlateau | LRSchedulerConfig }>
  | [Optimizer[], Array<LRScheduler | ReduceLROnPlateau | LRSchedulerConfig>];

/** Options of {@link LightningModule.log}, with Lightning's meaning (defaults depend on where it is called). */
export interface LogOptions {
  /** Log the value of this step (default: true in training steps, false in validation/test and epoch hooks). */
  onStep?: boolean;
  /** Aggregate over the epoch with `reduceFx` (default: the opposite of onStep's default). */
  onEpoch?: boolean;
  /** Show it in the progress bar (default false). */
  progBar?: boolean;
  /** Send it to the loggers (default true). */
  logger?: boolean;
  /** How epoch aggregation reduces the steps' values (default "mean", weighted by batch size). */
  reduceFx?: "mean" | "sum" | "max" | "min";
  /** Reduce across processes before logging (a no-op with one process). */
  syncDist?: boolean;
  /** The batch size for the weighted mean (default: inferred from the batch). */
  batchSize?: number;
}

/**
 * Lightning's LightningModule: a Module that also says how it trains (`trainingStep`, `configureOptimizers`),
 * validates, tests and predicts, with hooks called by the Trainer in Lightning's order and `this.log` for
 * metrics. Its `trainingStep` runs inside the gradient tape (TensorFlow.js differentiates closures), so it
 * returns the loss rather than calling backward.
 */
export abstract class LightningModule extends Module {
  /** The Trainer running this module, while it runs. */
  trainer: Trainer | null = null;
  /** With false, `trainingStep` drives optimization itself (`this.optimizers()`, `this.manualBackward`). */
  automaticOptimization = true;
  /** Hyperparameters saved with {@link LightningModule.saveHyperparameters}; stored in checkpoints. */
  hparams: Record<string, unknown> = {};

  /** Computes the loss of one training batch. */
  trainingStep?(batch: never, batchIdx: number): TrainingStepOutput;
  /** Evaluates one validation batch (log metrics with `this.log`). */
  validationStep?(batch: never, batchIdx: number): unknown;
  /** Evaluates one test batch. */
  testStep?(batch: never, batchIdx: number): unknown;
  /** Predicts one batch (default: `forward(batch)`). */
  predictStep?(batch: never, batchIdx: number): unknown;
  /** Returns the optimizers (and schedulers) to train with. */
  configureOptimizers?(): OptimizerConfig;

  onFitStart?(): void;
  onFitEnd?(): void;
  onTrainStart?(): void;
  onTrainEnd?(): void;
  onTrainEpochStart?(): void;
  onTrainEpochEnd?(): void;
  onTrainBatchStart?(batch: unknown, batchIdx: number): void;
  onTrainBatchEnd?(outputs: Record<string, number>, batch: unknown, batchIdx: number): void;
  onValidationStart?(): void;
  onValidationEnd?(): void;
  onValidationEpochStart?(): void;
  onValidationEpochEnd?(): void;
  onTestStart?(): void;
  onTestEnd?(): void;
  onTestEpochStart?(): void;
  onTestEpochEnd?(): void;
  onPredictStart?(): void;
  onPredictEnd?(): void;
  onBeforeBackward?(loss: tf.Scalar): void;
  onAfterBackward?(): void;
  onBeforeOptimizerStep?(optimizer: Optimizer): void;
  onBeforeZeroGrad?(optimizer: Optimizer): void;
  /**
   * Clips gradients before each optimizer step. The default clips with the Trainer's `gradientClipVal` and
   * `gradientClipAlgorithm`; override it for other rules (another norm type, per-layer clipping) and call
   * {@link LightningModule.clipGradients}.
   */
  configureGradientClipping?(
    optimizer: Optimizer,
    gradientClipVal: number | null,
    gradientClipAlgorithm: "norm" | "value",
  ): void;
  onSaveCheckpoint?(checkpoint: Record<string, unknown>): void;
  onLoadCheckpoint?(checkpoint: Record<string, unknown>): void;
  setup?(stage: string): void;
  /**
   * Creates the model's layers (Lightning's `configure_model`), called by every `trainer.fit`, `validate`,
   * `test` and `predict` after `setup`, before the module is set up: make it idempotent (skip layers that exist).
   * Under a strategy that shards parameters (FSDP, ZeRO-3) the layers made here get no values at first and are
   * materialised unit by unit at setup, so that no rank ever holds the whole model.
   */
  configureModel?(): void;
  teardown?(stage: string): void;

  private requireTrainer(what: string): Trainer {
    if (this.trainer === null) {
      throw new FulmenError(`${what} needs a Trainer: it works inside trainer.fit/validate/test/predict.`);
    }
    return this.trainer;
  }

  /** Logs a metric, with Lightning's semantics for step/epoch aggregation, the progress bar and the loggers. */
  log(name: string, value: number | tf.Tensor, options: LogOptions = {}): void {
    this.requireTrainer("this.log").recordMetric(name, value, options);
  }

  /** Logs several metrics with the same options. */
  logDict(metrics: Record<string, number | tf.Tensor>, options: LogOptions = {}): void {
    for (const [name, value] of Object.entries(metrics)) this.log(name, value, options);
  }

  /** Saves hyperparameters: they go to the loggers and into checkpoints (`this.hparams`). */
  saveHyperparameters(params: Record<string, unknown>): void {
    this.hparams = { ...this.hparams, ...structuredClone(params) };
  }

  /** The optimizers set up for training: one, or a list when there are several (manual optimization). */
  optimizers(): Optimizer | Optimizer[] {
    const optimizers = this.requireTrainer("this.optimizers()").optimizers;
    return optimizers.length === 1 ? optimizers[0]! : optimizers;
  }

  /** The schedulers configured for training. */
  lrSchedulers(): Array<LRScheduler | ReduceLROnPlateau> {
    return this.requireTrainer("this.lrSchedulers()").lrSchedulerConfigs.map((c) => c.scheduler);
  }

  /**
   * Manual optimization's `loss.backward()`: differentiates `closure` into the parameters' gradients through
   * the Trainer's precision and strategy; returns the loss.
   */
  manualBackward(closure: () => tf.Scalar): tf.Scalar {
    const trainer = this.requireTrainer("this.manualBackward");
    if (trainer.fabric === null) throw new FulmenError("manualBackward works during trainer.fit.");
    return trainer.fabric.backward(closure, this);
  }

  /**
   * Lets only `optimizer`'s parameters receive gradients (the others are frozen) until
   * {@link LightningModule.untoggleOptimizer}, as for GANs.
   */
  toggleOptimizer(optimizer: Optimizer): void {
    const own = new Set(optimizer.paramGroups.flatMap((g) => g.params));
    this.toggled = new Map(this.parameters().map((p) => [p, p.requiresGrad]));
    for (const p of this.parameters()) p.requiresGrad = own.has(p) && (this.toggled.get(p) ?? true);
  }

  /** Restores what {@link LightningModule.toggleOptimizer} froze. */
  untoggleOptimizer(_optimizer: Optimizer): void {
    for (const [p, flag] of this.toggled) p.requiresGrad = flag;
    this.toggled = new Map();
  }

  private toggled = new Map<Parameter, boolean>();

  /**
   * Clips the gradients of this module's parameters (unscaling them first under loss scaling): by norm
   * (`maxNorm`, `normType`, default 2) or by value (`clipVal`). Returns the total norm before clipping, or null.
   */
  clipGradients(
    optimizer: Optimizer,
    options: { maxNorm?: number; clipVal?: number; normType?: number },
  ): number | null {
    const trainer = this.requireTrainer("this.clipGradients");
    if (trainer.fabric === null) throw new FulmenError("clipGradients works during trainer.fit.");
    const total = trainer.fabric.clipGradients(this, optimizer, { ...options, errorIfNonfinite: false });
    if (total === null) return null;
    const value = total.dataSync()[0]!;
    total.dispose();
    return value;
  }

  /** The epoch the Trainer is in. */
  get currentEpoch(): number {
    return this.trainer?.currentEpoch ?? 0;
  }

  /** Optimizer steps taken so far. */
  get globalStep(): number {
    return this.trainer?.globalStep ?? 0;
  }
}

/** Runs the training-step closure for automatic optimization and returns the loss. */
export function lossOf(output: TrainingStepOutput): tf.Scalar | null {
  if (output === null || output === undefined) return null;
  if (typeof output === "object" && "loss" in output && !("dataId" in output)) return output.loss;
  return output as tf.Scalar;
}
