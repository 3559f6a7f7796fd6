import { FulmenError, type Logger } from "@fulmen/core";
import { checkNumber, checkOptionNames, describeValue } from "@fulmen/core/plugin";
import type { FabricPlugin, PrecisionInput } from "@fulmen/fabric";
import type { Callback } from "./callbacks/callback";
import {
  checkBatchLimit,
  checkCallbacksAndLogger,
  checkChoice,
  checkClipValue,
  checkDevices,
  checkFastDevRun,
  checkInt,
  checkNameOrInstance,
  checkString,
  checkValCheckInterval,
} from "./trainer-option-checks";

/**
 * The Trainer's flags, with Lightning's names (camelCase), defaults and ranges; a snake_case name is refused
 * with its camelCase spelling, an out-of-range value with the flag, the value and the range.
 */
export interface TrainerOptions {
  /** The accelerator, by name: `"auto"` (the default: the fastest available), `"cpu"`, `"wasm"`, … */
  accelerator?: string;
  /**
   * The strategy, by name: `"auto"` (the default: `"ddp"` when devices × numNodes is above 1, else
   * `"single_device"`), `"ddp"`, …
   */
  strategy?: string;
  /** Devices (processes) per node: a count, -1 for all, or `"auto"` (the default). */
  devices?: number | "auto";
  /** The number of nodes (machines) in the run (default 1). */
  numNodes?: number;
  /** null: "32-true", as in Lightning. */
  precision?: PrecisionInput | null;
  /** A Precision or CheckpointIO instance, or a list of them (at most one of each kind); null: none. */
  plugins?: FabricPlugin | FabricPlugin[] | null;
  /**
   * Stop after this many epochs, ≥ 0 (-1: no limit). Unset or null: 1000 when neither maxSteps nor maxTime (nor a
   * Timer callback) limits training, else no limit — Lightning's rule.
   */
  maxEpochs?: number | null;
  /** Train at least this many epochs, ≥ 0, even when a callback asks to stop. */
  minEpochs?: number | null;
  /** Stop after this many optimizer steps, ≥ 0 (-1: no limit, the default). */
  maxSteps?: number;
  /** Train at least this many optimizer steps, ≥ 0. */
  minSteps?: number | null;
  /** Stop after this long: "DD:HH:MM:SS" or { days, hours, minutes, seconds }. */
  maxTime?:
    | string
    | {
        /** Days, ≥ 0 (default 0). */
        days?: number;
        /** Hours, ≥ 0 (default 0). */
        hours?: number;
        /** Minutes, ≥ 0 (default 0). */
        minutes?: number;
        /** Seconds, ≥ 0 (default 0). */
        seconds?: number;
      }
    | null;
  /** Step the optimizers every this many batches, ≥ 1. */
  accumulateGradBatches?: number;
  /** Clip gradients to this norm or value, ≥ 0 (null or 0: no clipping). */
  gradientClipVal?: number | null;
  /** "norm" (the default; also null) or "value", in any case as Lightning reads it. */
  gradientClipAlgorithm?: "norm" | "value" | null;
  /**
   * Validate every this fraction of an epoch, in [0, 1] (0: after every batch, as Lightning's 0.0), or every this
   * many training batches (integer > 1); null: 1.0, at the end of the epoch.
   */
  valCheckInterval?: number | null;
  /** Validate every this many epochs, ≥ 1 (null: by valCheckInterval's batch count only). */
  checkValEveryNEpoch?: number | null;
  /**
   * Use this fraction, in [0, 1], or this whole number of the training batches per epoch (0: none; null: all).
   * JavaScript has one number type, so `1` is Lightning's `1.0` (every batch), not one batch.
   */
  limitTrainBatches?: number | null;
  /** As limitTrainBatches, for validation. */
  limitValBatches?: number | null;
  /** As limitTrainBatches, for testing. */
  limitTestBatches?: number | null;
  /** As limitTrainBatches, for prediction. */
  limitPredictBatches?: number | null;
  /** Run n batches (true: 1) of every stage once, without logging or checkpoints, to find bugs fast. */
  fastDevRun?: boolean | number;
  /** Validation batches run before training to catch bugs early, ≥ 0 (-1: all of them; default or null: 2). */
  numSanityValSteps?: number | null;
  /** Send step metrics to the loggers every this many optimizer steps, ≥ 1 (0: never; default or null: 50). */
  logEveryNSteps?: number | null;
  /** Add a ModelCheckpoint unless one is given (default or null: true). */
  enableCheckpointing?: boolean | null;
  /** Add a progress bar unless one is given (default or null: true). */
  enableProgressBar?: boolean | null;
  /** Add a ModelSummary unless one is given (default or null: true). */
  enableModelSummary?: boolean | null;
  /**
   * Require bit-reproducible kernels (Lightning's flag): `true` fails when the accelerator does not guarantee
   * them, `"warn"` only warns. tfjs's cpu and wasm kernels always are; seed with `seedEverything` for runs that
   * repeat exactly.
   */
  deterministic?: boolean | "warn" | null;
  /** Where logs and checkpoints go (default or null: the working directory). */
  defaultRootDir?: string | null;
  /** Callbacks: a list, or one (null: none). */
  callbacks?: Callback[] | Callback | null;
  /** true (default, also null: a TensorBoardLogger), false, or loggers. */
  logger?: boolean | Logger | Logger[] | null;
  /** Stop with an error naming the step when a loss is NaN or infinite. */
  detectAnomaly?: boolean;
  /**
   * Turn off everything that costs time but does not train: logging, checkpoints, progress bar, summary, sanity
   * check. Combined with a flag that turns one of them on, it is refused, as in Lightning.
   */
  barebones?: boolean;
  /** Train (and validate) on this many batches of the training data, unshuffled, to check the model can overfit. */
  overfitBatches?: number;
  /** "simple": time the loops and print a report when a stage ends. */
  profiler?: "simple" | null;
  /**
   * With several processes, give each its shard of every loader through a DistributedSampler (default true);
   * false leaves the loaders as given (each rank then reads what its own loader yields).
   */
  useDistributedSampler?: boolean;
  /**
   * Lightning's choice between `torch.inference_mode` and `torch.no_grad` in evaluation: both mean no gradients,
   * which is how Fulmen always evaluates (nothing runs on the gradient tape), so either value is accepted.
   */
  inferenceMode?: boolean;
  /** Only Lightning's default, 0: loaders are never reloaded between epochs. */
  reloadDataloadersEveryNEpochs?: 0;
  /** Only Lightning's default, false: BatchNorm statistics are per process. */
  syncBatchnorm?: false;
  /** Only Lightning's defaults, null or false: there is no cuDNN autotuner to turn on. */
  benchmark?: false | null;
}

