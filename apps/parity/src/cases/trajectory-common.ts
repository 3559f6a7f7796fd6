import { type Module, type StateDict, type Strategy, tf } from "@fulmen/core";
import { type GoldenCase, maxAbsDiff, type Nested } from "../golden";

/** The shared part of a trajectory golden file: model, data and initial weights. */
export interface TrajectoryContext {
  model: string;
  data: { X: number[][]; Y: number[]; batch_size: number };
  init_state: Record<string, Nested>;
}

/** A training recipe of a trajectory golden file. */
export interface Recipe {
  name: string;
  optimizer: [string, Record<string, unknown>];
  epochs: number;
  accumulate: number;
  scheduler?: [string, Record<string, unknown>, "step" | "epoch"];
  clip?: ["norm", number, number | string] | ["value", number];
  autocast?: string;
}

/** Tolerances of a trajectory: float32 recipes everywhere 1e-4; autocast recipes as the issue defines them. */
export function precisionOf(recipe: Recipe): string {
  if (recipe.autocast === undefined) return "32-true";
  if (recipe.autocast === "bf16") return "bf16-mixed";
  if (recipe.autocast === "fp16" || recipe.autocast === "16") return "16-mixed";
  throw new Error(`unknown autocast '${recipe.autocast}'`);
}

/** Loads the file's initial weights into a model. */
export function loadInit(model: Module, init: Record<string, Nested>): void {
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

/** Holds a trajectory's results to the tolerances (float32: 1e-4; autocast: as documented). */
export function compare(
  c: GoldenCase,
  r: Record<string, unknown>,
  precision: string,
  ranks = 1,
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
  // relative L2 of PyTorch's; everything else within 2e-2. Under DDP the gradients are the mean of each rank's
  // bf16 gradients, which need not be bf16 itself (as with PyTorch's DDP), so only the L2 bound applies there.
  const problems: string[] = [];
  const firstLoss = Math.abs((r.micro_batch_losses as number[])[0]! - (c.micro_batch_losses as number[])[0]!);
  if (firstLoss > 1e-6) problems.push(`first micro-batch loss off by ${firstLoss.toExponential(2)} (> 1e-6)`);
  const gotGrads = r.first_micro_batch_grads as Record<string, Nested>;
  const expGrads = c.first_micro_batch_grads as Record<string, Nested>;
  let worstRel = 0;
  for (const [name, g] of Object.entries(expGrads)) {
    const a = [gotGrads[name]].flat(3) as number[];
    const b = [g].flat(3) as number[];
    if (ranks === 1 && precision.startsWith("bf16") && a.some((v) => !isBf16(v)))
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

/**
 * Every parameter's whole gradient by name: sharded strategies hold gradients as shards and gather them
 * (`fullGradients`, FSDP's summon_full_params with gradients); others have them in the parameters.
 */
export function wholeGradients(strategy: Strategy, module: Module): Array<[string, tf.Tensor]> {
  const sharded = strategy as Strategy & { fullGradients?(m: Module): Record<string, tf.Tensor | null> };
  const grads =
    sharded.fullGradients?.(module) ??
    Object.fromEntries(module.namedParameters().map(([k, p]) => [k, p.grad]));
  return Object.entries(grads).map(([k, g]) => {
    if (g === null) throw new Error(`parameter '${k}' has no gradient after the first micro-batch`);
    return [k, g];
  });
}
