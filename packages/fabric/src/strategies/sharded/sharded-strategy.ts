import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  type Accelerator,
  type CheckpointContents,
  type CheckpointIO,
  type Collective,
  castToHalf,
  checkpoint,
  clipGradNorm_,
  clipGradValue_,
  FulmenError,
  type HalfDtype,
  type HalfFormat,
  halfFormat,
  type Module,
  type Optimizer,
  Parameter,
  type ParameterSource,
  type Precision,
  type SafetensorsEntry,
  type StateDict,
  tf,
  toParameterList,
} from "@fulmen/core";
import {
  encodeState,
  hasDeferredParameters,
  markHalf,
  materializeDeferred,
  removeOtherGenerations,
  type ShardedMetadata,
  type StateFilter,
  shardFileName,
  withBufferFormat,
  writeShardedMetadata,
} from "@fulmen/core/plugin";
import { DDPStrategy, type DDPStrategyOptions } from "../ddp/ddp-strategy";
import type { GradientCompression } from "../ddp/gradient-reducer";
import { verifySameModelOnEveryRank } from "../ddp/model-agreement";
import { allGatherValues, broadcastTensors } from "../parallel/tensor-collectives";
import { FlatParameter } from "./flat-parameter";
import { GatherPrefetch } from "./gather-prefetch";
import { globalGradientNorm } from "./global-norm";
import { HostStaging } from "./host-staging";
import { ShardedOptimizer } from "./sharded-optimizer";
import { assignParameters } from "./unit-assignment";
import { isRecordingTape, UnitRun } from "./unit-run";

/** What a sharded strategy shards (ZeRO's stages, FSDP's sharding strategies). */
export interface ShardingPlan {
  /** Optimizer state (ZeRO-1 and up). */
  optimizerState: boolean;
  /** Gradients: reduce-scattered into shards instead of all-reduced (ZeRO-2 and up, FSDP `SHARD_GRAD_OP`). */
  gradients: boolean;
  /** Parameters, gathered only around their unit's forward and backward (ZeRO-3, FSDP `FULL_SHARD`). */
  parameters: boolean;
}

/** Elements of a flat parameter made for parameters outside every unit (16 MiB of float32). */
const FLAT_CHUNK = 4 * 1024 * 1024;

/**
 * The dtypes a sharded strategy computes, reduces and keeps buffers in (FSDP's `MixedPrecision`), each null for
 * float32: `param`, what the model's forward reads its parameters in (a unit's are gathered in it; the shards
 * and the optimizer stay float32); `reduce`, what gradients are reduced in; `buffer`, what buffers (running
 * statistics) are stored in from their next update.
 */
export interface ShardedDtypes {
  /** The dtype units' parameters are gathered and computed in (FSDP's `param_dtype`); null: float32. */
  param: HalfDtype | null;
  /** The dtype gradients are reduced in across ranks (FSDP's `reduce_dtype`); null: float32. */
  reduce: HalfDtype | null;
  /** The dtype buffer updates (running statistics) are stored in (FSDP's `buffer_dtype`); null: float32. */
  buffer: HalfDtype | null;
}

/** Which state dict a sharded strategy's checkpoints hold (Lightning's `state_dict_type`). */
export type StateDictType = "full" | "sharded";

/** The state-dict keys of a set-up module, recorded while its parameters were whole. */
interface ModuleKeys {
  keys: string[];
  params: Map<string, Parameter>;
}

/** One sharding unit of a set-up module: its flat parameter and the forward it replaced. */
interface Unit {
  module: Module;
  flat: FlatParameter;
  forward: unknown;
}

/**
 * The base of the sharded data-parallel strategies (DeepSpeed's ZeRO, FSDP): DDP's processes, start from rank
 * 0's weights and no-sync accumulation, plus sharding by {@link ShardingPlan}. Optimizer state is kept per
 * rank for its shard of each flat parameter ({@link ShardedOptimizer}); sharded gradients are reduce-scattered
 * after a synchronised backward; sharded parameters keep only this rank's shard between uses, and each unit
 * (module chosen by {@link ShardedStrategy.unitsOf}) all-gathers its parameters for its forward, frees them
 * after (their buffers, while the tape keeps its references), and when backward reaches the unit gathers them
 * again into the same buffers and reduce-scatters its gradients at once (`UnitRun`). Gradient clipping uses the norm across shards; the module's `stateDict()` and the
 * optimizers' `stateDict()` gather the full state, so checkpoints are ordinary files that load on any number
 * of ranks. Subclasses say what to shard and which modules are units.
 */
