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
  if (optimizer.requiresClosure) return closureOptimizationStep(trainer, optimizer, batch, batchIdx);
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

/**
 * Automatic optimization for an optimizer that re-evaluates the loss inside its step (LBFGS): as Lightning always
 * does, zero_grad + `trainingStep` + backward become a closure given to `optimizer.step(closure)`, which calls it
 * as often as it needs. After each backward come `onAfterBackward`, `onBeforeOptimizerStep` and gradient clipping
 * (Lightning's `_after_closure`), so the optimizer reads clipped gradients. Under several processes the loss the
 * optimizer reads is the mean over ranks (the gradients are averaged too). Like Lightning's `Closure`, the
 * batch's loss is this rank's of the LAST evaluation. Returns it (or null when `trainingStep` returned none).
 */
function closureOptimizationStep(
  trainer: Trainer,
  optimizer: Optimizer,
  batch: unknown,
  batchIdx: number,
): number | null {
  const module = trainer.lightningModule;
  const fabric = trainer.fabric!;
  const name = optimizer.constructor.name;
  // Lightning zeroes the gradients only in a window's first closure, so every later evaluation of the optimizer
  // would add its gradients onto the previous ones: refused rather than silently optimising the wrong function.
  if (trainer.options.accumulateGradBatches !== 1) {
    throw new FulmenError(
      `accumulateGradBatches = ${trainer.options.accumulateGradBatches} does not work with ${name}, which re-evaluates the loss and gradients inside its step; use accumulateGradBatches = 1 (a larger batch instead).`,
    );
  }
  let evaluations = 0;
  let last = 0;
  const closure = (): tf.Scalar => {
    callHook(trainer, "onBeforeZeroGrad", optimizer);
    optimizer.zeroGrad();
    const loss = tf.tidy(() =>
      fabric.backward(() => {
        const value = lossOf(fabric.autocast(() => module.trainingStep!(batch as never, batchIdx)));
        if (value === null) throw SKIP;
        if (trainer.options.detectAnomaly) checkFinite(trainer, value, batchIdx);
        callHook(trainer, "onBeforeBackward", value);
        return value as tf.Scalar;
      }, module),
    );
    evaluations += 1;
    last = loss.dataSync()[0]!;
    callHook(trainer, "onAfterBackward");
    callHook(trainer, "onBeforeOptimizerStep", optimizer);
    clipGradients(trainer, optimizer);
    if (trainer.worldSize === 1) return loss;
    // Every rank's optimizer sees the loss averaged over ranks, the function whose gradient the averaged
    // gradients are: with its own loss each rank's line search would decide differently, and the collectives of
    // the next evaluation would never meet.
    const mean = fabric.allReduce(loss, { reduceOp: "mean" }) as tf.Scalar;
    loss.dispose();
    return mean;
  };
  let result: unknown;
  try {
    result = profiled(trainer.profiler, "optimizer_step", () => optimizer.step(closure));
  } catch (e) {
    if (e !== SKIP) throw e;
    // Skipping is only possible before the optimizer has used any evaluation (Lightning would fail later on).
    if (evaluations === 0) return null;
    throw new FulmenError(
      `trainingStep returned no loss in a later evaluation of ${name}'s closure (batch ${batchIdx}); it must return a loss every time it is called for the same batch.`,
    );
  }
  // The step hands back the first evaluation's loss, which the caller owns.
  if (result instanceof tf.Tensor && !result.isDisposed) result.dispose();
  return last;
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
