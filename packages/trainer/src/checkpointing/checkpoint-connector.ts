import { FulmenError } from "@fulmen/core";
import type { FitLoopState } from "../loops/fit-loop";
import type { Trainer } from "../trainer";

const VERSION = "0.1.0";

/**
 * Writes a checkpoint of the whole training state (Lightning's `trainer.save_checkpoint`): weights and
 * hyperparameters, and unless `weightsOnly` the optimizers, schedulers, callbacks, datamodule and the fit loop's
 * progress (mid-epoch included). Callbacks and the module may add to it in `onSaveCheckpoint`.
 */
export function saveCheckpoint(trainer: Trainer, path: string, weightsOnly: boolean): void {
  const fabric = trainer.fabric;
  if (fabric === null) throw new FulmenError("saveCheckpoint works once the Trainer has run.");
  const module = trainer.lightningModule;
  const checkpoint: Record<string, unknown> = {
    epoch: trainer.fitLoop.progress.epoch,
    globalStep: trainer.globalStep,
    fulmenVersion: VERSION,
    stateDict: module,
    hyperParameters: module.hparams,
  };
  if (!weightsOnly) {
    checkpoint.optimizerStates = trainer.optimizers;
    checkpoint.lrSchedulers = trainer.lrSchedulerConfigs.map((c) => c.scheduler);
    checkpoint.callbacks = Object.fromEntries(trainer.callbacks.map((c) => [c.stateKey, c.stateDict()]));
    checkpoint.loops = trainer.fitLoop.stateDict();
    if (trainer.datamodule !== null) checkpoint.datamodule = trainer.datamodule.stateDict();
  }
  for (const c of trainer.callbacks) c.onSaveCheckpoint(trainer, module, checkpoint);
  module.onSaveCheckpoint?.(checkpoint);
  fabric.save(path, checkpoint);
}

/** A `ckptPath` as given ("last", "best" or a path) as a path. */
export function resolveCkptPath(trainer: Trainer, ckptPath: string): string {
  if (ckptPath !== "last" && ckptPath !== "best") return ckptPath;
  const cb = trainer.checkpointCallback;
  const path = ckptPath === "last" ? cb?.lastCheckpointPath() : cb?.bestModelPath;
  if (!path) {
    throw new FulmenError(
      `ckptPath "${ckptPath}": there is no ${ckptPath} checkpoint (is a ModelCheckpoint callback saving one?).`,
    );
  }
  return path;
}

/**
 * Loads a checkpoint: the weights and hyperparameters always; with `full` (resuming a fit) also the optimizers,
 * schedulers, global step, callbacks, datamodule and the fit loop, so training continues where it stopped.
 */
export function restoreCheckpoint(trainer: Trainer, path: string, full: boolean): void {
  const fabric = trainer.fabric!;
  const module = trainer.lightningModule;
  const state: Record<string, unknown> = { stateDict: module };
  if (full) {
    state.optimizerStates = trainer.optimizers;
    state.lrSchedulers = trainer.lrSchedulerConfigs.map((c) => c.scheduler);
  }
  const rest = fabric.load(path, state, { strict: false }) as Record<string, unknown>;
  module.hparams = (rest.hyperParameters as Record<string, unknown>) ?? module.hparams;
  const checkpoint = { ...rest, stateDict: null };
  for (const c of trainer.callbacks) c.onLoadCheckpoint(trainer, module, checkpoint);
  module.onLoadCheckpoint?.(checkpoint);
  if (!full) return;
  trainer.globalStep = Number(rest.globalStep ?? 0);
  const callbacks = (rest.callbacks as Record<string, Record<string, unknown>>) ?? {};
  for (const c of trainer.callbacks)
    if (callbacks[c.stateKey] !== undefined) c.loadStateDict(callbacks[c.stateKey]!);
  if (trainer.datamodule !== null && rest.datamodule !== undefined)
    trainer.datamodule.loadStateDict(rest.datamodule as Record<string, unknown>);
  if (rest.loops !== undefined) trainer.fitLoop.loadStateDict(rest.loops as FitLoopState);
}