export abstract class ShardedStrategy extends DDPStrategy {
  private flats: FlatParameter[] = [];
  private units: Unit[] = [];
  private shardedOptimizers: ShardedOptimizer[] = [];
  /** A scalar on the tape that every unit takes as an input, so backward reaches units fed only by data. */
  private anchor: Parameter | null = null;
  /** Units' forward calls recorded on the tape since the last backward ended. */
  private runs: UnitRun[] = [];
  /** Gathers units' parameters, the next unit's with them (made when the first unit runs: needs the collective). */
  private prefetch: GatherPrefetch | null = null;
  /** How every flat parameter moves values between tensors and host arrays (made at the first setup). */
  private staging: HostStaging | null = null;
  /** What ends the unit gradient reduction running in the background (at most one is in flight), or null. */
  private reduceInFlight: (() => void) | null = null;
  /** Tensors of the last gathered module state dict (callers do not own a state dict's tensors). */
  private lastState: tf.Tensor[] = [];
  private readonly patchedModules: Module[] = [];
  /** Roots whose forward {@link ShardedStrategy.wrapRoot} replaced, with the forward they had of their own. */
  private readonly wrappedRoots: Array<{ module: Module; forward: unknown }> = [];
  /** While a sharded checkpoint is encoded: the parts of tensors made for it, with their place in the whole. */
  private localParts: Map<tf.Tensor, { from: number; shape: number[] }> | null = null;
  /**
   * With {@link ShardedStrategy.replicatesAcrossNodes} on several machines: the ranks of this machine (which
   * shard among themselves) and the ranks holding the same shard on the other machines (which average their
   * gradient shards); made at launch. Null: one sharding group, the whole world.
   */
  private hybridGroups: { shard: Collective; replicas: Collective } | null = null;

  constructor(
    options: DDPStrategyOptions = {},
    /**
     * `"full"`: checkpoints gather the whole state into one ordinary file (rank 0 writes); `"sharded"`: a folder
     * with one file per rank holding its parts, and metadata, that loads on any number of ranks.
     */
    protected readonly stateDictType: StateDictType = "full",
  ) {
    super(options);
  }

  /** What this strategy shards. */
  protected abstract get plan(): ShardingPlan;

  /**
   * Whether sharding stays within each machine, the machines holding replicas (FSDP's `HYBRID_SHARD`): shards
   * are gathered and gradients reduce-scattered among a machine's ranks only, then each gradient shard is
   * averaged with the same shard on the other machines. Off by default (one sharding group, the whole world).
   */
  protected get replicatesAcrossNodes(): boolean {
    return false;
  }

  /**
   * Launches as DDP does; when sharding stays within each machine ({@link ShardedStrategy.replicatesAcrossNodes}
   * on several machines), splits the processes into a group per machine and a group per local rank.
   */
  override async launch(): Promise<void> {
    await super.launch();
    if (!this.replicatesAcrossNodes || this.numNodes <= 1 || this.hybridGroups !== null) return;
    const world = this.collective;
    if (world.split === undefined)
      throw new FulmenError(
        `The "${this.name}" strategy: sharding within each machine needs a collective backend with subgroups (split), and this one has none; use the "gloo" backend or shard across all machines.`,
      );
    const shard = await world.split(this.nodeRank);
    const replicas = await world.split(this.localRank);
    if (shard.worldSize !== this.numProcesses || replicas.worldSize !== this.numNodes)
      throw new FulmenError(
        `The "${this.name}" strategy: the machines do not run ${this.numProcesses} process(es) each (a machine holds ${shard.worldSize}, a local rank is found on ${replicas.worldSize} of ${this.numNodes}); check NODE_RANK and LOCAL_RANK on every machine.`,
      );
    this.hybridGroups = { shard, replicas };
  }

  /** The ranks that shard parameters, gradients and optimizer state among themselves. */
  protected get shardGroup(): Collective {
    return this.hybridGroups?.shard ?? this.collective;
  }

  /**
   * Whether this rank writes its shards into a sharded checkpoint: on one machine, or replicating across
   * machines, on the first (the others hold copies).
   */
  private get writesShards(): boolean {
    return this.hybridGroups === null || this.hybridGroups.replicas.rank === 0;
  }

  /** The modules of `root` whose parameters are gathered together (sharded parameters only). */
  protected abstract unitsOf(root: Module): Module[];

