import { FulmenError, type Optimizer, tf } from "@fulmen/core";
import { callHook } from "../hooks";
import { lossOf } from "../lightning-module";
import { profiled } from "../profiler/simple-profiler";
import type { Trainer } from "../trainer";

/** Thrown out of the backward closure when `trainingStep` returns no loss: the batch is skipped. */
const SKIP = Symbol("fulmen.skipBatch");

/**
 * Lightning's automatic optimization of one training batch: zero the gradients at the start of an accumulation
 * window, run `trainingStep` and backward (gradients are averaged across ranks only at the window's end: DDP's
 * `no_sync` for the rest), then clip and step the optimizer at the window's end. Returns the batch's loss, or
 * null when `trainingStep` returned none (Lightning skips such a batch).
 */
export function automaticOptimizationStep(
  trainer: Trainer,
  batch: unknown,
  batchIdx: number,
  isLastBatch: boolean,
): number | null {
  const module = trainer.lightningModule;
  const fabric = trainer.fabric!;
  if (trainer.optimizers.length > 1) {
    throw new FulmenError(
      "Several optimizers need manual optimization: set automaticOptimization = false in the module.",
    );
  }
  const optimizer = trainer.optimizers[0]!;
  const accumulate = trainer.options.accumulateGradBatches;
  const boundary = (batchIdx + 1) % accumulate === 0 || isLastBatch;
  if (batchIdx % accumulate === 0) {
    callHook(trainer, "onBeforeZeroGrad", optimizer);
    optimizer.zeroGrad();
  }
  const backward = (): tf.Scalar =>
    tf.tidy(() =>
      fabric.backward(() => {
        const value = lossOf(fabric.autocast(() => module.trainingStep!(batch as never, batchIdx)));
        if (value === null) throw SKIP;
        if (trainer.options.detectAnomaly) checkFinite(trainer, value, batchIdx);
        callHook(trainer, "onBeforeBackward", value);
        return (accumulate === 1 ? value : tf.div(value, accumulate)) as tf.Scalar;
      }, module),
    );
  let loss: tf.Scalar;
  try {
    loss = boundary ? backward() : fabric.noBackwardSync(module, backward);
  } catch (e) {
    if (e === SKIP) return null;
    throw e;
  }
  const value = loss.dataSync()[0]! * accumulate;
  loss.dispose();
  callHook(trainer, "onAfterBackward");
  if (boundary) {
    callHook(trainer, "onBeforeOptimizerStep", optimizer);
    clipGradients(trainer, optimizer);
    profiled(trainer.profiler, "optimizer_step", () => optimizer.step());
  }
  return value;
}

/** Manual optimization: `trainingStep` runs backward and steps its optimizers itself. */
export function manualOptimizationStep(trainer: Trainer, batch: unknown, batchIdx: number): void {
  const module = trainer.lightningModule;
  tf.tidy(() => {
    trainer.fabric!.autocast(() => module.trainingStep!(batch as never, batchIdx));
  });
}

/** `detectAnomaly`: a non-finite loss stops training with where it happened. */
function checkFinite(trainer: Trainer, loss: tf.Scalar, batchIdx: number): void {
  const v = loss.dataSync()[0]!;
  if (Number.isFinite(v)) return;
  throw new FulmenError(
    `detectAnomaly: the training loss is ${v} at epoch ${trainer.currentEpoch}, batch ${batchIdx} (global step ${trainer.globalStep}).`,
  );
}

/** `gradientClipVal` / `gradientClipAlgorithm`, or the module's own `configureGradientClipping`. */
function clipGradients(trainer: Trainer, optimizer: Optimizer): void {
  const value = trainer.options.gradientClipVal;
  const module = trainer.lightningModule;
  if (module.configureGradientClipping) {
    module.configureGradientClipping(optimizer, value, trainer.options.gradientClipAlgorithm);
    return;
  }
  if (value === null || value === 0) return;
  if (trainer.options.gradientClipAlgorithm === "norm") {
    trainer.fabric!.clipGradients(module, optimizer, { maxNorm: value, errorIfNonfinite: false })?.dispose();
  } else {
    trainer.fabric!.clipGradients(module, optimizer, { clipVal: value });
  }
}
