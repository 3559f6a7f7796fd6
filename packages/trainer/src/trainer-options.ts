import { FulmenError, type Logger } from "@fulmen/core";
import type { FabricPlugin, PrecisionInput } from "@fulmen/fabric";
import type { Callback } from "./callbacks/callback";

/** The Trainer's flags, with Lightning's names (camelCase) and defaults. */
export interface TrainerOptions {
  accelerator?: string;
  strategy?: string;
  devices?: number | "auto";
  numNodes?: number;
  precision?: PrecisionInput;
  plugins?: FabricPlugin | FabricPlugin[];
  /** Stop after this many epochs (default 1000 when neither maxEpochs nor maxSteps is set). */
  maxEpochs?: number | null;
  minEpochs?: number | null;
  /** Stop after this many optimizer steps (-1: no limit). */
  maxSteps?: number;
  minSteps?: number | null;
  /** Stop after this long: "DD:HH:MM:SS" or { days, hours, minutes, seconds }. */
  maxTime?: string | { days?: number; hours?: number; minutes?: number; seconds?: number } | null;
  accumulateGradBatches?: number;
  gradientClipVal?: number | null;
  gradientClipAlgorithm?: "norm" | "value";
  /** Validate every this fraction of an epoch (≤ 1) or every this many training batches (integer > 1). */
  valCheckInterval?: number;
  checkValEveryNEpoch?: number | null;
  limitTrainBatches?: number;
  limitValBatches?: number;
  limitTestBatches?: number;
  limitPredictBatches?: number;
  /** Run n batches (true: 1) of every stage once, without logging or checkpoints, to find bugs fast. */
  fastDevRun?: boolean | number;
  numSanityValSteps?: number;
  logEveryNSteps?: number;
  enableCheckpointing?: boolean;
  enableProgressBar?: boolean;
  enableModelSummary?: boolean;
  /**
   * Require bit-reproducible kernels (Lightning's flag): `true` fails when the accelerator does not guarantee
   * them, `"warn"` only warns. tfjs's cpu and wasm kernels always are; seed with `seedEverything` for runs that
   * repeat exactly.
   */
  deterministic?: boolean | "warn";
  /** Where logs and checkpoints go (default: the working directory). */
  defaultRootDir?: string;
  callbacks?: Callback[];
  /** true (default: a TensorBoardLogger), false, or loggers. */
  logger?: boolean | Logger | Logger[];
  /** Stop with an error naming the step when a loss is NaN or infinite. */
  detectAnomaly?: boolean;
  /** Turn off everything that costs time but does not train: logging, checkpoints, progress bar, summary. */
  barebones?: boolean;
  /** Train (and validate) on this many batches of the training data, unshuffled, to check the model can overfit. */
  overfitBatches?: number;
  /** "simple": time the loops and print a report when a stage ends. */
  profiler?: "simple" | null;
}

/** Every flag resolved to a value. */
export interface ResolvedTrainerOptions
  extends Required<Omit<TrainerOptions, "plugins" | "precision" | "maxTime">> {
  plugins: FabricPlugin | FabricPlugin[] | undefined;
  precision: PrecisionInput;
  maxTimeMs: number | null;
  maxEpochsResolved: number;
  fastDevBatches: number;
}

const NAMES = [
  "accelerator",
  "strategy",
  "devices",
  "numNodes",
  "precision",
  "plugins",
  "maxEpochs",
  "minEpochs",
  "maxSteps",
  "minSteps",
  "maxTime",
  "accumulateGradBatches",
  "gradientClipVal",
  "gradientClipAlgorithm",
  "valCheckInterval",
  "checkValEveryNEpoch",
  "limitTrainBatches",
  "limitValBatches",
  "limitTestBatches",
  "limitPredictBatches",
  "fastDevRun",
  "numSanityValSteps",
  "logEveryNSteps",
  "enableCheckpointing",
  "enableProgressBar",
  "enableModelSummary",
  "deterministic",
  "defaultRootDir",
  "callbacks",
  "logger",
  "detectAnomaly",
  "barebones",
  "overfitBatches",
  "profiler",
];

function parseMaxTime(value: TrainerOptions["maxTime"]): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") {
    const parts = value.split(":").map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isFinite(p) || p < 0)) {
      throw new FulmenError(`maxTime must look like "DD:HH:MM:SS", got '${value}'.`);
    }
    const [d, h, m, s] = parts as [number, number, number, number];
    return (((d * 24 + h) * 60 + m) * 60 + s) * 1000;
  }
  const { days = 0, hours = 0, minutes = 0, seconds = 0 } = value;
  return (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000;
}

