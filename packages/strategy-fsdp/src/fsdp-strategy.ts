import { type Accelerator, FulmenError, type HalfDtype, type Module, type Precision } from "@fulmen/core";
import { checkOptionNames } from "@fulmen/core/plugin";
import {
  type ParallelStrategyOptions,
  type ShardedDtypes,
  ShardedStrategy,
  type ShardingPlan,
} from "@fulmen/fabric";
import { type AutoWrapPolicy, type ModuleClass, unitsByPolicy } from "./wrap-policy";

/** FSDP's sharding strategies (PyTorch's `ShardingStrategy`). */
export type ShardingStrategy = "FULL_SHARD" | "SHARD_GRAD_OP" | "NO_SHARD" | "HYBRID_SHARD";

/** A dtype of FSDP's mixed precision (float32, or a 16-bit float Fulmen emulates). */
export type MixedPrecisionDtype = "float32" | HalfDtype;

/**
 * FSDP's mixed precision (PyTorch's `MixedPrecision`): the dtype the model computes with its parameters in,
 * the dtype gradients are reduced in, the dtype buffers are kept in. Each left out is derived from the run's
 * precision, as Lightning does: "bf16-mixed" bfloat16, "16-mixed" float16, otherwise float32.
 */
export interface FSDPMixedPrecision {
  /**
   * Parameters as the forward and backward read them: units all-gather them in this dtype (16-bit values on
   * the wire), parameters held whole are cast; the shards and the optimizer's state stay float32.
   */
  paramDtype?: MixedPrecisionDtype;
  /** Gradients as they are reduce-scattered (or all-reduced) across ranks. */
  reduceDtype?: MixedPrecisionDtype;
  /** Buffers (running statistics), stored in this dtype from their next update. */
  bufferDtype?: MixedPrecisionDtype;
}

/** Options of {@link FSDPStrategy}, with Lightning's `FSDPStrategy` names. */
export interface FSDPStrategyOptions extends ParallelStrategyOptions {
  /**
   * What is sharded (default `"FULL_SHARD"`): `FULL_SHARD` parameters, gradients and optimizer state;
   * `SHARD_GRAD_OP` gradients and optimizer state (parameters stay whole); `NO_SHARD` nothing (DDP);
   * `HYBRID_SHARD` full sharding among each machine's processes, every machine a replica (gradient shards
   * averaged with the same shard on the other machines; on one machine, `FULL_SHARD`).
   */
  shardingStrategy?: ShardingStrategy;
  /**
   * Which modules become units that gather their parameters together (see {@link AutoWrapPolicy}); default: the
   * root module's children that have parameters. Parameters outside every unit stay whole on every rank.
   */
  autoWrapPolicy?: AutoWrapPolicy;
  /** Module classes whose forward is recomputed in backward instead of keeping activations. */
  activationCheckpointing?: ModuleClass | ModuleClass[] | Set<ModuleClass>;
  /**
   * `"full"` (default): checkpoints gather the whole state into one ordinary file, written by rank 0.
   * `"sharded"`: a checkpoint is a folder where every rank writes the parts it holds (no gathering), with
   * metadata; it loads on any number of ranks (or one process), and `fulmen consolidate FOLDER OUT` turns it into
   * one ordinary file.
   */
  stateDictType?: "full" | "sharded";
  /**
   * Keep the parameter shards and the optimizer state in host memory (PyTorch's `CPUOffload(offload_params=True)`),
   * where the accelerator has memory of its own (a GPU): a unit's parameters come to the device only while it
   * runs, each shard's optimizer state only for its step.
   */
  cpuOffload?: boolean;
  /**
   * FSDP's dtypes for parameters, gradient reductions and buffers (see {@link FSDPMixedPrecision}); by default
   * derived from the precision: bfloat16 under "bf16-mixed", float16 under "16-mixed", float32 otherwise.
   */
  mixedPrecision?: FSDPMixedPrecision;
}

const OPTION_NAMES = [
  "shardingStrategy",
  "autoWrapPolicy",
  "activationCheckpointing",
  "stateDictType",
  "cpuOffload",
  "mixedPrecision",
  "clusterEnvironment",
  "processGroupBackend",
  "timeoutMs",
  "fileStorePath",
];
const SHARDING_STRATEGIES: ShardingStrategy[] = ["FULL_SHARD", "SHARD_GRAD_OP", "NO_SHARD", "HYBRID_SHARD"];

/** Checks the options, refusing (never ignoring) what this version does not implement. */
function checkOptions(options: FSDPStrategyOptions): ShardingStrategy {
  checkOptionNames("FSDPStrategy", options, OPTION_NAMES);
  const sharding = options.shardingStrategy ?? "FULL_SHARD";
  if (!SHARDING_STRATEGIES.includes(sharding))
    throw new FulmenError(
      `FSDPStrategy: shardingStrategy must be one of ${SHARDING_STRATEGIES.join(", ")}, got ${String(sharding)}.`,
    );
  checkMixedPrecision(options.mixedPrecision);
  if (options.stateDictType !== undefined && !["full", "sharded"].includes(options.stateDictType))
    throw new FulmenError(
      `FSDPStrategy: stateDictType must be "full" or "sharded", got ${String(options.stateDictType)}.`,
    );
  return sharding;
}

const DTYPES: MixedPrecisionDtype[] = ["float32", "bfloat16", "float16"];
const MIXED_KEYS = ["paramDtype", "reduceDtype", "bufferDtype"];