  /**
   * What lives in host memory instead of the accelerator's (DeepSpeed's offload, FSDP's cpuOffload): the
   * parameter shards, and the optimizer state (stepped on the device, kept on the host between steps). None by
   * default; only where the accelerator has memory of its own.
   */
  protected get offload(): {
    /** Keep the parameter shards in host memory between uses (DeepSpeed's `offload_param`, FSDP's cpuOffload). */
    parameters: boolean;
    /** Keep the optimizer state in host memory between steps (DeepSpeed's `offload_optimizer`). */
    optimizer: boolean;
  } {
    return { parameters: false, optimizer: false };
  }

  /**
   * Whether communication overlaps computation where the collective can start it in the background: the next
   * unit's all-gather runs while the current unit computes (prefetch), and a unit's gradient reduce-scatter while
   * backward goes on to the next unit (one in flight). On by default (PyTorch's FSDP always overlaps; DeepSpeed's
   * `overlap_comm`). Off: the next unit is gathered in the same call, and gradients are reduced in place.
   */
  protected get overlapCommunication(): boolean {
    return true;
  }

  /** What the strategy computes, reduces and keeps buffers in (all float32 by default). */
  protected get dtypes(): ShardedDtypes {
    return { param: null, reduce: null, buffer: null };
  }

  /** Gradients that DDP's reducer averages (no sharded gradients) travel in the reduce dtype too. */
  protected override get gradientCompression(): GradientCompression {
    const reduce = this.dtypes.reduce;
    return reduce === null ? super.gradientCompression : reduce === "bfloat16" ? "bf16" : "fp16";
  }

  /** A flat parameter of this strategy, with its dtypes. */
  private makeFlat(params: Parameter[], owner: string): FlatParameter {
    const flat = new FlatParameter(params, this.shardGroup, owner, this.hybridGroups?.replicas ?? null);
    flat.paramDtype = this.dtypes.param;
    flat.reduceDtype = this.dtypes.reduce;
    this.staging ??= new HostStaging(this.accelerator ?? {});
    flat.staging = this.staging;
    // Two flat gradients live at once in a step (one reduced in the background while the next is made), and
    // the shards being gathered.
    const scratch = this.staging.scratch;
    scratch.maxBytes = Math.max(scratch.maxBytes, 3 * 4 * flat.layout.paddedNumel);
    return flat;
  }

  /**
   * Parameters kept whole under sharded parameters (DeepSpeed's `stage3_param_persistence_threshold`): small
   * ones, whose gathering would cost a collective call each for little memory. Their gradients and optimizer
   * state are sharded all the same. None by default.
   */
  protected keepsWhole(_param: Parameter): boolean {
    return false;
  }

  /** Modules whose forward is recomputed in backward (activation checkpointing); none by default. */
  protected checkpointedModules(_root: Module): Module[] {
    return [];
  }

  /**
   * Float32 weights are what the shards hold: "32-true", "bf16-mixed" and "16-mixed" (the loss scaler unscales the gradient shards and skips a step
   * when any rank's shard overflowed). Half weights ("bf16-true", "16-true") are refused until shards hold them.
   */
  override connect(accelerator: Accelerator, precision: Precision): void {
    const offload = this.offload;
    if ((offload.parameters || offload.optimizer) && accelerator.hasDeviceMemory !== true)
      throw new FulmenError(
        `The "${this.name}" strategy: offloading to host memory needs an accelerator with memory of its own (a GPU, accelerator "cuda"); the "${accelerator.name}" accelerator's tensors already live in host memory. Turn offloading off.`,
      );
    if (!["32-true", "bf16-mixed", "16-mixed"].includes(precision.name))
      throw new FulmenError(
        `The "${this.name}" strategy: precision "${precision.name}" is not implemented yet with sharding in this version of Fulmen; use "32-true", "bf16-mixed" or "16-mixed".`,
      );
    super.connect(accelerator, precision);
  }

  /** Sharded parameters: a module made under `initModule({ emptyInit: true })` is materialised unit by unit here. */
  override get materializesDeferred(): boolean {
    return this.plan.parameters;
  }

