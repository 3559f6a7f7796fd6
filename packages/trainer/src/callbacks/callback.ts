import type { Optimizer, tf } from "@fulmen/core";
import type { LightningModule } from "../lightning-module";
import type { Trainer } from "../trainer";

/** The stage a Trainer is running. */
export type Stage = "fit" | "validate" | "test" | "predict";

/**
 * The base of Trainer callbacks (Lightning's `Callback`): override the hooks you need. Each receives the
 * trainer and the module; the Trainer calls them in Lightning's order. State returned by `stateDict` is saved
 * in checkpoints under the callback's `stateKey`.
 */
export abstract class Callback {
  /** The key of this callback's state in checkpoints (the class name by default). */
  get stateKey(): string {
    return this.constructor.name;
  }
  /**
   * Called at the start of every `fit`, `validate`, `test` and `predict` (`stage`), after the datamodule's
   * `setup` and before the module's `setup`, `configureModel` and `configureOptimizers`.
   */
  setup(_trainer: Trainer, _module: LightningModule, _stage: Stage): void {}
  /**
   * Called when `fit`, `validate`, `test` or `predict` (`stage`) has finished, before the module's and the
   * datamodule's `teardown`; not called when the run fails (see {@link Callback.onException}).
   */
  teardown(_trainer: Trainer, _module: LightningModule, _stage: Stage): void {}
  /**
   * Called by `fit` once the module, optimizers and dataloaders are set up and any `ckptPath` is restored,
   * before the sanity check and the first epoch.
   */
  onFitStart(_trainer: Trainer, _module: LightningModule): void {}
  /** Called by `fit` after training has ended (after `onTrainEnd`), before `teardown`. */
  onFitEnd(_trainer: Trainer, _module: LightningModule): void {}
  /**
   * Called before the sanity check's validation batches (only at the start of a fit that does not resume
   * and has validation data with `numSanityValSteps` not 0).
   */
  onSanityCheckStart(_trainer: Trainer, _module: LightningModule): void {}
  /** Called after the sanity check's validation loop, before its metrics are discarded. */
  onSanityCheckEnd(_trainer: Trainer, _module: LightningModule): void {}
  /** Called once per `fit` after the sanity check, before the first training epoch. */
  onTrainStart(_trainer: Trainer, _module: LightningModule): void {}
  /** Called once per `fit` after the last training epoch (a limit or a requested stop), before `onFitEnd`. */
  onTrainEnd(_trainer: Trainer, _module: LightningModule): void {}
  /**
   * Called at the start of every training epoch (a resumed one too), after the module is put in train mode,
   * before its first batch.
   */
  onTrainEpochStart(_trainer: Trainer, _module: LightningModule): void {}
  /**
   * Called after the epoch's last batch and any validation after it, before the epoch's training metrics are
   * logged and epoch schedulers step; ModelCheckpoint and EarlyStopping run after the module's own hook.
   */
  onTrainEpochEnd(_trainer: Trainer, _module: LightningModule): void {}
  /**
   * Called before `trainingStep` for each training batch (`batchIdx` within the epoch). Its return value is
   * ignored: Lightning's `-1` to skip the rest of the epoch is not supported.
   */
  onTrainBatchStart(_trainer: Trainer, _module: LightningModule, _batch: unknown, _batchIdx: number): void {}
  /**
   * Called after the batch's optimization (its optimizer step at the end of an accumulation window), before
   * its step metrics are logged and any validation; `outputs` is `{ loss }` (a number), or `{}` under manual
   * optimization or when `trainingStep` returned no loss. A checkpoint saved here resumes after this batch.
   */
  onTrainBatchEnd(
    _trainer: Trainer,
    _module: LightningModule,
    _outputs: Record<string, number>,
    _batch: unknown,
    _batchIdx: number,
  ): void {}
  /**
   * Called when a validation loop starts (the sanity check, each validation during `fit`, and `validate`),
   * after the module is put in eval mode.
   */
  onValidationStart(_trainer: Trainer, _module: LightningModule): void {}
  /**
   * Called at the end of a validation loop, after its epoch metrics are reduced and logged; ModelCheckpoint
   * and EarlyStopping run after the module's own hook.
   */
  onValidationEnd(_trainer: Trainer, _module: LightningModule): void {}
  /** Called right after `onValidationStart`, before the first validation batch. */
  onValidationEpochStart(_trainer: Trainer, _module: LightningModule): void {}
  /**
   * Called after the last validation batch, before the epoch's validation metrics are reduced and logged, so
   * metrics logged here are included.
   */
  onValidationEpochEnd(_trainer: Trainer, _module: LightningModule): void {}
  /** Called before `validationStep` for each validation batch (`batchIdx` within this loop). */
  onValidationBatchStart(
    _trainer: Trainer,
    _module: LightningModule,
    _batch: unknown,
    _batchIdx: number,
  ): void {}
  /**
   * Called after `validationStep` with what it returned (`outputs`); tensors the step made are disposed after
   * this hook, so clone any you keep.
   */
  onValidationBatchEnd(
    _trainer: Trainer,
    _module: LightningModule,
    _outputs: unknown,
    _batch: unknown,
    _batchIdx: number,
  ): void {}
  /** Called when `test` starts its loop, after the module is put in eval mode. */
  onTestStart(_trainer: Trainer, _module: LightningModule): void {}
  /** Called at the end of `test`'s loop, after its epoch metrics are reduced and logged. */
  onTestEnd(_trainer: Trainer, _module: LightningModule): void {}
  /** Called right after `onTestStart`, before the first test batch. */
  onTestEpochStart(_trainer: Trainer, _module: LightningModule): void {}
  /**
   * Called after the last test batch, before the epoch's test metrics are reduced and logged, so metrics
   * logged here are included.
   */
  onTestEpochEnd(_trainer: Trainer, _module: LightningModule): void {}
  /** Called before `testStep` for each test batch (`batchIdx` within the loop). */
  onTestBatchStart(_trainer: Trainer, _module: LightningModule, _batch: unknown, _batchIdx: number): void {}
  /**
   * Called after `testStep` with what it returned (`outputs`); tensors the step made are disposed after this
   * hook, so clone any you keep.
   */
  onTestBatchEnd(
    _trainer: Trainer,
    _module: LightningModule,
    _outputs: unknown,
    _batch: unknown,
    _batchIdx: number,
  ): void {}
  /** Called when `predict` starts its loop, after the module is put in eval mode. */
  onPredictStart(_trainer: Trainer, _module: LightningModule): void {}
  /** Called after the last prediction batch, before `predict` returns the outputs. */
  onPredictEnd(_trainer: Trainer, _module: LightningModule): void {}
  /**
   * Called after each batch's `predictStep` (or `forward`) with its output (`outputs`), which is kept: the
   * caller of `predict` owns it.
   */
  onPredictBatchEnd(
    _trainer: Trainer,
    _module: LightningModule,
    _outputs: unknown,
    _batch: unknown,
    _batchIdx: number,
  ): void {}
  /**
   * Called with the loss `trainingStep` returned (before division by `accumulateGradBatches`), inside the
   * gradient tape, just before gradients are computed. Automatic optimization only.
   */
  onBeforeBackward(_trainer: Trainer, _module: LightningModule, _loss: tf.Scalar): void {}
  /**
   * Called after each batch's backward (every batch of an accumulation window; every evaluation of a closure
   * optimizer such as LBFGS), before any optimizer step. Automatic optimization only.
   */
  onAfterBackward(_trainer: Trainer, _module: LightningModule): void {}
  /**
   * Called at the end of each accumulation window (and on the epoch's last batch), before gradient clipping
   * and `optimizer.step()`; for LBFGS, in each closure evaluation. Automatic optimization only.
   */
  onBeforeOptimizerStep(_trainer: Trainer, _module: LightningModule, _optimizer: Optimizer): void {}
  /**
   * Called before `optimizer.zeroGrad()`, at the start of each accumulation window before its first
   * `trainingStep` (each closure evaluation for LBFGS). Automatic optimization only.
   */
  onBeforeZeroGrad(_trainer: Trainer, _module: LightningModule, _optimizer: Optimizer): void {}
  /**
   * Called by every `trainer.saveCheckpoint` (ModelCheckpoint saves on every rank) once the dict is
   * assembled, with the callbacks' `stateDict`s unless weights-only, before it is written: edit it in place.
   */
  onSaveCheckpoint(_trainer: Trainer, _module: LightningModule, _checkpoint: Record<string, unknown>): void {}
  /**
   * Called when a `ckptPath` is restored, after the weights (and, resuming a fit, optimizers and schedulers)
   * are loaded, before callbacks' `loadStateDict` and the loop state; `checkpoint.stateDict` is null.
   */
  onLoadCheckpoint(_trainer: Trainer, _module: LightningModule, _checkpoint: Record<string, unknown>): void {}
  /**
   * Called when `fit`, `validate`, `test` or `predict` throws after the setup hooks and `configureModel`,
   * before the error propagates; `teardown` is then not called.
   */
  onException(_trainer: Trainer, _module: LightningModule, _error: unknown): void {}
  /**
   * The callback's state, saved under `checkpoint.callbacks[stateKey]` by every full (not weights-only)
   * checkpoint, before `onSaveCheckpoint`.
   */
  stateDict(): Record<string, unknown> {
    return {};
  }
  /**
   * Restores {@link Callback.stateDict} when `fit` resumes from a `ckptPath` holding this callback's entry,
   * after `onLoadCheckpoint`.
   */
  loadStateDict(_state: Record<string, unknown>): void {}
}

/** The names of the hooks a callback or module can have, for calling them by name. */
export type HookName = Exclude<keyof Callback, "stateKey" | "stateDict" | "loadStateDict">;