/** The flags whose null means "the default" (Lightning's `Optional` flags that are not limits). */
type Defaulted = keyof DefaultedFlags;

/** The defaulted flags, resolved (each as {@link TrainerOptions} explains it, its default filled in). */
interface DefaultedFlags {
  /** Training batches per epoch: a count, or a fraction of the loader (default 1.0, all of it). */
  limitTrainBatches: NonNullable<TrainerOptions["limitTrainBatches"]>;
  /** Validation batches per run: a count, or a fraction of the loader (default 1.0). */
  limitValBatches: NonNullable<TrainerOptions["limitValBatches"]>;
  /** Test batches per run: a count, or a fraction of the loader (default 1.0). */
  limitTestBatches: NonNullable<TrainerOptions["limitTestBatches"]>;
  /** Prediction batches per run: a count, or a fraction of the loader (default 1.0). */
  limitPredictBatches: NonNullable<TrainerOptions["limitPredictBatches"]>;
  /** How often validation runs: a fraction of the epoch in [0, 1], or a count of training batches (default 1.0). */
  valCheckInterval: NonNullable<TrainerOptions["valCheckInterval"]>;
  /** Validation batches run before training to catch bugs early (default 2; -1: all of them). */
  numSanityValSteps: NonNullable<TrainerOptions["numSanityValSteps"]>;
  /** Step metrics go to the loggers every this many optimizer steps (default 50; 0: never). */
  logEveryNSteps: NonNullable<TrainerOptions["logEveryNSteps"]>;
  /** Whether a ModelCheckpoint is added when the callbacks have none (default true). */
  enableCheckpointing: NonNullable<TrainerOptions["enableCheckpointing"]>;
  /** Whether a progress bar is shown (default true). */
  enableProgressBar: NonNullable<TrainerOptions["enableProgressBar"]>;
  /** Whether the model summary is printed when fitting starts (default true). */
  enableModelSummary: NonNullable<TrainerOptions["enableModelSummary"]>;
  /** How gradientClipVal clips: by the global "norm" (default) or by "value". */
  gradientClipAlgorithm: NonNullable<TrainerOptions["gradientClipAlgorithm"]>;
  /** Whether only deterministic kernels may run: true, false (default) or "warn". */
  deterministic: NonNullable<TrainerOptions["deterministic"]>;
  /** Where logs and checkpoints go when no logger or callback says (default the working directory). */
  defaultRootDir: NonNullable<TrainerOptions["defaultRootDir"]>;
}

