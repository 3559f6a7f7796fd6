import { type LRScheduler, type Module, nn, type Optimizer, type StateDict, tf } from "@fulmen/core";
import { Fabric } from "@fulmen/fabric";
import { type CaseOutcome, type GoldenCase, maxAbsDiff, type Nested } from "../golden";
import { toFulmenOptions } from "../hparams";
import { buildSequential } from "../model-spec";
import { makeOptimizer } from "./optimizer-case";
import { SCHEDULERS } from "./scheduler-case";

/** The shared part of a trajectory golden file: model, data and initial weights. */
export interface TrajectoryContext {
  model: string;
  data: { X: number[][]; Y: number[]; batch_size: number };
  init_state: Record<string, Nested>;
}

interface Recipe {
  name: string;
  optimizer: [string, Record<string, unknown>];
  epochs: number;
  accumulate: number;
  scheduler?: [string, Record<string, unknown>, "step" | "epoch"];
  clip?: ["norm", number, number | string] | ["value", number];
  autocast?: string;
}

/** Tolerances of a trajectory: float32 recipes everywhere 1e-4; autocast recipes as the issue defines them. */
function precisionOf(recipe: Recipe): string {
  if (recipe.autocast === undefined) return "32-true";
  if (recipe.autocast === "bf16") return "bf16-mixed";
  if (recipe.autocast === "fp16" || recipe.autocast === "16") return "16-mixed";
  throw new Error(`unknown autocast '${recipe.autocast}'`);
}

function loadInit(model: Module, init: Record<string, Nested>): void {
  const state: StateDict = {};
  for (const [k, v] of Object.entries(init)) state[k] = tf.tensor(v as number[]);
  model.loadStateDict(state);
  for (const t of Object.values(state)) t.dispose();
}

function relativeL2(a: number[], b: number[]): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

function isBf16(value: number): boolean {
  const f = new Float32Array([value]);
  return (new Uint32Array(f.buffer)[0]! & 0xffff) === 0;
}

/**
 * Replays a whole training run through Fabric: the recipe's optimizer, scheduler (per step or per epoch),
 * clipping, gradient accumulation and precision, on the file's data in order. Compares every micro-batch loss,
 * every learning rate, every clip norm, the first micro-batch's gradients and the final weights.
 */
export function runTrajectoryCase(c: GoldenCase, ctx: TrajectoryContext, accelerator = "cpu"): CaseOutcome {
  const recipe = c.recipe as Recipe;
  const precision = precisionOf(recipe);
  const fabric = new Fabric({ accelerator, precision });
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
        const x = tf.tensor2d(X.slice(start, start + batchSize));
        const y = tf.tensor1d(Y.slice(start, start + batchSize), "int32");
        microStep += 1;
        const boundary = microStep === recipe.accumulate;
        tf.tidy(() => {
          const micro = () =>
            fabric.backward(() => {
              const loss = nn.crossEntropy(m.forward(x) as tf.Tensor, y);
              return tf.div(loss, recipe.accumulate) as tf.Scalar;
            });
          const scaledLoss = boundary ? micro() : fabric.noBackwardSync(m, micro);
          losses.push(scaledLoss.dataSync()[0]! * recipe.accumulate);
        });
        x.dispose();
        y.dispose();
        if (firstGrads === null) {
          firstGrads = Object.fromEntries(
            m.namedParameters().map(([k, p]) => [k, p.grad!.arraySync() as Nested]),
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
    return { label: `trajectory ${recipe.name} (${precision})`, ...compare(c, results, precision), results };
  } finally {
    model.dispose();
    optimizer.disposeState();
  }
}

function compare(
  c: GoldenCase,
  r: Record<string, unknown>,
  precision: string,
): { maxError: number; tolerance: number; error?: string } {
  const keys = [
    "micro_batch_losses",
    "lr_at_each_optimizer_step",
    "clip_total_norms",
    "first_micro_batch_grads",
    "final_state",
  ];
  const sortedDiff = (key: string) => {
    const expected = c[key] as Record<string, Nested> | Nested;
    const got = r[key] as Record<string, Nested> | Nested;
    if (expected !== null && typeof expected === "object" && !Array.isArray(expected)) {
      const gotObj = got as Record<string, Nested>;
      const names = Object.keys(expected);
      if (names.some((n) => !(n in gotObj))) return Number.POSITIVE_INFINITY;
      return Math.max(0, ...names.map((n) => maxAbsDiff(gotObj[n], (expected as Record<string, Nested>)[n])));
    }
    return maxAbsDiff(got, expected);
  };
  if (precision === "32-true") {
    return { maxError: Math.max(...keys.map(sortedDiff)), tolerance: 1e-4 };
  }
  // Autocast recipes: the first micro-batch loss within 1e-6; gradients bf16-representable and within 1e-2
  // relative L2 of PyTorch's; everything else within 2e-2.
  const problems: string[] = [];
  const firstLoss = Math.abs((r.micro_batch_losses as number[])[0]! - (c.micro_batch_losses as number[])[0]!);
  if (firstLoss > 1e-6) problems.push(`first micro-batch loss off by ${firstLoss.toExponential(2)} (> 1e-6)`);
  const gotGrads = r.first_micro_batch_grads as Record<string, Nested>;
  const expGrads = c.first_micro_batch_grads as Record<string, Nested>;
  let worstRel = 0;
  for (const [name, g] of Object.entries(expGrads)) {
    const a = [gotGrads[name]].flat(3) as number[];
    const b = [g].flat(3) as number[];
    if (precision.startsWith("bf16") && a.some((v) => !isBf16(v)))
      problems.push(`gradient ${name} holds values that are not bf16`);
    worstRel = Math.max(worstRel, relativeL2(a, b));
  }
  if (worstRel > 1e-2)
    problems.push(`first gradients off by relative L2 ${worstRel.toExponential(2)} (> 1e-2)`);
  const rest = Math.max(
    ...["micro_batch_losses", "lr_at_each_optimizer_step", "clip_total_norms", "final_state"].map(sortedDiff),
  );
  const result = { maxError: Math.max(rest, firstLoss), tolerance: 2e-2 };
  return problems.length > 0 ? { ...result, error: problems.join("; ") } : result;
}
