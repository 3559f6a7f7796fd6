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
export type TrainingStepOutput =
  | tf.Scalar
  | {
      /** The scalar loss that the backward pass starts from; the object's other entries are passed along. */
      loss: tf.Scalar;
      [key: string]: unknown;
    }
  | null
  | undefined;

/** A scheduler with Lightning's configuration (`lr_scheduler` dict). */
export interface LRSchedulerConfig {
  /** The scheduler to step: an `LRScheduler`, or a `ReduceLROnPlateau` (which needs `monitor`). */
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
  | {
      /** The optimizer. */
      optimizer: Optimizer;
      /** Its scheduler: a bare scheduler (stepped every epoch) or a configuration; none when absent. */
      lrScheduler?: LRScheduler | ReduceLROnPlateau | LRSchedulerConfig;
    }
  | Array<{
      /** The optimizer. */
      optimizer: Optimizer;
      /** Its scheduler: a bare scheduler (stepped every epoch) or a configuration; none when absent. */
      lrScheduler?: LRScheduler | ReduceLROnPlateau | LRSchedulerConfig;
    }>
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

  /**
   * Computes one training batch's loss (`batchIdx` within the epoch) inside the gradient tape: return it,
   * `{ loss, ... }`, or nothing to skip the batch. Under manual optimization its result is ignored: call
   * `this.manualBackward` and step `this.optimizers()` here.
   */
  trainingStep?(batch: never, batchIdx: number): TrainingStepOutput;
  /**
   * Evaluates one validation batch in eval mode (sanity check, `fit`'s validation, `validate`); log metrics
   * with `this.log`. Its result goes to `onValidationBatchEnd`. It must be synchronous.
   */
  validationStep?(batch: never, batchIdx: number): unknown;
  /**
   * Evaluates one test batch in eval mode during `test`; log metrics with `this.log`. Its result goes to
   * `onTestBatchEnd`. It must be synchronous.
   */
  testStep?(batch: never, batchIdx: number): unknown;
  /**
   * Predicts one batch in eval mode during `predict` (without it, `forward(batch)`); the results are
   * returned by `predict`, whose caller owns their tensors.
   */
  predictStep?(batch: never, batchIdx: number): unknown;
  /**
   * Returns the optimizers (and schedulers) to train with; called once per `fit`, after `setup` and
   * `configureModel`, before the module and optimizers are set up by the strategy.
   */
  configureOptimizers?(): OptimizerConfig;

  /**
   * Called by `fit` once the module, optimizers and dataloaders are set up and any `ckptPath` is restored,
   * before the sanity check; after the callbacks' `onFitStart`.
   */
  onFitStart?(): void;
  /** Called by `fit` after `onTrainEnd`, before `teardown`. */
  onFitEnd?(): void;
  /** Called once per `fit` after the sanity check, before the first training epoch. */
  onTrainStart?(): void;
  /** Called once per `fit` after the last training epoch, before `onFitEnd`. */
  onTrainEnd?(): void;
  /** Called at the start of every training epoch, in train mode, before its first batch. */
  onTrainEpochStart?(): void;
  /**
   * Called after the epoch's last batch and any validation after it, before the epoch's training metrics are
   * logged; metrics logged here reach ModelCheckpoint and EarlyStopping, which run after this hook.
   */
  onTrainEpochEnd?(): void;
  /**
   * Called before `trainingStep` for each training batch; its return value is ignored (Lightning's `-1`
   * to skip the rest of the epoch is not supported).
   */
  onTrainBatchStart?(batch: unknown, batchIdx: number): void;
  /**
   * Called after the batch's optimization, before its step metrics are logged and any validation; `outputs`
   * is `{ loss }` (a number), or `{}` under manual optimization or when `trainingStep` returned no loss.
   */
  onTrainBatchEnd?(outputs: Record<string, number>, batch: unknown, batchIdx: number): void;
  /** Called when a validation loop starts (sanity check, `fit`'s validation, `validate`), in eval mode. */
  onValidationStart?(): void;
  /**
   * Called at the end of a validation loop, after its metrics are reduced and logged; ModelCheckpoint and
   * EarlyStopping run after this hook.
   */
  onValidationEnd?(): void;
  /** Called right after `onValidationStart`, before the first validation batch. */
  onValidationEpochStart?(): void;
  /**
   * Called after the last validation batch, before the epoch's metrics are reduced and logged, so metrics
   * logged here (e.g. from outputs gathered by the steps) are included.
   */
  onValidationEpochEnd?(): void;
  /** Called when `test` starts its loop, in eval mode. */
  onTestStart?(): void;
  /** Called at the end of `test`'s loop, after its metrics are reduced and logged. */
  onTestEnd?(): void;
  /** Called right after `onTestStart`, before the first test batch. */
  onTestEpochStart?(): void;
  /**
   * Called after the last test batch, before the epoch's metrics are reduced and logged, so metrics logged
   * here are included.
   */
  onTestEpochEnd?(): void;
  /** Called when `predict` starts its loop, in eval mode. */
  onPredictStart?(): void;
  /** Called after the last prediction batch, before `predict` returns the outputs. */
  onPredictEnd?(): void;
  /**
   * Called with the loss `trainingStep` returned (before division by `accumulateGradBatches`), inside the
   * gradient tape, just before gradients are computed. Automatic optimization only.
   */
  onBeforeBackward?(loss: tf.Scalar): void;
  /**
   * Called after each batch's backward (every batch of an accumulation window; every evaluation of a closure
   * optimizer such as LBFGS), before any optimizer step. Automatic optimization only.
   */
  onAfterBackward?(): void;
  /**
   * Called at the end of each accumulation window (and on the epoch's last batch), before gradient clipping
   * and `optimizer.step()`; for LBFGS, in each closure evaluation. Automatic optimization only.
   */
  onBeforeOptimizerStep?(optimizer: Optimizer): void;
  /**
   * Called before `optimizer.zeroGrad()`, at the start of each accumulation window before its first
   * `trainingStep` (each closure evaluation for LBFGS). Automatic optimization only.
   */
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
  /**
   * Called by every `trainer.saveCheckpoint`, after the callbacks' `onSaveCheckpoint` and before the
   * checkpoint is written: add or change entries of `checkpoint` in place.
   */
  onSaveCheckpoint?(checkpoint: Record<string, unknown>): void;
  /**
   * Called when a `ckptPath` is restored, after the weights (and, resuming a fit, optimizers and schedulers)
   * are loaded and the callbacks' `onLoadCheckpoint`; `checkpoint.stateDict` is null.
   */
  onLoadCheckpoint?(checkpoint: Record<string, unknown>): void;
  /**
   * Called at the start of every `fit`, `validate`, `test` and `predict` (`stage`), after the datamodule's
   * and callbacks' `setup`, before `configureModel` (and `configureOptimizers` in `fit`).
   */
  setup?(stage: string): void;
  /**
   * Creates the model's layers (Lightning's `configure_model`), called by every `trainer.fit`, `validate`,
   * `test` and `predict` after `setup`, before the module is set up: make it idempotent (skip layers that exist).
   * Under a strategy that shards parameters (FSDP, ZeRO-3) the layers made here get no values at first and are
   * materialised unit by unit at setup, so that no rank ever holds the whole model.
   */
  configureModel?(): void;
  /**
   * Called when `fit`, `validate`, `test` or `predict` (`stage`) has finished, after the callbacks'
   * `teardown` and before the datamodule's; not called when the run fails.
   */
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