  override setupModule<M extends Module>(module: M): M {
    const owned = new Set(this.shardedOptimizers.flatMap((o) => o.flats.flatMap((f) => f.params)));
    if (module.parameters().some((p) => owned.has(p)))
      throw new FulmenError(
        `The "${this.name}" strategy: set up the module before its optimizer (fabric.setup(model, optimizer) or fabric.setupModule first).`,
      );
    const deferred = hasDeferredParameters(module);
    if (deferred && !this.plan.parameters) materializeDeferred(module);
    const prepared =
      deferred && this.plan.parameters ? this.prepareDeferred(module) : super.setupModule(module);
    for (const m of this.checkpointedModules(prepared)) this.checkpointForward(m);
    this.wrapRoot(prepared);
    if (!this.plan.parameters) return prepared;
    // The state-dict entries of every module, from the parameter objects (their values are not read): a
    // sharded checkpoint lists the same entries without gathering. A shared module is in it twice, as in PyTorch.
    const keys = new Map<Module, ModuleKeys>();
    for (const m of prepared.modules()) {
      if (m.parameters().length === 0) continue;
      const entries = m.namedStateEntries();
      const params = new Map<string, Parameter>();
      for (const [key, value] of entries) if (value instanceof Parameter) params.set(key, value);
      keys.set(m, { keys: entries.map(([key]) => key), params });
    }
    const assigned = assignParameters(prepared, this.unitsOf(prepared));
    const rootParams = [...assigned.rootParams];
    const units = assigned.units.map((unit) => {
      rootParams.push(...unit.owned.filter((p) => this.keepsWhole(p)));
      return { ...unit, owned: unit.owned.filter((p) => !this.keepsWhole(p)) };
    });
    if (units.some((u) => u.owned.length > 0) && this.anchor === null)
      this.anchor = new Parameter(tf.scalar(0));
    const flatOf = new Map<Module, FlatParameter>();
    for (const { name, module: unitModule, owned: params } of units) {
      if (params.length === 0) continue;
      const flat = this.makeFlat(params, `unit '${name}' (${unitModule.constructor.name})`);
      flat.offloadValues = this.offload.parameters;
      flatOf.set(unitModule, flat);
      this.flats.push(flat);
      this.units.push({ module: unitModule, flat, forward: this.wrapUnit(unitModule, flat) });
    }
    if (deferred) {
      // Unit by unit, children before parents (the order of an eager model's initialisation): each unit is
      // materialised, made rank 0's on every rank, and sharded before the next one exists.
      materializeDeferred(prepared, (m) => {
        const flat = flatOf.get(m);
        if (flat === undefined) return;
        this.copyFromRankZero(flat.params);
        flat.shardValues();
      });
      this.copyFromRankZero(rootParams);
    } else for (const flat of flatOf.values()) flat.shardValues();
    if (rootParams.length > 0)
      this.flats.push(this.makeFlat(rootParams, "the root module (parameters outside every unit)"));
    for (const [m, k] of keys) this.patchStateDict(m, k);
    return prepared;
  }

  /**
   * DDP's setup for a module whose parameters have no values yet: the precision's conversion, and the check that
   * every rank holds the same entries (names, shapes, dtypes); the values are copied from rank 0 unit by unit.
   */
  private prepareDeferred<M extends Module>(module: M): M {
    const converted = this.precision.convertModule(module);
    verifySameModelOnEveryRank(
      this.collective,
      converted.namedStateEntries().map(([name, value]) => ({
        name,
        shape: value.shape,
        dtype: value instanceof Parameter ? "float32" : value.dtype,
      })),
    );
    return converted;
  }

  /**
   * Gives `params` rank 0's values on every rank, as DDP's setup does for the whole model. (Buffers are made
   * the same way on every rank: layers fill them with constants, not random draws.)
   */
  private copyFromRankZero(params: Parameter[]): void {
    if (params.length === 0) return;
    const copies = broadcastTensors(
      this.collective,
      params.map((p) => p.data),
      0,
    );
    params.forEach((p, i) => {
      p.assign(copies[i]!);
    });
    for (const t of copies) t.dispose();
  }

  /**
   * Makes a unit's forward gather its parameters and free them after: in training a `UnitRun` that
   * gathers them again when backward reaches the unit and reduce-scatters its gradients; otherwise (evaluation,
   * a checkpointed region's forward) just around the call.
   */
  private wrapUnit(unit: Module, flat: FlatParameter): unknown {
    const forward = Object.hasOwn(unit, "forward") ? (unit as { forward: unknown }).forward : undefined;
    const original = unit.forward.bind(unit) as (...args: unknown[]) => unknown;
    const anchor = this.anchor!;
    const half = formatOf(this.dtypes.param);
    Object.defineProperty(unit, "forward", {
      configurable: true,
      writable: true,
      enumerable: false,
      value: (...args: unknown[]) => {
        if (!isRecordingTape()) {
          flat.gather(true);
          if (half !== null) for (const p of flat.params) markHalf(p.data, half);
          try {
            return original(...args);
          } finally {
            flat.release();
          }
        }
        const overlap = this.overlapCommunication;
        this.prefetch ??= new GatherPrefetch(this.shardGroup, overlap);
        const run = new UnitRun(
          flat,
          this.prefetch,
          anchor.data,
          () => this.syncGradients,
          half,
          overlap ? this.deferReduce : undefined,
        );
        this.runs.push(run);
        return run.run(() => original(...args));
      },
    });
    return forward;
  }

