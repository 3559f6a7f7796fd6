import { readFileSync } from "node:fs";
import { FulmenError } from "@fulmen/core";

/** What a DeepSpeed JSON config sets, as {@link readDeepSpeedConfig} reads it. */
export interface ResolvedDeepSpeedConfig {
  /** `zero_optimization.stage` (default 0 in DeepSpeed; Fulmen needs 1, 2 or 3). */
  stage: 1 | 2 | 3;
  /** `gradient_clipping`: the global norm gradients are clipped to before every optimizer step (0: none). */
  gradientClipping: number;
  /** `zero_optimization.offload_optimizer.device` "cpu". */
  offloadOptimizer: boolean;
  /** `zero_optimization.offload_param.device` "cpu" (stage 3). */
  offloadParameters: boolean;
  /**
   * `zero_optimization.stage3_param_persistence_threshold`: under stage 3, parameters of at most this many
   * elements stay whole on every rank instead of being gathered around each use (DeepSpeed's default 1e5).
   */
  paramPersistenceThreshold: number;
  /**
   * `zero_optimization.overlap_comm`: whether communication overlaps computation (stage 3: the next module's
   * gather runs while the current one computes, a module's gradient reduce-scatter while backward goes on); null
   * when absent (DeepSpeed's default: on for stage 3).
   */
  overlapComm: boolean | null;
  /** `bf16.enabled`: the run must use precision "bf16-mixed". */
  bf16: boolean;
  /**
   * `fp16` when enabled: the run must use precision "16-mixed", whose loss scaler takes these settings
   * (DeepSpeed's defaults where a key is absent); null when fp16 is off.
   */
  fp16: {
    /** `loss_scale`: 0 for dynamic scaling, else this fixed scale. */
    lossScale: number;
    /** `initial_scale_power`: the dynamic scale starts at 2^this (default 16, so 65536). */
    initialScalePower: number;
    /** `loss_scale_window`: steps without overflow after which the scale grows (default 1000). */
    lossScaleWindow: number;
    /** `hysteresis`: how many overflows in a row the scale tolerates before it backs off (default 2). */
    hysteresis: number;
    /** `min_loss_scale`: the dynamic scale is never lowered below this (default 1). */
    minLossScale: number;
  } | null;
  /** What the config asks for that Fulmen does differently, one sentence each (the strategy prints them). */
  notes: string[];
}

/** A DeepSpeed JSON config, parsed (or a section of it). */
export type DeepSpeedJson = Record<string, unknown>;
type Json = DeepSpeedJson;

const TOP_LEVEL = [
  "zero_optimization",
  "fp16",
  "bf16",
  "gradient_clipping",
  "train_micro_batch_size_per_gpu",
  "gradient_accumulation_steps",
  "train_batch_size",
];
const ZERO_KEYS = [
  "stage",
  "contiguous_gradients",
  "overlap_comm",
  "reduce_bucket_size",
  "allgather_bucket_size",
  "offload_optimizer",
  "offload_param",
  "reduce_scatter",
  "allgather_partitions",
  "stage3_param_persistence_threshold",
  "stage3_prefetch_bucket_size",
  "stage3_max_live_parameters",
  "stage3_max_reuse_distance",
  "stage3_gather_16bit_weights_on_model_save",
];

/** DeepSpeed's default `stage3_param_persistence_threshold`. */
export const DEFAULT_PERSISTENCE_THRESHOLD = 100_000;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function numberAt(section: Json, key: string, fallback: number, valid: (v: number) => boolean): number {
  const value = section[key] ?? fallback;
  if (typeof value !== "number" || !valid(value))
    throw new FulmenError(
      `DeepSpeed config: fp16.${key} has an invalid value ${JSON.stringify(section[key])}.`,
    );
  return value;
}

