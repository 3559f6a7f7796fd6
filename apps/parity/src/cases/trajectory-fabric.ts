import { type LRScheduler, nn, type Optimizer, tf } from "@fulmen/core";
import { Fabric } from "@fulmen/fabric";
import type { CaseOutcome, GoldenCase, Nested } from "../golden";
import { toFulmenOptions } from "../hparams";
import { buildSequential } from "../model-spec";
import { makeOptimizer } from "./optimizer-case";
import { SCHEDULERS } from "./scheduler-case";
import {
  compare,
  loadInit,
  precisionOf,
  type Recipe,
  type TrajectoryContext,
  wholeGradients,
} from "./trajectory-common";

/**
 * Replays a whole training run through Fabric: the recipe's optimizer, scheduler (per step or per epoch),
 * clipping, gradient accumulation and precision, on the file's data in order. Compares every micro-batch loss,
 * every learning rate, every clip norm, the first micro-batch's gradients and the final weights.
 */
export async function runTrajectoryCase(
  c: GoldenCase,
  ctx: TrajectoryContext,
  accelerator = "cpu",
  devices = 1,
  strategy = devices > 1 ? "ddp" : "auto",
): Promise<CaseOutcome> {
  const recipe = c.recipe as Recipe;
  const precision = precisionOf(recipe);
  const fabric = new Fabric({ accelerator, precision, devices, strategy });
  await fabric.launch();
  const rank = fabric.globalRank;
  // With several ranks each takes its share of every batch (rows rank, rank + devices, …, as the
  // DistributedSampler deals them); the mean over ranks of the per-rank means is the whole batch's mean.
  const share = <T>(rows: T[]): T[] => (devices === 1 ? rows : rows.filter((_, i) => i % devices === rank));
  const meanOverRanks = (t: tf.Tensor): tf.Tensor => (devices === 1 ? t.clone() : fabric.allReduce(t));
  const model = buildSequential(ctx.model);
  loadInit(model, ctx.init_state);
  const [m, optimizer] = fabric.setup(
    model,
    makeOptimizer(recipe.optimizer[0], model.parameters(), recipe.optimizer[1]) as Optimizer,
  );
  let scheduler: LRScheduler | null = null;
  if (recipe.scheduler !== undefined) {
    const factory = SCHEDULERS[recipe.scheduler[0]];
    if (factory === undefined) throw new Error(`unknown scheduler '${recipe.scheduler[0]}'`);
    scheduler = factory(optimizer, toFulmenOptions(recipe.scheduler[1]));
  }
  const { X, Y, batch_size: batchSize } = ctx.data;
  const losses: number[] = [];
  const lrs: number[] = [];
  const norms: number[] = [];
  let firstGrads: Record<string, Nested> | null = null;
  let microStep = 0;
  try {
    for (let epoch = 0; epoch < recipe.epochs; epoch++) {
      for (let start = 0; start < X.length; start += batchSize) {
        const x = tf.tensor2d(share(X.slice(start, start + batchSize)));
        const y = tf.tensor1d(share(Y.slice(start, start + batchSize)), "int32");
        microStep += 1;
        const boundary = microStep === recipe.accumulate;
        tf.tidy(() => {
          const micro = () =>
            fabric.backward(() => {
              const loss = nn.crossEntropy(m.forward(x) as tf.Tensor, y);
              return tf.div(loss, recipe.accumulate) as tf.Scalar;
            });
          const scaledLoss = boundary ? micro() : fabric.noBackwardSync(m, micro);
          losses.push(meanOverRanks(scaledLoss).dataSync()[0]! * recipe.accumulate);
        });
        x.dispose();
        y.dispose();
        if (firstGrads === null) {
          // Inside noBackwardSync the grads are still this rank's own: report their mean over ranks.
          firstGrads = tf.tidy(() =>
            Object.fromEntries(
              wholeGradients(fabric.strategy, m).map(([k, g]) => [k, meanOverRanks(g).arraySync() as Nested]),
            ),
          );
        }
        if (!boundary) continue;
        microStep = 0;
        if (recipe.clip?.[0] === "norm") {
          const normType = recipe.clip[2] === "inf" ? Number.POSITIVE_INFINITY : Number(recipe.clip[2]);
          const total = fabric.clipGradients(m, optimizer, { maxNorm: recipe.clip[1], normType })!;
          norms.push(total.dataSync()[0]!);
          total.dispose();
        } else if (recipe.clip?.[0] === "value") {
          fabric.clipGradients(m, optimizer, { clipVal: recipe.clip[1] });
        }
        lrs.push(optimizer.paramGroups[0]!.lr);
        optimizer.step();
        optimizer.zeroGrad();
        if (scheduler !== null && recipe.scheduler![2] === "step") scheduler.step();
      }
      if (scheduler !== null && recipe.scheduler![2] === "epoch") scheduler.step();
    }
    const finalState = Object.fromEntries(
      Object.entries(m.stateDict()).map(([k, t]) => [k, t.arraySync() as Nested]),
    );
    const results = {
      micro_batch_losses: losses,
      lr_at_each_optimizer_step: lrs,
      clip_total_norms: norms,
      first_micro_batch_grads: firstGrads,
      final_state: finalState,
    };
    const where = devices > 1 ? `, ${strategy} × ${devices}` : "";
    return {
      label: `trajectory ${recipe.name} (${precision}${where})`,
      ...compare(c, results, precision, devices),
      results,
    };
  } finally {
    model.dispose();
    optimizer.disposeState();
  }
}