  /**
   * With half dtypes, makes the root's forward read the parameters held whole (outside units, or all of them
   * when parameters are not sharded) through a cast to the param dtype, and store buffer updates in the buffer
   * dtype. Units gather theirs in the param dtype themselves.
   */
  private wrapRoot(root: Module): void {
    const param = formatOf(this.dtypes.param);
    const buffer = formatOf(this.dtypes.buffer);
    if (param === null && buffer === null) return;
    const own = Object.hasOwn(root, "forward") ? (root as { forward: unknown }).forward : undefined;
    const original = root.forward.bind(root) as (...args: unknown[]) => unknown;
    Object.defineProperty(root, "forward", {
      configurable: true,
      writable: true,
      enumerable: false,
      value: (...args: unknown[]) => {
        const whole = param === null ? [] : root.parameters().filter((p) => p.isMaterialized);
        for (const p of whole) p.overlay(castToHalf(p.data, param!));
        try {
          return withBufferFormat(buffer, () => original(...args));
        } finally {
          for (const p of whole) p.overlay(null);
        }
      },
    });
    this.wrappedRoots.push({ module: root, forward: own });
  }

  /** Recomputes a module's forward in backward instead of keeping its activations. */
  private checkpointForward(module: Module): void {
    const original = module.forward.bind(module) as (...args: never[]) => unknown;
    Object.defineProperty(module, "forward", {
      configurable: true,
      writable: true,
      enumerable: false,
      // The parameters are read when called: under sharded parameters they are the ones gathered right then.
      // The anchor makes the recomputation reach units inside the region, which gather their own.
      value: (...args: unknown[]) =>
        checkpoint(original, args, {
          params: [
            ...module.parameters().filter((p) => p.isMaterialized),
            ...(this.anchor === null ? [] : [this.anchor]),
          ],
        }),
    });
  }

  /**
   * The module's stateDict and loadStateDict see whole parameters: gathered for the call, resharded after (every
   * rank must call them, as it calls the optimizer's).
   */
  private patchStateDict(module: Module, keys: ModuleKeys): void {
    const sharded = () => this.flats.filter((f) => f.isSharded && f.params.some((p) => mine.has(p)));
    const mine = new Set(module.parameters());
    const stateDict = module.stateDict.bind(module);
    const loadStateDict = module.loadStateDict.bind(module);
    const target = module as unknown as Record<string, unknown>;
    target.stateDict = (prefix?: string): StateDict => {
      if (this.localParts !== null) return this.localStateDict(module, keys, prefix ?? "");
      for (const t of this.lastState) t.dispose();
      this.lastState = [];
      const flats = sharded();
      for (const f of flats) f.gather();
      try {
        const state = stateDict(prefix);
        for (const key of Object.keys(state)) {
          const kept = tf.keep(tf.clone(state[key]!));
          this.lastState.push(kept);
          state[key] = kept;
        }
        return state;
      } finally {
        for (const f of flats) f.release();
      }
    };
    target.loadStateDict = (state: StateDict, options?: { strict?: boolean }) => {
      const flats = sharded();
      for (const f of flats) f.gather();
      try {
        return loadStateDict(state, options);
      } finally {
        for (const f of flats) f.shardValues();
      }
    };
    this.patchedModules.push(module);
  }

  /**
   * The module's state dict with each sharded parameter as the piece of it this rank holds (maybe empty), the
   * rest whole, for a sharded checkpoint; the pieces are recorded in {@link ShardedStrategy.localParts}.
   */
  private localStateDict(module: Module, keys: ModuleKeys, prefix: string): StateDict {
    const parts = this.localParts!;
    const buffers = new Map(module.namedBuffers());
    const out: StateDict = {};
    for (const key of keys.keys) {
      const name = prefix === "" ? key : `${prefix}.${key}`;
      const p = keys.params.get(key);
      if (p === undefined) {
        const buffer = buffers.get(key);
        if (buffer === undefined)
          throw new FulmenError(
            `${module.constructor.name}: the buffer '${key}' is gone; it cannot be saved.`,
          );
        out[name] = buffer;
        continue;
      }
      const flat = this.flats.find((f) => f.isSharded && f.params.includes(p));
      if (flat === undefined) {
        out[name] = p.data;
        continue;
      }
      const piece = flat.layout.pieces.find((x) => x.param === p);
      const values = flat.values();
      const tensor = piece === undefined ? tf.zeros([0]) : tf.slice(values, [piece.at], [piece.length]);
      values.dispose();
      parts.set(tensor, { from: piece?.from ?? 0, shape: p.shape });
      out[name] = tensor;
    }
    return out;
  }

