import type { FabricDataLoader } from "@fulmen/fabric";
import { callHook } from "../hooks";
import type { LightningModule } from "../lightning-module";
import { disposeTensors, keepTensors } from "../tensor-tree";
import type { Trainer } from "../trainer";

/**
 * Lightning's prediction loop: runs up to `limit` batches through `predictStep` (or the forward of `model`, the
 * module as Fabric set it up) in eval mode and returns the outputs, whose tensors the caller owns.
 */
export function runPredictLoop(
  trainer: Trainer,
  model: LightningModule,
  loader: FabricDataLoader<unknown, unknown>,
  limit: number,
): unknown[] {
  const module = trainer.lightningModule;
  const fabric = trainer.fabric!;
  trainer.state.stage = "predict";
  model.eval();
  callHook(trainer, "onPredictStart");
  const outputs: unknown[] = [];
  let batchIdx = 0;
  for (const batch of loader) {
    if (batchIdx >= limit) break;
    const out = fabric.autocast(() =>
      module.predictStep
        ? module.predictStep(batch as never, batchIdx)
        : (model.forward as (b: unknown) => unknown)(batch),
    );
    keepTensors(out);
    outputs.push(out);
    callHook(trainer, "onPredictBatchEnd", out, batch, batchIdx);
    disposeTensors(batch);
    batchIdx += 1;
  }
  callHook(trainer, "onPredictEnd");
  return outputs;
}