/** Fills in Lightning's defaults and checks every flag, naming any that is unknown or invalid. */
export function resolveTrainerOptions(options: TrainerOptions): ResolvedTrainerOptions {
  const notYet = ["reloadDataloadersEveryNEpochs", "useDistributedSampler"].filter((k) => k in options);
  if (notYet.length > 0) {
    throw new FulmenError(
      `Trainer: ${notYet.join(", ")} ${notYet.length > 1 ? "are" : "is"} a Lightning flag Fulmen does not implement yet.`,
    );
  }
  const unknown = Object.keys(options).filter((k) => !NAMES.includes(k));
  if (unknown.length > 0) {
    throw new FulmenError(
      `Trainer: unknown flag(s) ${unknown.join(", ")}. Valid flags: ${NAMES.join(", ")}.`,
    );
  }
  const fastDev = options.fastDevRun ?? false;
  const fastDevBatches = fastDev === true ? 1 : fastDev === false ? 0 : fastDev;
  if (!Number.isInteger(fastDevBatches) || fastDevBatches < 0)
    throw new FulmenError(`fastDevRun must be a boolean or a non-negative integer.`);
  const barebones = options.barebones ?? false;
  const maxSteps = options.maxSteps ?? -1;
  let maxEpochs = options.maxEpochs ?? (maxSteps === -1 ? 1000 : -1);
  if (maxEpochs === null) maxEpochs = -1;
  const accumulate = options.accumulateGradBatches ?? 1;
  if (!Number.isInteger(accumulate) || accumulate < 1)
    throw new FulmenError(`accumulateGradBatches must be a positive integer, got ${accumulate}.`);
  const algorithm = options.gradientClipAlgorithm ?? "norm";
  if (algorithm !== "norm" && algorithm !== "value") {
    throw new FulmenError(`gradientClipAlgorithm must be "norm" or "value", got '${String(algorithm)}'.`);
  }
  const valCheckInterval = options.valCheckInterval ?? 1.0;
  if (!(valCheckInterval > 0) || (valCheckInterval > 1 && !Number.isInteger(valCheckInterval))) {
    throw new FulmenError(
      `valCheckInterval must be a fraction in (0, 1] or a whole number of batches, got ${valCheckInterval}.`,
    );
  }
  const logEvery = options.logEveryNSteps ?? 50;
  if (!Number.isInteger(logEvery) || logEvery < 1)
    throw new FulmenError(`logEveryNSteps must be a positive integer, got ${logEvery}.`);
  for (const name of [
    "limitTrainBatches",
    "limitValBatches",
    "limitTestBatches",
    "limitPredictBatches",
  ] as const) {
    const v = options[name];
    if (v !== undefined && (!(v >= 0) || (v > 1 && !Number.isInteger(v)))) {
      throw new FulmenError(`${name} must be a fraction in [0, 1] or a whole number of batches, got ${v}.`);
    }
  }
  const overfit = options.overfitBatches ?? 0;
  if (!(overfit >= 0) || (overfit > 1 && !Number.isInteger(overfit))) {
    throw new FulmenError(
      `overfitBatches must be a fraction in [0, 1] or a whole number of batches, got ${overfit}.`,
    );
  }
  const profiler = options.profiler ?? null;
  if (profiler !== null && profiler !== "simple")
    throw new FulmenError(`profiler must be "simple" or null, got '${String(profiler)}'.`);
  return {
    overfitBatches: overfit,
    profiler,
    accelerator: options.accelerator ?? "auto",
    strategy: options.strategy ?? "auto",
    devices: options.devices ?? "auto",
    numNodes: options.numNodes ?? 1,
    precision: options.precision ?? "32-true",
    plugins: options.plugins,
    maxEpochs: fastDevBatches > 0 ? 1 : maxEpochs,
    maxEpochsResolved: fastDevBatches > 0 ? 1 : maxEpochs,
    minEpochs: options.minEpochs ?? null,
    maxSteps: fastDevBatches > 0 ? -1 : maxSteps,
    minSteps: options.minSteps ?? null,
    maxTimeMs: parseMaxTime(options.maxTime),
    accumulateGradBatches: accumulate,
    gradientClipVal: options.gradientClipVal ?? null,
    gradientClipAlgorithm: algorithm,
    valCheckInterval,
    checkValEveryNEpoch: options.checkValEveryNEpoch === undefined ? 1 : options.checkValEveryNEpoch,
    limitTrainBatches:
      fastDevBatches > 0 ? fastDevBatches : overfit > 0 ? overfit : (options.limitTrainBatches ?? 1.0),
    limitValBatches:
      fastDevBatches > 0 ? fastDevBatches : overfit > 0 ? overfit : (options.limitValBatches ?? 1.0),
    limitTestBatches: fastDevBatches > 0 ? fastDevBatches : (options.limitTestBatches ?? 1.0),
    limitPredictBatches: fastDevBatches > 0 ? fastDevBatches : (options.limitPredictBatches ?? 1.0),
    fastDevRun: options.fastDevRun ?? false,
    fastDevBatches,
    numSanityValSteps: fastDevBatches > 0 || barebones || overfit > 0 ? 0 : (options.numSanityValSteps ?? 2),
    logEveryNSteps: logEvery,
    enableCheckpointing: fastDevBatches > 0 || barebones ? false : (options.enableCheckpointing ?? true),
    enableProgressBar: barebones ? false : (options.enableProgressBar ?? true),
    enableModelSummary: barebones ? false : (options.enableModelSummary ?? true),
    deterministic: options.deterministic ?? false,
    defaultRootDir: options.defaultRootDir ?? process.cwd(),
    callbacks: options.callbacks ?? [],
    logger: fastDevBatches > 0 || barebones ? false : (options.logger ?? true),
    detectAnomaly: options.detectAnomaly ?? false,
    barebones,
  };
}

/** How many batches a `limit*Batches` flag allows out of `available`. */
export function limitBatches(limit: number, available: number): number {
  if (limit <= 1 && !Number.isInteger(limit)) return Math.floor(available * limit);
  if (limit === 1) return available;
  return Math.min(available, limit);
}
