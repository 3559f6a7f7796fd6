import type { FabricDataLoader } from "@fulmen/fabric";
import { callHook } from "../hooks";
import type { LightningModule } from "../lightning-module";
import { keepTensors } from "../tensor-tree";
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
    // The caller owns the outputs, also where they are tensors of the batch (`return [model(x), y]`): the loader
    // releases the rest of the batch when the next one is drawn.
    loader.keep(out);
    outputs.push(out);
    callHook(trainer, "onPredictBatchEnd", out, batch, batchIdx);
    batchIdx += 1;
  }
  callHook(trainer, "onPredictEnd");
  return outputs;
}