  /**
   * With `stateDictType: "sharded"`, encodes the state with each sharded tensor as this rank's part of it (no
   * gathering); {@link ShardedStrategy.saveCheckpoint} then writes a folder. Otherwise the ordinary encoding.
   */
  override encodeCheckpoint(
    state: Record<string, unknown>,
    filters: Record<string, StateFilter>,
  ): CheckpointContents {
    if (this.stateDictType !== "sharded") return encodeState(state, filters);
    const parts = new Map<tf.Tensor, { from: number; shape: number[]; optimizer?: boolean }>();
    const record = (tensor: tf.Tensor, from: number, shape: number[]) =>
      parts.set(tensor, { from, shape, optimizer: true });
    this.localParts = parts;
    for (const o of this.shardedOptimizers) o.localParts = record;
    try {
      const byName: NonNullable<CheckpointContents["parts"]> = {};
      const contents = encodeState(state, filters, (name, tensor) => {
        const part = parts.get(tensor);
        if (part !== undefined) byName[name] = part;
      });
      return { ...contents, parts: byName };
    } finally {
      this.localParts = null;
      for (const o of this.shardedOptimizers) o.localParts = null;
      for (const t of parts.keys()) t.dispose();
    }
  }

  /**
   * The files rank `rank` writes for a sharded checkpoint of generation `generation`: one for its parts of the
   * model (and, on rank 0, every whole tensor) and one for its parts of the optimizer state; the same name for
   * both by default. A file a rank has nothing for is not written.
   */
  protected checkpointFiles(
    rank: number,
    generation: string,
  ): {
    /** The file (in the checkpoint folder) of the rank's parts of the model. */
    model: string;
    /** The file of the rank's parts of the optimizer state. */
    optimizer: string;
  } {
    const name = shardFileName(rank, generation);
    return { model: name, optimizer: name };
  }

  /**
   * Writes a checkpoint: an ordinary file from rank 0, or for a sharded encoding a folder: every rank writes its
   * parts (rank 0 also the whole tensors) to the files of this save's generation
   * ({@link ShardedStrategy.checkpointFiles}), then rank 0 writes the metadata that makes this generation the
   * checkpoint and removes the previous one's files. A rank that dies during the save leaves the previous
   * checkpoint in the folder as it was.
   */
  override saveCheckpoint(contents: CheckpointContents, path: string, io: CheckpointIO): void {
    if (contents.parts === undefined) {
      super.saveCheckpoint(contents, path, io);
      return;
    }
    const parts = contents.parts;
    const rank = this.globalRank;
    if (rank === 0) {
      try {
        mkdirSync(path, { recursive: true });
      } catch (error) {
        throw new FulmenError(
          `Cannot write the sharded checkpoint folder ${path}: ${(error as Error).message}. Choose a path that is a folder or does not exist.`,
        );
      }
    }
    const generation = this.broadcast(rank === 0 ? randomBytes(6).toString("hex") : "", 0);
    this.barrier("sharded save: folder");
    const names = this.checkpointFiles(rank, generation);
    // Per file this rank writes: its entries, and where each sits in the whole tensor.
    const files = new Map<string, Record<string, SafetensorsEntry>>();
    const chunks: Record<string, Record<string, { from: number; length: number }>> = {};
    const put = (file: string, name: string, entry: SafetensorsEntry, from: number) => {
      if (!files.has(file)) {
        files.set(file, {});
        chunks[file] = {};
      }
      files.get(file)![name] = entry;
      chunks[file]![name] = { from, length: numel(entry.shape) };
    };
    for (const [name, entry] of Object.entries(contents.tensors)) {
      const part = parts[name];
      if (part === undefined) {
        if (rank === 0) put(names.model, name, entry, 0);
      } else if (numel(entry.shape) > 0 && this.writesShards)
        put(part.optimizer === true ? names.optimizer : names.model, name, entry, part.from);
    }
    for (const [file, tensors] of files) io.save({ tensors, skeleton: null }, join(path, file));
    const everyone = allGatherValues(this.collective, chunks);
    if (rank === 0) {
      const fileNames = everyone.flatMap((byFile) => Object.keys(byFile));
      const tensors: ShardedMetadata["tensors"] = {};
      for (const [name, entry] of Object.entries(contents.tensors)) {
        const found: ShardedMetadata["tensors"][string]["chunks"] = [];
        let file = 0;
        for (const byFile of everyone)
          for (const inFile of Object.values(byFile)) {
            const chunk = inFile[name];
            if (chunk !== undefined) found.push({ file, ...chunk });
            file++;
          }
        tensors[name] = { dtype: entry.dtype, shape: parts[name]?.shape ?? entry.shape, chunks: found };
      }
      writeShardedMetadata(path, {
        format: "fulmen-sharded-checkpoint/1",
        generation,
        files: fileNames,
        skeleton: contents.skeleton,
        tensors,
      });
      removeOtherGenerations(path, generation);
    }
    this.barrier("sharded save: done");
  }

