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
  setup(_trainer: Trainer, _module: LightningModule, _stage: Stage): void {}
  teardown(_trainer: Trainer, _module: LightningModule, _stage: Stage): void {}
  onFitStart(_trainer: Trainer, _module: LightningModule): void {}
  onFitEnd(_trainer: Trainer, _module: LightningModule): void {}
  onSanityCheckStart(_trainer: Trainer, _module: LightningModule): void {}
  onSanityCheckEnd(_trainer: Trainer, _module: LightningModule): void {}
  onTrainStart(_trainer: Trainer, _module: LightningModule): void {}
  onTrainEnd(_trainer: Trainer, _module: LightningModule): void {}
  onTrainEpochStart(_trainer: Trainer, _module: LightningModule): void {}
  onTrainEpochEnd(_trainer: Trainer, _module: LightningModule): void {}
  onTrainBatchStart(_trainer: Trainer, _module: LightningModule, _batch: unknown, _batchIdx: number): void {}
  onTrainBatchEnd(
    _trainer: Trainer,
    _module: LightningModule,
    _outputs: Record<string, number>,
    _batch: unknown,
    _batchIdx: number,
  ): void {}
  onValidationStart(_trainer: Trainer, _module: LightningModule): void {}
  onValidationEnd(_trainer: Trainer, _module: LightningModule): void {}
  onValidationEpochStart(_trainer: Trainer, _module: LightningModule): void {}
  onValidationEpochEnd(_trainer: Trainer, _module: LightningModule): void {}
  onValidationBatchStart(
    _trainer: Trainer,
    _module: LightningModule,
    _batch: unknown,
    _batchIdx: number,
  ): void {}
  onValidationBatchEnd(
    _trainer: Trainer,
    _module: LightningModule,
    _outputs: unknown,
    _batch: unknown,
    _batchIdx: number,
  ): void {}
  onTestStart(_trainer: Trainer, _module: LightningModule): void {}
  onTestEnd(_trainer: Trainer, _module: LightningModule): void {}
  onTestEpochStart(_trainer: Trainer, _module: LightningModule): void {}
  onTestEpochEnd(_trainer: Trainer, _module: LightningModule): void {}
  onTestBatchStart(_trainer: Trainer, _module: LightningModule, _batch: unknown, _batchIdx: number): void {}
  onTestBatchEnd(
    _trainer: Trainer,
    _module: LightningModule,
    _outputs: unknown,
    _batch: unknown,
    _batchIdx: number,
  ): void {}
  onPredictStart(_trainer: Trainer, _module: LightningModule): void {}
  onPredictEnd(_trainer: Trainer, _module: LightningModule): void {}
  onPredictBatchEnd(
    _trainer: Trainer,
    _module: LightningModule,
    _outputs: unknown,
    _batch: unknown,
    _batchIdx: number,
  ): void {}
  onBeforeBackward(_trainer: Trainer, _module: LightningModule, _loss: tf.Scalar): void {}
  onAfterBackward(_trainer: Trainer, _module: LightningModule): void {}
  onBeforeOptimizerStep(_trainer: Trainer, _module: LightningModule, _optimizer: Optimizer): void {}
  onBeforeZeroGrad(_trainer: Trainer, _module: LightningModule, _optimizer: Optimizer): void {}
  onSaveCheckpoint(_trainer: Trainer, _module: LightningModule, _checkpoint: Record<string, unknown>): void {}
  onLoadCheckpoint(_trainer: Trainer, _module: LightningModule, _checkpoint: Record<string, unknown>): void {}
  onException(_trainer: Trainer, _module: LightningModule, _error: unknown): void {}
  /** State saved in checkpoints. */
  stateDict(): Record<string, unknown> {
    return {};
  }
  /** Restores {@link Callback.stateDict}. */
  loadStateDict(_state: Record<string, unknown>): void {}
}

/** The names of the hooks a callback or module can have, for calling them by name. */
export type HookName = Exclude<keyof Callback, "stateKey" | "stateDict" | "loadStateDict">;