function checkMixedPrecision(mixed: FSDPMixedPrecision | undefined): void {
  if (mixed === undefined) return;
  if (typeof mixed !== "object" || mixed === null)
    throw new FulmenError(
      "FSDPStrategy: mixedPrecision must be an object { paramDtype, reduceDtype, bufferDtype }.",
    );
  checkOptionNames("FSDPStrategy mixedPrecision", mixed, MIXED_KEYS);
  for (const key of MIXED_KEYS) {
    const value = (mixed as Record<string, unknown>)[key];
    if (value !== undefined && !DTYPES.includes(value as MixedPrecisionDtype))
      throw new FulmenError(
        `FSDPStrategy: mixedPrecision.${key} must be one of ${DTYPES.join(", ")}, got ${JSON.stringify(value)}.`,
      );
  }
}

/** The dtype a precision implies when mixedPrecision leaves one out (Lightning's FSDP precision plugin). */
function derivedDtype(precision: string): MixedPrecisionDtype {
  return precision === "bf16-mixed" ? "bfloat16" : precision === "16-mixed" ? "float16" : "float32";
}

/**
 * Fully sharded data parallel (Lightning's `FSDPStrategy`, PyTorch's `FullyShardedDataParallel`): with
 * `FULL_SHARD`, every unit (a module chosen by `autoWrapPolicy`) keeps only this rank's shard of one flat, padded
 * buffer of its parameters; before its forward the parameters are all-gathered and freed after it; in backward
 * they are gathered again into the buffers tfjs's tape holds and its gradients reduce-scattered at once, so each rank
 * keeps only its gradient shard; the optimizer steps only the local shard. `SHARD_GRAD_OP` keeps parameters whole
 * and shards gradients and optimizer state (ZeRO-2); `NO_SHARD` is DDP. Set up the model (then its optimizer)
 * with Fabric or the Trainer as usual: `stateDict()` of the model and optimizer gathers the full state, so
 * checkpoints are ordinary files that load on any number of ranks; with `stateDictType: "sharded"` each rank
 * writes only its parts into a checkpoint folder.
 */
export class FSDPStrategy extends ShardedStrategy {
  /** The strategy's registered name, `"fsdp"` (as Lightning's `strategy="fsdp"`). */
  override readonly name: string = "fsdp";
  /** What is sharded. */
  readonly shardingStrategy: ShardingStrategy;
  private readonly policy: AutoWrapPolicy | undefined;
  private readonly cpuOffload: boolean;
  private readonly checkpointClasses: ModuleClass[];
  private readonly mixedOption: FSDPMixedPrecision;
  private resolved: ShardedDtypes = { param: null, reduce: null, buffer: null };

  constructor(options: FSDPStrategyOptions = {}) {
    const sharding = checkOptions(options);
    const {
      shardingStrategy: _s,
      autoWrapPolicy,
      activationCheckpointing,
      stateDictType,
      cpuOffload,
      mixedPrecision,
      ...parallel
    } = options;
    super(parallel, stateDictType ?? "full");
    this.mixedOption = mixedPrecision ?? {};
    this.shardingStrategy = sharding;
    this.cpuOffload = cpuOffload === true;
    this.policy = autoWrapPolicy;
    this.checkpointClasses =
      activationCheckpointing === undefined
        ? []
        : typeof activationCheckpointing === "function"
          ? [activationCheckpointing]
          : [...activationCheckpointing];
  }

  /** Resolves mixedPrecision against the run's precision (the dtypes left out follow it). */
  override connect(accelerator: Accelerator, precision: Precision): void {
    const derived = derivedDtype(precision.name);
    const pick = (key: keyof FSDPMixedPrecision): HalfDtype | null => {
      const dtype = this.mixedOption[key] ?? derived;
      return dtype === "float32" ? null : dtype;
    };
    this.resolved = { param: pick("paramDtype"), reduce: pick("reduceDtype"), buffer: pick("bufferDtype") };
    super.connect(accelerator, precision);
  }

  /** The dtypes in force, as FSDP's MixedPrecision names them (after the strategy is connected). */
  get mixedPrecision(): Required<FSDPMixedPrecision> {
    const name = (dtype: HalfDtype | null): MixedPrecisionDtype => dtype ?? "float32";
    return {
      paramDtype: name(this.resolved.param),
      reduceDtype: name(this.resolved.reduce),
      bufferDtype: name(this.resolved.buffer),
    };
  }

  protected override get dtypes(): ShardedDtypes {
    return this.resolved;
  }

  protected get plan(): ShardingPlan {
    const sharding = this.shardingStrategy;
    if (sharding === "NO_SHARD") return { optimizerState: false, gradients: false, parameters: false };
    return { optimizerState: true, gradients: true, parameters: sharding !== "SHARD_GRAD_OP" };
  }

  protected override get replicatesAcrossNodes(): boolean {
    return this.shardingStrategy === "HYBRID_SHARD";
  }

  /** What `cpuOffload` moves to host memory: nothing under `NO_SHARD`, parameters only where sharded. */
  protected override get offload(): {
    /** Parameter shards kept in host memory: `cpuOffload` with `FULL_SHARD` or `HYBRID_SHARD`. */
    parameters: boolean;
    /** Optimizer state kept in host memory between steps: `cpuOffload` with any sharding but `NO_SHARD`. */
    optimizer: boolean;
  } {
    const on = this.cpuOffload && this.shardingStrategy !== "NO_SHARD";
    return { parameters: on && this.plan.parameters, optimizer: on };
  }

  protected unitsOf(root: Module): Module[] {
    return unitsByPolicy(root, this.policy);
  }

  protected override checkpointedModules(root: Module): Module[] {
    const classes = this.checkpointClasses;
    return root.modules().filter((m) => m !== root && classes.some((cls) => m instanceof cls));
  }
}