function unknownKeys(section: string, value: Json, known: string[]): void {
  const extra = Object.keys(value).filter((k) => !known.includes(k));
  if (extra.length > 0)
    throw new FulmenError(
      `DeepSpeed config: ${extra.map((k) => `'${section}${k}'`).join(", ")} ${extra.length === 1 ? "is" : "are"} not supported by Fulmen (supported: ${known.map((k) => `${section}${k}`).join(", ")}); remove ${extra.length === 1 ? "it" : "them"}.`,
    );
}

/**
 * Reads a DeepSpeed config (a path to a JSON file, or the object) and says what it sets. Keys that apply are
 * honoured; keys whose work Fulmen does another way are accepted with a note saying so; keys it does not
 * implement (offloading, fp16's loss scaler, optimizer and scheduler sections) and unknown keys are errors that
 * name them. Nothing is accepted silently.
 */
export function readDeepSpeedConfig(config: string | Json): ResolvedDeepSpeedConfig {
  let value: unknown = config;
  if (typeof config === "string") {
    try {
      value = JSON.parse(readFileSync(config, "utf8"));
    } catch (error) {
      throw new FulmenError(`DeepSpeed config ${config} cannot be read: ${(error as Error).message}.`);
    }
  }
  if (!isObject(value)) throw new FulmenError("DeepSpeed config: expected a JSON object.");
  if ("optimizer" in value || "scheduler" in value)
    throw new FulmenError(
      "DeepSpeed config: 'optimizer' and 'scheduler' sections are not implemented yet in Fulmen; create the optimizer (and scheduler) in code (configureOptimizers, or pass it to fabric.setup) and remove the sections.",
    );
  unknownKeys("", value, TOP_LEVEL);
  const notes: string[] = [];
  const zero = value.zero_optimization ?? {};
  if (!isObject(zero)) throw new FulmenError("DeepSpeed config: 'zero_optimization' must be an object.");
  unknownKeys("zero_optimization.", zero, ZERO_KEYS);
  const stage = zero.stage ?? 0;
  if (stage !== 1 && stage !== 2 && stage !== 3)
    throw new FulmenError(
      `DeepSpeed config: zero_optimization.stage must be 1, 2 or 3, got ${JSON.stringify(stage)}; for no sharding use strategy "ddp".`,
    );
  const offloaded = { offload_optimizer: false, offload_param: false };
  for (const key of ["offload_optimizer", "offload_param"] as const) {
    const offload = zero[key];
    if (offload === undefined) continue;
    const device = isObject(offload) ? offload.device : undefined;
    if (device === "cpu") offloaded[key] = true;
    else if (device !== "none")
      throw new FulmenError(
        `DeepSpeed config: zero_optimization.${key} device ${JSON.stringify(device)} is not supported (only "cpu" and "none"; NVMe offload is not implemented).`,
      );
    const extra = isObject(offload) ? Object.keys(offload).filter((k) => k !== "device") : [];
    if (extra.length > 0)
      notes.push(
        `zero_optimization.${key}.${extra.join(", ")}: not applied (Fulmen offloads to plain host memory).`,
      );
  }
  if (zero.contiguous_gradients === false)
    notes.push(
      "zero_optimization.contiguous_gradients false: Fulmen's gradient shards are always contiguous flat buffers.",
    );
  const overlapComm = zero.overlap_comm;
  if (overlapComm !== undefined && typeof overlapComm !== "boolean")
    throw new FulmenError(
      `DeepSpeed config: zero_optimization.overlap_comm must be true or false, got ${JSON.stringify(overlapComm)}.`,
    );
  if (overlapComm === true && stage !== 3)
    notes.push(
      "zero_optimization.overlap_comm: under stages 1 and 2 Fulmen reduces the gradients after backward; only stage 3 overlaps communication with computation.",
    );
  for (const key of ["reduce_bucket_size", "allgather_bucket_size"])
    if (zero[key] !== undefined)
      notes.push(
        `zero_optimization.${key}: Fulmen reduces and gathers one flat parameter (a module's parameters) at a time, not in buckets of a size.`,
      );
  const persistence = zero.stage3_param_persistence_threshold ?? DEFAULT_PERSISTENCE_THRESHOLD;
  if (typeof persistence !== "number" || !(persistence >= 0))
    throw new FulmenError(
      `DeepSpeed config: zero_optimization.stage3_param_persistence_threshold must be a number >= 0, got ${JSON.stringify(zero.stage3_param_persistence_threshold)}.`,
    );
  for (const key of [
    "stage3_prefetch_bucket_size",
    "stage3_max_live_parameters",
    "stage3_max_reuse_distance",
  ])
    if (zero[key] !== undefined)
      notes.push(
        `zero_optimization.${key}: Fulmen gathers a module's parameters when it runs and prefetches the next module's (one module ahead, not a bucket of a size), and frees them after; nothing is kept for reuse.`,
      );
  if (zero.stage3_gather_16bit_weights_on_model_save !== undefined)
    notes.push(
      'zero_optimization.stage3_gather_16bit_weights_on_model_save: Fulmen\'s checkpoints hold float32 weights, gathered whole with stateDictType "full" (the default).',
    );
  for (const key of ["reduce_scatter", "allgather_partitions"])
    if (zero[key] === false)
      notes.push(
        `zero_optimization.${key} false: Fulmen always uses reduce-scatter and all-gather for shards.`,
      );
  const fp16 = value.fp16;
  if (fp16 !== undefined) {
    if (!isObject(fp16)) throw new FulmenError("DeepSpeed config: 'fp16' must be an object.");
    unknownKeys("fp16.", fp16, [
      "enabled",
      "loss_scale",
      "initial_scale_power",
      "loss_scale_window",
      "hysteresis",
      "min_loss_scale",
      "auto_cast",
    ]);
    if (fp16.auto_cast !== undefined)
      notes.push('fp16.auto_cast: Fulmen\'s "16-mixed" precision decides which operations run in half.');
  }
  const fp16Settings =
    isObject(fp16) && fp16.enabled === true
      ? {
          lossScale: numberAt(fp16, "loss_scale", 0, (v) => v >= 0),
          initialScalePower: numberAt(fp16, "initial_scale_power", 16, (v) => Number.isInteger(v) && v >= 0),
          lossScaleWindow: numberAt(fp16, "loss_scale_window", 1000, (v) => Number.isInteger(v) && v >= 1),
          hysteresis: numberAt(fp16, "hysteresis", 2, (v) => Number.isInteger(v) && v >= 1),
          minLossScale: numberAt(fp16, "min_loss_scale", 1, (v) => v >= 0),
        }
      : null;
  const bf16 = value.bf16;
  if (bf16 !== undefined && (!isObject(bf16) || Object.keys(bf16).some((k) => k !== "enabled")))
    throw new FulmenError("DeepSpeed config: 'bf16' must be an object with only 'enabled'.");
  const clipping = value.gradient_clipping ?? 0;
  if (typeof clipping !== "number" || !(clipping >= 0))
    throw new FulmenError(
      `DeepSpeed config: gradient_clipping must be a number >= 0, got ${JSON.stringify(clipping)}.`,
    );
  for (const key of ["train_micro_batch_size_per_gpu", "train_batch_size"])
    if (value[key] !== undefined)
      notes.push(`${key}: the batch size is your DataLoader's (batchSize per process), not the config's.`);
  const accumulation = value.gradient_accumulation_steps;
  if (accumulation !== undefined && accumulation !== 1)
    notes.push(
      "gradient_accumulation_steps: accumulate with the Trainer's accumulateGradBatches or fabric.noBackwardSync; the config's value is not applied.",
    );
  const bf16Enabled = isObject(bf16) && bf16.enabled === true;
  if (bf16Enabled && fp16Settings !== null)
    throw new FulmenError("DeepSpeed config: fp16 and bf16 are both enabled; enable one.");
  return {
    stage,
    gradientClipping: clipping,
    paramPersistenceThreshold: persistence,
    overlapComm: overlapComm ?? null,
    offloadOptimizer: offloaded.offload_optimizer,
    offloadParameters: offloaded.offload_param,
    bf16: bf16Enabled,
    fp16: fp16Settings,
    notes,
  };
}
