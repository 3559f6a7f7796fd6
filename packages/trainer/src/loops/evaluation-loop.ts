import { FulmenError, tf } from "@fulmen/core";
import type { FabricDataLoader } from "@fulmen/fabric";
import { callHook } from "../hooks";
import { batchSizeOf } from "../logging/metric-store";
import { profiled } from "../profiler/simple-profiler";
import { disposeMadeSince, newestTensorId } from "../tensor-tree";
import type { Trainer } from "../trainer";

const HOOKS = {
  validate: [
    "onValidationStart",
    "onValidationEpochStart",
    "onValidationBatchStart",
    "onValidationBatchEnd",
    "onValidationEpochEnd",
    "onValidationEnd",
  ],
  test: [
    "onTestStart",
    "onTestEpochStart",
    "onTestBatchStart",
    "onTestBatchEnd",
    "onTestEpochEnd",
    "onTestEnd",
  ],
} as const;

/**
 * Lightning's evaluation loop: runs up to `limit` validation or test batches through the module's
 * `validationStep` / `testStep` in eval mode, and returns the epoch's reduced metrics. With `log`, they go to the
 * loggers too (never during the sanity check).
 */
export function runEvaluationLoop(
  trainer: Trainer,
  stage: "validate" | "test",
  loader: FabricDataLoader<unknown, unknown>,
  limit: number,
  log: boolean,
): Record<string, number> {
  const module = trainer.lightningModule;
  const fabric = trainer.fabric!;
  const metrics = trainer.loggerConnector;
  const [start, epochStart, batchStart, batchEnd, epochEnd, end] = HOOKS[stage];
  const step = (stage === "validate" ? module.validationStep : module.testStep)?.bind(module);
  if (step === undefined) return {};
  const previousStage = trainer.state.stage;
  if (trainer.state.stage !== "sanity_check") trainer.state.stage = stage;
  metrics.useStore(stage);
  module.eval();
  callHook(trainer, start);
  callHook(trainer, epochStart);
  let batchIdx = 0;
  // Batches are released by the loader when the next one is drawn (or the loop ends).
  for (const batch of loader) {
    if (batchIdx >= limit) break;
    metrics.setContext("eval-step", batchSizeOf(batch));
    callHook(trainer, batchStart, batch, batchIdx);
    const mark = newestTensorId();
    // The step's own intermediate tensors are freed; what it returns lives until the batch-end hooks have seen
    // it (Lightning hands `outputs` to on_validation_batch_end / on_test_batch_end).
    const out = profiled(trainer.profiler, `${stage}_step`, () =>
      tf.tidy(() => {
        const result = fabric.autocast(() => step(batch as never, batchIdx));
        if (result instanceof Promise)
          throw new FulmenError(
            `${stage === "validate" ? "validationStep" : "testStep"} returned a Promise: steps run synchronously (as TensorFlow.js's gradient tape does); remove async.`,
          );
        return result as tf.TensorContainer;
      }),
    );
    callHook(trainer, batchEnd, out, batch, batchIdx);
    disposeMadeSince(out, mark);
    // `onStep` metrics go to the loggers batch by batch (never those of the sanity check).
    if (log && trainer.state.stage !== "sanity_check") metrics.logEvalStepMetrics(stage);
    batchIdx += 1;
  }
  metrics.setContext("epoch-end");
  callHook(trainer, epochEnd);
  const reduced = metrics.stores[stage].endEpoch();
  if (log && trainer.state.stage !== "sanity_check")
    metrics.logMetrics(reduced, Math.max(0, trainer.globalStep - 1), trainer.currentEpoch);
  callHook(trainer, end);
  trainer.state.stage = previousStage;
  return reduced;
}