/** Every flag resolved to a value. */
export interface ResolvedTrainerOptions
  extends Required<
      Omit<TrainerOptions, "plugins" | "precision" | "maxTime" | "callbacks" | "logger" | Defaulted>
    >,
    DefaultedFlags {
  /** The plugins passed to Fabric; undefined when none were given. */
  plugins: FabricPlugin | FabricPlugin[] | undefined;
  /** The precision (default `"32-true"`). */
  precision: PrecisionInput;
  /** The callbacks given, as a list (empty when none); the Trainer adds its default ones to its own copy. */
  callbacks: Callback[];
  /**
   * The `logger` flag: true (the default: a TensorBoardLogger), false (always under fastDevRun and
   * barebones), or the loggers given.
   */
  logger: boolean | Logger | Logger[];
  /** `maxTime` in milliseconds; null when training has no time limit. */
  maxTimeMs: number | null;
  /** The epoch limit applied: `maxEpochs` with its default filled in (1 under fastDevRun; -1: no limit). */
  maxEpochsResolved: number;
  /** The batches per stage that `fastDevRun` runs: 0 when it is off, 1 for true, else its number. */
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
  "useDistributedSampler",
  "inferenceMode",
  "reloadDataloadersEveryNEpochs",
  "syncBatchnorm",
  "benchmark",
];

/**
 * Lightning flags for features Fulmen does not implement: their defaults (which describe what Fulmen does, so a
 * Lightning config that carries them loads) are accepted, any other value is refused as not implemented.
 */
const NOT_YET: Record<string, readonly unknown[]> = {
  reloadDataloadersEveryNEpochs: [0],
  syncBatchnorm: [false],
  benchmark: [false, null],
};

/** Lightning's `Optional` flags whose None means "the default" (null for the limits means "no limit" instead). */
const NULL_IS_DEFAULT: Array<keyof TrainerOptions> = [
  "precision",
  "plugins",
  "limitTrainBatches",
  "limitValBatches",
  "limitTestBatches",
  "limitPredictBatches",
  "valCheckInterval",
  "numSanityValSteps",
  "logEveryNSteps",
  "enableCheckpointing",
  "enableProgressBar",
  "enableModelSummary",
  "gradientClipAlgorithm",
  "deterministic",
  "defaultRootDir",
  "callbacks",
  "logger",
];
const MAX_TIME_KEYS = ["days", "hours", "minutes", "seconds"];

function parseMaxTime(value: TrainerOptions["maxTime"]): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") {
    const parts = value.split(":").map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isFinite(p) || p < 0)) {
      throw new FulmenError(
        `Trainer: invalid maxTime '${value}'; it must look like "DD:HH:MM:SS" (e.g. "00:12:00:00"), or be { days, hours, minutes, seconds }.`,
      );
    }
    const [d, h, m, s] = parts as [number, number, number, number];
    return (((d * 24 + h) * 60 + m) * 60 + s) * 1000;
  }
  if (typeof value !== "object") {
    throw new FulmenError(
      `Trainer: invalid maxTime ${describeValue(value)}; it must be "DD:HH:MM:SS", { days, hours, minutes, seconds } or null.`,
    );
  }
  checkOptionNames("Trainer maxTime", value, MAX_TIME_KEYS);
  for (const key of MAX_TIME_KEYS) {
    const part = (value as Record<string, unknown>)[key];
    if (part !== undefined)
      checkNumber(
        "Trainer",
        `maxTime.${key}`,
        part as number,
        (v) => Number.isFinite(v) && v >= 0,
        "a number >= 0",
      );
  }
  const { days = 0, hours = 0, minutes = 0, seconds = 0 } = value;
  return (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000;
}