  override setupOptimizer<O extends Optimizer>(optimizer: O): O {
    if (!this.plan.optimizerState) return optimizer;
    const params = [...new Set(optimizer.paramGroups.flatMap((g) => g.params))].filter((p) => p.requiresGrad);
    const covered = new Set(this.flats.flatMap((f) => f.params));
    // Parameters in no unit: flat parameters of about FLAT_CHUNK elements each, so that reducing, stepping and
    // gathering them never needs more than one chunk's copies at once.
    let chunk: Parameter[] = [];
    let size = 0;
    const flush = () => {
      if (chunk.length > 0) this.flats.push(this.makeFlat(chunk, "the optimizer's parameters"));
      chunk = [];
      size = 0;
    };
    for (const p of params.filter((q) => !covered.has(q))) {
      if (size > 0 && size + p.size > FLAT_CHUNK) flush();
      chunk.push(p);
      size += p.size;
    }
    flush();
    const wanted = new Set(params);
    const flats = this.flats.filter((f) => f.params.some((p) => wanted.has(p)));
    this.shardedOptimizers.push(
      new ShardedOptimizer(optimizer, flats, this.shardGroup, !this.plan.gradients, this.offload.optimizer),
    );
    return optimizer;
  }

  override backward(closure: () => tf.Scalar, params: ParameterSource): tf.Scalar {
    if (!this.plan.gradients) return super.backward(closure, params);
    // Parameters held whole are differentiated as variables; sharded ones reach their unit's run on the tape.
    const onTape = toParameterList(params).filter((p) => p.isMaterialized);
    let loss: tf.Scalar;
    try {
      loss = this.precision.backward(closure, this.anchor === null ? onTape : [...onTape, this.anchor]);
    } finally {
      this.settleRuns();
    }
    this.anchor?.setGrad(null);
    if (this.syncGradients) {
      for (const flat of this.flats) if (!flat.isSharded) flat.reduceHeldGradients();
      // Parameters no flat parameter covers (none in the usual setup) are averaged as DDP does.
      const covered = new Set(this.flats.flatMap((f) => f.params));
      const rest = onTape.filter((p) => p.requiresGrad && p.grad !== null && !covered.has(p));
      if (rest.length > 0) this.gradientReducer.allReduce(rest);
    }
    return loss;
  }

  /** Ends the units' runs of the last forward (their gradients are in the shards once backward is done). */
  private settleRuns(): void {
    const runs = this.runs;
    this.runs = [];
    try {
      for (const run of runs) run.settle();
    } finally {
      this.finishReduce();
      this.prefetch?.endStep();
    }
  }

  /** Holds a unit's reduction started in the background, first ending the one before (one in flight). */
  private readonly deferReduce = (finish: () => void): void => {
    this.finishReduce();
    this.reduceInFlight = finish;
  };

  /** Ends the reduction in flight, if any: waits for it and adds its shard. */
  private finishReduce(): void {
    const finish = this.reduceInFlight;
    this.reduceInFlight = null;
    finish?.();
  }

  /**
   * Clips by the global norm (or by value). Gradients held whole in the parameters (ZeRO-1, the same on every
   * rank) count once; gradient shards combine their partial norms across ranks with an all-reduce.
   */
  override clipGradients(
    module: Module,
    _optimizer: Optimizer,
    options: { maxNorm?: number; clipVal?: number; normType: number; errorIfNonfinite: boolean },
  ): tf.Scalar | null {
    return this.clipParameters(toParameterList(module), options);
  }

