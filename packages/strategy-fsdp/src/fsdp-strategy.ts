import { checkOptionNames, FulmenError, type Module } from "@fulmen/core";
import { type ParallelStrategyOptions, ShardedStrategy, type ShardingPlan } from "@fulmen/fabric";
import { type AutoWrapPolicy, type ModuleClass, unitsByPolicy } from "./wrap-policy";

/** FSDP's sharding strategies (PyTorch's `ShardingStrategy`). */
export type ShardingStrategy = "FULL_SHARD" | "SHARD_GRAD_OP" | "NO_SHARD" | "HYBRID_SHARD";

/** Options of {@link FSDPStrategy}, with Lightning's `FSDPStrategy` names. */
export interface FSDPStrategyOptions extends ParallelStrategyOptions {
  /**
   * What is sharded (default `"FULL_SHARD"`): `FULL_SHARD` parameters, gradients and optimizer state;
   * `SHARD_GRAD_OP` gradients and optimizer state (parameters stay whole); `NO_SHARD` nothing (DDP);
   * `HYBRID_SHARD` full sharding within a machine and replicas across machines (on one machine, `FULL_SHARD`).
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
  /** FSDP's own dtypes for parameters, reductions and buffers: not implemented yet (an error when given). */
  mixedPrecision?: Record<string, unknown>;
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
  if (options.mixedPrecision !== undefined)
    throw new FulmenError(
      "FSDPStrategy: mixedPrecision is not implemented yet in this version of Fulmen; leave it out (FSDP runs in float32).",
    );
  if (options.stateDictType !== undefined && !["full", "sharded"].includes(options.stateDictType))
    throw new FulmenError(
      `FSDPStrategy: stateDictType must be "full" or "sharded", got ${String(options.stateDictType)}.`,
    );
  return sharding;
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
  override readonly name: string = "fsdp";
  /** What is sharded. */
  readonly shardingStrategy: ShardingStrategy;
  private readonly policy: AutoWrapPolicy | undefined;
  private readonly cpuOffload: boolean;
  private readonly checkpointClasses: ModuleClass[];

  constructor(options: FSDPStrategyOptions = {}) {
    const sharding = checkOptions(options);
    const {
      shardingStrategy: _s,
      autoWrapPolicy,
      activationCheckpointing,
      stateDictType,
      cpuOffload,
      mixedPrecision: _m,
      ...parallel
    } = options;
    super(parallel, stateDictType ?? "full");
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

  override configureWorld(world: { devices: number; numNodes: number }): void {
    if (this.shardingStrategy === "HYBRID_SHARD" && world.numNodes > 1)
      throw new FulmenError(
        "FSDPStrategy: HYBRID_SHARD across several machines (sharding within each, replicas across them) is not implemented yet in this version of Fulmen; use FULL_SHARD.",
      );
    super.configureWorld(world);
  }

  protected get plan(): ShardingPlan {
    const sharding = this.shardingStrategy;
    if (sharding === "NO_SHARD") return { optimizerState: false, gradients: false, parameters: false };
    return { optimizerState: true, gradients: true, parameters: sharding !== "SHARD_GRAD_OP" };
  }

  protected override get offload(): { parameters: boolean; optimizer: boolean } {
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
