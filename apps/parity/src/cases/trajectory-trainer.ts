import { DataLoader, type Module, nn, type Optimizer, tf } from "@fulmen/core";
import { LightningModule, type OptimizerConfig, Trainer } from "@fulmen/trainer";
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

type Batch = [tf.Tensor2D, tf.Tensor1D];

/** The recipe written as a LightningModule, recording what the golden file holds. */
class RecipeModule extends LightningModule {
  readonly losses: number[] = [];
  readonly lrs: number[] = [];
  readonly norms: number[] = [];
  firstGrads: Record<string, Nested> | null = null;

  constructor(
    readonly net: Module & { forward(x: tf.Tensor): tf.Tensor },
    private readonly recipe: Recipe,
  ) {
    super();
  }

  override forward(x: tf.Tensor): tf.Tensor {
    return this.net.forward(x);
  }

  /** The mean over ranks (each rank holds its share of the batch); the value itself with one process. */
  private meanOverRanks(t: tf.Tensor): tf.Tensor {
    return this.trainer!.worldSize > 1 ? this.trainer!.strategy.allReduce(t, "mean") : t.clone();
  }

  override trainingStep([x, y]: Batch): tf.Scalar {
    const loss = nn.crossEntropy(this.forward(x), y) as tf.Scalar;
    this.losses.push(tf.tidy(() => this.meanOverRanks(loss).dataSync()[0]!));
    return loss;
  }

  override onAfterBackward(): void {
    if (this.firstGrads !== null) return;
    this.firstGrads = tf.tidy(() =>
      Object.fromEntries(
        wholeGradients(this.trainer!.strategy, this.net).map(([k, g]) => [
          k,
          this.meanOverRanks(g).arraySync() as Nested,
        ]),
      ),
    );
  }

  override onBeforeOptimizerStep(optimizer: Optimizer): void {
    this.lrs.push(optimizer.paramGroups[0]!.lr);
  }

  override configureGradientClipping(optimizer: Optimizer): void {
    const clip = this.recipe.clip;
    if (clip?.[0] === "norm") {
      const normType = clip[2] === "inf" ? Number.POSITIVE_INFINITY : Number(clip[2]);
      this.norms.push(this.clipGradients(optimizer, { maxNorm: clip[1], normType })!);
    } else if (clip?.[0] === "value") {
      this.clipGradients(optimizer, { clipVal: clip[1] });
    }
  }

  override configureOptimizers(): OptimizerConfig {
    const optimizer = makeOptimizer(this.recipe.optimizer[0], this.parameters(), this.recipe.optimizer[1]);
    if (this.recipe.scheduler === undefined) return optimizer;
    const [name, hparams, interval] = this.recipe.scheduler;
    const factory = SCHEDULERS[name];
    if (factory === undefined) throw new Error(`unknown scheduler '${name}'`);
    return { optimizer, lrScheduler: { scheduler: factory(optimizer, toFulmenOptions(hparams)), interval } };
  }
}

/**
 * Replays a whole training run as a LightningModule through the Trainer: accumulation is the Trainer's
 * `accumulateGradBatches`, the precision its `precision`, clipping the module's `configureGradientClipping`
 * (the recipes clip with norm types the Trainer's flags do not offer), the scheduler's interval its config.
 */
export async function runTrajectoryViaTrainer(
  c: GoldenCase,
  ctx: TrajectoryContext,
  accelerator = "cpu",
  devices = 1,
  strategy = devices > 1 ? "ddp" : "auto",
): Promise<CaseOutcome> {
  const recipe = c.recipe as Recipe;
  const precision = precisionOf(recipe);
  const net = buildSequential(ctx.model);
  loadInit(net, ctx.init_state);
  const module = new RecipeModule(net as Module & { forward(x: tf.Tensor): tf.Tensor }, recipe);
  const { X, Y, batch_size: batchSize } = ctx.data;
  const rows = X.map((x, i) => [x, Y[i]!] as const);
  const data = new DataLoader<readonly [number[], number], Batch>(
    { length: rows.length, get: (i) => rows[i]! },
    {
      // Each rank's DistributedSampler deals it batchSize / devices rows of every global batch.
      batchSize: batchSize / devices,
      collateFn: (samples) => [
        tf.tensor2d(samples.map((s) => s[0])),
        tf.tensor1d(
          samples.map((s) => s[1]),
          "int32",
        ),
      ],
    },
  );
  const trainer = new Trainer({
    accelerator,
    precision,
    devices,
    strategy,
    maxEpochs: recipe.epochs,
    accumulateGradBatches: recipe.accumulate,
    logger: false,
    enableCheckpointing: false,
    enableProgressBar: false,
    enableModelSummary: false,
    numSanityValSteps: 0,
  });
  try {
    await trainer.fit(module, { trainDataloaders: data as DataLoader<unknown, unknown> });
    const results = {
      micro_batch_losses: module.losses,
      lr_at_each_optimizer_step: module.lrs,
      clip_total_norms: module.norms,
      first_micro_batch_grads: module.firstGrads,
      final_state: Object.fromEntries(
        Object.entries(net.stateDict()).map(([k, t]) => [k, t.arraySync() as Nested]),
      ),
    };
    return {
      label: `trajectory ${recipe.name} via Trainer (${precision}${devices > 1 ? `, ${strategy} × ${devices}` : ""})`,
      ...compare(c, results, precision, devices),
      results,
    };
  } finally {
    module.dispose();
    for (const o of trainer.optimizers) o.disposeState();
  }
}