  /** {@link ShardedStrategy.clipGradients} for a list of parameters (an optimizer's, say). */
  protected clipParameters(
    list: Parameter[],
    options: { maxNorm?: number; clipVal?: number; normType: number; errorIfNonfinite: boolean },
  ): tf.Scalar | null {
    const { maxNorm, clipVal, normType, errorIfNonfinite } = options;
    const params = new Set(list);
    const shards = this.flats.filter((f) => f.gradShard !== null && f.params.some((p) => params.has(p)));
    const loose = [...params].filter((p) => p.grad !== null);
    if (shards.length === 0) {
      if (maxNorm !== undefined) return clipGradNorm_(loose, maxNorm, normType, { errorIfNonfinite });
      clipGradValue_(loose, clipVal!);
      return null;
    }
    if (maxNorm === undefined) {
      clipGradValue_(loose, clipVal!);
      for (const f of shards) replaceShard(f, tf.clipByValue(f.gradShard!, -clipVal!, clipVal!));
      return null;
    }
    if (!(maxNorm >= 0)) throw new FulmenError(`clipGradients: maxNorm must be >= 0, got ${maxNorm}.`);
    const total = globalGradientNorm(
      shards.map((f) => f.gradShard!),
      loose.map((p) => p.grad!),
      normType,
      (value, op) => {
        // Across one set of shards: replicas hold the same gradient shards and would count twice.
        const data = Float32Array.of(value);
        this.shardGroup.allReduce(data, op);
        return data[0]!;
      },
    );
    if (errorIfNonfinite && !Number.isFinite(total))
      throw new FulmenError(
        `clipGradients: the total norm of order ${normType} is ${total}, so the gradients cannot be clipped. Set errorIfNonfinite: false to clip anyway.`,
      );
    const totalTensor = tf.scalar(total);
    tf.tidy(() => {
      const coef = tf.minimum(tf.div(maxNorm, tf.add(totalTensor, 1e-6)), 1);
      for (const p of loose) p.setGrad(tf.mul(p.grad!, coef));
      for (const f of shards) replaceShard(f, tf.mul(f.gradShard!, coef));
    });
    return totalTensor;
  }

  /**
   * The whole gradient of every parameter of `module`, by name (FSDP's `summon_full_params(with_grads=True)`),
   * for inspecting gradients that the strategy holds as shards: after a synchronised backward the averaged
   * gradients (the same on every rank), inside `noBackwardSync` this rank's own; null where a parameter has none.
   * Every rank must call it. The caller owns the tensors.
   */
  fullGradients(module: Module): Record<string, tf.Tensor | null> {
    const byParam = new Map<Parameter, tf.Tensor | null>();
    const mine = new Set(module.parameters());
    for (const flat of this.flats)
      if (flat.params.some((p) => mine.has(p))) for (const [p, g] of flat.wholeGradients()) byParam.set(p, g);
    const out: Record<string, tf.Tensor | null> = {};
    for (const [name, p] of module.namedParameters()) {
      out[name] = byParam.has(p) ? byParam.get(p)! : p.grad === null ? null : tf.clone(p.grad);
      byParam.delete(p);
    }
    for (const g of byParam.values()) g?.dispose();
    return out;
  }

  /** Gives every module its whole parameters and original methods back, and frees the shards. */
  override teardown(): void {
    this.settleRuns();
    for (const unit of this.units) unit.flat.unshard();
    for (const wrapped of [...this.units, ...this.wrappedRoots]) {
      if (wrapped.forward === undefined) delete (wrapped.module as { forward?: unknown }).forward;
      else
        Object.defineProperty(wrapped.module, "forward", {
          value: wrapped.forward,
          writable: true,
          configurable: true,
        });
    }
    this.wrappedRoots.length = 0;
    for (const module of this.patchedModules) {
      delete (module as { stateDict?: unknown }).stateDict;
      delete (module as { loadStateDict?: unknown }).loadStateDict;
    }
    for (const flat of this.flats) flat.zeroGrad(true);
    for (const t of this.lastState) t.dispose();
    this.anchor?.dispose();
    this.anchor = null;
    this.prefetch = null;
    if (this.hybridGroups !== null) {
      this.hybridGroups.shard.close();
      this.hybridGroups.replicas.close();
      this.hybridGroups = null;
    }
    this.lastState = [];
    this.units = [];
    this.flats = [];
    this.shardedOptimizers = [];
    this.patchedModules.length = 0;
    super.teardown();
  }
}

/** The half format of a dtype (null for float32). */
function formatOf(dtype: HalfDtype | null): HalfFormat | null {
  return dtype === null ? null : halfFormat(dtype);
}

function numel(shape: number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Replaces a flat parameter's gradient shard, keeping the new one past the surrounding tidy. */
function replaceShard(flat: FlatParameter, value: tf.Tensor): void {
  const old = flat.gradShard;
  flat.gradShard = tf.keep(value) as tf.Tensor1D;
  old?.dispose();
}