/** Checks every flag's name and range (Lightning's rules), naming the flag, the value and what it must be. */
function checkTrainerOptions(options: TrainerOptions): void {
  checkOptionNames("Trainer", options, NAMES, "flag");
  const given = options as Record<string, unknown>;
  const notYet = Object.keys(NOT_YET).filter((k) => k in given && !NOT_YET[k]!.includes(given[k]));
  if (notYet.length > 0) {
    throw new FulmenError(
      `Trainer: ${notYet.map((k) => `${k} ${describeValue(given[k])}`).join(", ")}: ${notYet.length > 1 ? "these are Lightning flags" : "a Lightning flag"} Fulmen does not implement yet; leave ${notYet.length > 1 ? "them" : "it"} out or at Lightning's default (${notYet.map((k) => `${k}: ${NOT_YET[k]!.map(String).join(" or ")}`).join("; ")}).`,
    );
  }
  // null is the default of Lightning's Optional flags (a LightningCLI config writes them so); it is checked as unset.
  const o = Object.fromEntries(
    Object.entries(options).filter(([k, v]) => !(v === null && (NULL_IS_DEFAULT as string[]).includes(k))),
  ) as Record<keyof TrainerOptions, unknown>;
  checkNameOrInstance(
    "accelerator",
    o.accelerator,
    'an accelerator name ("auto", "cpu", "wasm", …) or instance',
  );
  checkNameOrInstance(
    "strategy",
    o.strategy,
    'a strategy name ("auto", "single_device", "ddp", …) or instance',
  );
  checkDevices(o.devices, o.numNodes);
  checkInt("maxEpochs", o.maxEpochs, -1, "an integer >= 0, -1 for no limit, or null", true);
  checkInt("minEpochs", o.minEpochs, 0, "an integer >= 0 or null", true);
  checkInt("maxSteps", o.maxSteps, -1, "an integer >= 0 or -1 for no limit");
  checkInt("minSteps", o.minSteps, 0, "an integer >= 0 or null", true);
  checkInt("accumulateGradBatches", o.accumulateGradBatches, 1, "an integer >= 1");
  checkClipValue(o.gradientClipVal);
  checkChoice(
    "gradientClipAlgorithm",
    typeof o.gradientClipAlgorithm === "string"
      ? o.gradientClipAlgorithm.toLowerCase()
      : o.gradientClipAlgorithm,
    ["norm", "value"],
  );
  checkValCheckInterval(o.valCheckInterval);
  checkInt("checkValEveryNEpoch", o.checkValEveryNEpoch, 1, "an integer >= 1 or null", true);
  for (const name of [
    "limitTrainBatches",
    "limitValBatches",
    "limitTestBatches",
    "limitPredictBatches",
  ] as const)
    checkBatchLimit(name, o[name]);
  checkBatchLimit("overfitBatches", o.overfitBatches);
  checkFastDevRun(o.fastDevRun);
  checkInt("numSanityValSteps", o.numSanityValSteps, -1, "an integer >= 0, or -1 for every validation batch");
  checkInt("logEveryNSteps", o.logEveryNSteps, 0, "an integer >= 1, or 0 for no step logging");
  for (const name of [
    "enableCheckpointing",
    "enableProgressBar",
    "enableModelSummary",
    "detectAnomaly",
    "barebones",
    "useDistributedSampler",
    "inferenceMode",
  ] as const)
    checkChoice(name, o[name], [true, false]);
  checkChoice("deterministic", o.deterministic, [true, false, "warn"]);
  checkString("defaultRootDir", o.defaultRootDir, "a directory path");
  checkCallbacksAndLogger(o.callbacks, o.logger);
  checkChoice("profiler", o.profiler, ["simple", null]);
  if (options.barebones === true) checkBarebones(options);
}

/**
 * `barebones` with a flag that turns on what it turns off is refused, as Lightning's ValueError does (a flag left
 * at its default, null, or set to what barebones implies is fine).
 */
function checkBarebones(options: TrainerOptions): void {
  const conflicts: Array<[string, boolean]> = [
    ["enableCheckpointing", options.enableCheckpointing === true],
    ["logger", options.logger !== undefined && options.logger !== null && options.logger !== false],
    ["enableProgressBar", options.enableProgressBar === true],
    [
      "logEveryNSteps",
      options.logEveryNSteps !== undefined && options.logEveryNSteps !== null && options.logEveryNSteps !== 0,
    ],
    ["enableModelSummary", options.enableModelSummary === true],
    [
      "numSanityValSteps",
      options.numSanityValSteps !== undefined &&
        options.numSanityValSteps !== null &&
        options.numSanityValSteps !== 0,
    ],
    [
      "fastDevRun",
      options.fastDevRun !== undefined && options.fastDevRun !== false && options.fastDevRun !== 0,
    ],
    ["detectAnomaly", options.detectAnomaly === true],
    ["profiler", options.profiler !== undefined && options.profiler !== null],
  ];
  const on = conflicts.filter(([, conflict]) => conflict).map(([name]) => name);
  if (on.length > 0)
    throw new FulmenError(
      `Trainer: barebones turns off ${on.join(", ")}, which ${on.length > 1 ? "are" : "is"} set; drop ${on.length > 1 ? "them" : "it"} or barebones.`,
    );
}

/** Fills in Lightning's defaults and checks every flag, naming any that is unknown or invalid. */
export function resolveTrainerOptions(options: TrainerOptions): ResolvedTrainerOptions {
  checkTrainerOptions(options);
  const fastDev = options.fastDevRun ?? false;
  const fastDevBatches = fastDev === true ? 1 : fastDev === false ? 0 : fastDev;
  const barebones = options.barebones ?? false;
  const maxSteps = options.maxSteps ?? -1;
  const callbacks = options.callbacks ?? [];
  const callbackList = Array.isArray(callbacks) ? callbacks : [callbacks];
  // Lightning's _parse_loop_limits: 1000 epochs only when nothing else limits training (maxTime adds a Timer).
  const timed =
    (options.maxTime !== undefined && options.maxTime !== null) ||
    callbackList.some((c) => c.constructor.name === "Timer");
  const maxEpochs = options.maxEpochs ?? (maxSteps === -1 && !timed ? 1000 : -1);
  const accumulate = options.accumulateGradBatches ?? 1;
  const algorithm = (options.gradientClipAlgorithm ?? "norm").toLowerCase() as "norm" | "value";
  const logEvery = barebones ? 0 : (options.logEveryNSteps ?? 50);
  const overfit = options.overfitBatches ?? 0;
  const profiler = options.profiler ?? null;
  return {
    overfitBatches: overfit,
    profiler,
    accelerator: options.accelerator ?? "auto",
    strategy: options.strategy ?? "auto",
    devices: options.devices ?? "auto",
    numNodes: options.numNodes ?? 1,
    precision: options.precision ?? "32-true",
    plugins: options.plugins ?? undefined,
    maxEpochs: fastDevBatches > 0 ? 1 : maxEpochs,
    maxEpochsResolved: fastDevBatches > 0 ? 1 : maxEpochs,
    minEpochs: options.minEpochs ?? null,
    maxSteps: fastDevBatches > 0 ? -1 : maxSteps,
    minSteps: options.minSteps ?? null,
    maxTimeMs: parseMaxTime(options.maxTime),
    accumulateGradBatches: accumulate,
    gradientClipVal: options.gradientClipVal ?? null,
    gradientClipAlgorithm: algorithm,
    // fastDevRun validates once, at the end of its epoch (Lightning sets 1.0 and every epoch).
    valCheckInterval: fastDevBatches > 0 ? 1.0 : (options.valCheckInterval ?? 1.0),
    checkValEveryNEpoch:
      fastDevBatches > 0 ? 1 : options.checkValEveryNEpoch === undefined ? 1 : options.checkValEveryNEpoch,
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
    callbacks: callbackList,
    logger: fastDevBatches > 0 || barebones ? false : (options.logger ?? true),
    detectAnomaly: options.detectAnomaly ?? false,
    barebones,
    useDistributedSampler: options.useDistributedSampler ?? true,
    inferenceMode: options.inferenceMode ?? true,
    reloadDataloadersEveryNEpochs: 0,
    syncBatchnorm: false,
    benchmark: options.benchmark ?? null,
  };
}

/**
 * How many batches a `limit*Batches` flag allows out of `available`. A fraction that leaves no batch of a
 * non-empty loader is refused, naming `flag` and the smallest fraction that works (Lightning's
 * `_parse_num_batches`).
 */
export function limitBatches(limit: number, available: number, flag?: string): number {
  if (limit <= 1 && !Number.isInteger(limit)) {
    const batches = Math.floor(available * limit);
    if (batches === 0 && limit > 0 && available > 0 && flag !== undefined) {
      throw new FulmenError(
        `Trainer: ${flag} ${limit} of ${available} batches is less than one batch; increase ${flag} to at least ${1 / available}, or give a whole number of batches.`,
      );
    }
    return batches;
  }
  if (limit === 1) return available;
  return Math.min(available, limit);
}
