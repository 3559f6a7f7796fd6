import {
  type Accelerator,
  type CheckpointIO,
  clipGradNorm_,
  clipGradValue_,
  DataLoader,
  deferParameterInit,
  FulmenError,
  type Logger,
  Module,
  type Optimizer,
  type Precision,
  type ReduceOp,
  SafetensorsCheckpointIO,
  type StateDict,
  type Strategy,
  seedEverything,
  tf,
  toParameterList,
} from "@fulmen/core";
import {
  checkOptionNames,
  decodeSkeleton,
  describeValue,
  disposeDecoded,
  encodeState,
  hasDeferredParameters,
  materializeDeferred,
  restoreState,
  type StateFilter,
  type Stateful,
} from "@fulmen/core/plugin";
import { type Connection, connect, type PrecisionInput } from "./connector/connector";
import { FabricDataLoader, type SetupDataloadersOptions } from "./data/fabric-data-loader";
import { mapTensorTree, type TensorTree, type TensorTreeResult } from "./tensor-tree";
import { isSetUp, wrapModule, wrapOptimizer } from "./wrappers";

/** Fabric's options, as Lightning's `Fabric(...)` keyword arguments. */
export interface FabricOptions {
  /** `"auto"` (default), `"cpu"`, or an Accelerator instance. */
  accelerator?: string | Accelerator;
  /** `"auto"` (default), `"single_device"`, or a Strategy instance. */
  strategy?: string | Strategy;
  /** Devices per node: a count, -1 for all, or `"auto"` (default). */
  devices?: number | "auto";
  /** Number of machines (default 1). */
  numNodes?: number;
  /** `"32-true"` (default) or a Precision instance; Lightning's aliases are accepted. */
  precision?: PrecisionInput | null;
  /** A Precision or CheckpointIO instance, or a list of them (at most one of each kind). */
  plugins?: FabricPlugin | FabricPlugin[] | null;
  /** An object, or a list of them, whose methods `fabric.call(name, ...)` invokes by name. */
  callbacks?: object | object[] | null;
  /** Experiment loggers that `log` and `logDict` write to. */
  loggers?: Logger | Logger[] | null;
}

/** A plugin instance Fabric accepts in `plugins`. */
export type FabricPlugin = Precision | CheckpointIO;

/** Options of {@link Fabric.save}. */
export interface SaveOptions {
  /** Per state key, which entries of its state dict to keep (Lightning's `filter`). */
  filter?: Record<string, StateFilter>;
}

/** Options of {@link Fabric.load} and {@link Fabric.loadRaw}. */
export interface LoadOptions {
  /** Require keys to match exactly (default true). */
  strict?: boolean;
}

/** Options of {@link Fabric.noBackwardSync}, as Lightning's `no_backward_sync` arguments. */
export interface NoBackwardSyncOptions {
  /** Skip the gradient synchronisation (default true); false runs `fn` with synchronisation as usual. */
  enabled?: boolean;
}

/** Options of {@link Fabric.rankZeroFirst}, as Lightning's `rank_zero_first` arguments. */
export interface RankZeroFirstOptions {
  /** Let the local rank 0 of every machine go first rather than only the global rank 0 (default false). */
  local?: boolean;
}

/** Options of {@link Fabric.initModule}, as Lightning's `init_module` arguments. */
export interface InitModuleOptions {
  /** Create the parameters without values; the module gets them when set up (see {@link Fabric.initModule}). */
  emptyInit?: boolean;
}

/** Options of {@link Fabric.clipGradients}: exactly one of `clipVal` and `maxNorm`. */
export interface ClipGradientsOptions {
  /** Clip by value: every gradient element is clamped to `[-clipVal, clipVal]`. */
  clipVal?: number;
  /** Clip by norm: the gradients are scaled so that their joint `normType`-norm is at most `maxNorm`. */
  maxNorm?: number;
  /** The p of the p-norm used with `maxNorm` (2, 1, `Infinity`, or any p > 0). Default 2. */
  normType?: number;
  /** With `maxNorm`, throw when the total norm is NaN or infinite. Default true, as in Lightning. */
  errorIfNonfinite?: boolean;
}

/** What `fabric.setup(module, ...optimizers)` returns: the module alone, or the module and the optimizers. */
export type SetupResult<M extends Module, O extends Optimizer[]> = O extends [] ? M : [M, ...O];

const OPTION_NAMES = [
  "accelerator",
  "strategy",
  "devices",
  "numNodes",
  "precision",
  "plugins",
  "callbacks",
  "loggers",
];
const PRECISION_STATE_KEY = "__precision__";

/**
 * Lightning Fabric for TypeScript: keep your training loop, and let Fabric choose the accelerator, strategy and
 * precision. Change `loss.backward()` to `fabric.backward(...)`, pass model and optimizer through `fabric.setup`,
 * and the loop runs unchanged on one device today and on many later.
 *
 * TensorFlow.js differentiates a function, not a finished tensor, so `backward` takes the closure that computes
 * the loss: PyTorch's `loss = lossFn(model(x), y); fabric.backward(loss)` becomes
 * `const loss = fabric.backward(() => lossFn(model.forward(x), y))`, which returns the loss.
 */
export class Fabric {
  private readonly connection: Connection;
  private readonly callbacks: object[];
  private readonly modules: Module[] = [];
  /** Every module this Fabric set up, as given, as prepared and as handed back (for `noBackwardSync`'s check). */
  private readonly setUpModules = new WeakSet<object>();
  private launched = false;
  /** Reads and writes checkpoints (safetensors files unless a CheckpointIO plugin is given). */
  readonly checkpointIO: CheckpointIO;

  constructor(given: FabricOptions = {}) {
    checkOptionNames("Fabric", given, OPTION_NAMES);
    const options = withLightningDefaults(given);
    checkFabricOptionValues(options);
    const { precisionPlugin, checkpointIO } = sortPlugins(options.plugins);
    if (precisionPlugin !== undefined && options.precision !== undefined) {
      throw new FulmenError(
        "Fabric: give the precision either as `precision` or as a plugin in `plugins`, not both.",
      );
    }
    this.connection = connect({ ...options, precision: precisionPlugin ?? options.precision });
    this.checkpointIO = checkpointIO ?? new SafetensorsCheckpointIO();
    this.callbacks = [...(options.callbacks ?? [])];
    this.loggers =
      options.loggers === undefined
        ? []
        : Array.isArray(options.loggers)
          ? [...options.loggers]
          : [options.loggers];
  }

  /** The experiment loggers. */
  readonly loggers: Logger[];

  /** The first logger, if any. */
  get logger(): Logger | undefined {
    return this.loggers[0];
  }

  /** Logs one scalar (a number or a one-element tensor) to every logger. */
  log(name: string, value: number | tf.Tensor, step?: number): void {
    this.logDict({ [name]: value }, step);
  }

  /**
   * Logs scalars to every logger; tensors become numbers. There is no reduction across processes or
   * aggregation over steps (as in Lightning Fabric); without a step each logger counts its own.
   */
  logDict(metrics: Record<string, number | tf.Tensor>, step?: number): void {
    // Loggers write on global rank 0 only, as Lightning's rank-zero-only loggers do.
    if (this.loggers.length === 0 || !this.isGlobalZero) return;
    const scalars: Record<string, number> = {};
    for (const [k, v] of Object.entries(metrics)) {
      if (typeof v === "number") scalars[k] = v;
      else if (v instanceof tf.Tensor && v.size === 1) scalars[k] = v.dataSync()[0]!;
      else throw new FulmenError(`fabric.log: '${k}' must be a number or a one-element tensor.`);
    }
    for (const logger of this.loggers) logger.logMetrics(scalars, step);
  }

  /** The chosen accelerator. */
  get accelerator(): Accelerator {
    return this.connection.accelerator;
  }

  /** The chosen strategy. */
  get strategy(): Strategy {
    return this.connection.strategy;
  }

  /** The chosen precision plugin. */
  get precision(): Precision {
    return this.connection.precision;
  }

  /** The device of this process (`"cpu:0"`). */
  get device(): string {
    return this.strategy.rootDevice;
  }

  /** The number of processes in the run (devices × numNodes). */
  get worldSize(): number {
    return this.strategy.worldSize;
  }

  /** This process's rank among all processes, from 0 to `worldSize - 1`. */
  get globalRank(): number {
    return this.strategy.globalRank;
  }

  /** The same as {@link Fabric.globalRank}. */
  get rank(): number {
    return this.strategy.globalRank;
  }

  /** This process's rank on its node, from 0 to devices - 1. */
  get localRank(): number {
    return this.strategy.localRank;
  }

  /** The rank of this process's node, from 0 to numNodes - 1. */
  get nodeRank(): number {
    return this.strategy.nodeRank;
  }

  /** Whether this process is global rank 0 (the one that should print and write files). */
  get isGlobalZero(): boolean {
    return this.strategy.globalRank === 0;
  }

  /**
   * Makes the accelerator's backend current, starts the strategy's processes (with `strategy: "ddp"` and
   * `devices: N`, this process becomes rank 0 and re-runs the script for the other local ranks) and connects
   * them; with a function, runs it as `fn(fabric)`. Call it before creating tensors; a second call does nothing
   * more.
   */
  async launch<T = void>(fn?: (fabric: Fabric) => T | Promise<T>): Promise<T | undefined> {
    if (!this.launched) {
      // The strategy first: it starts the other local ranks and says how many share the machine
      // (LOCAL_WORLD_SIZE), which accelerators with thread pools size themselves by.
      await this.strategy.launch?.();
      await this.accelerator.setup();
      this.launched = true;
    }
    return fn === undefined ? undefined : await fn(this);
  }

  /** Sets up a module and its optimizers: converts the module to the precision, and routes optimizer steps. */
  setup<M extends Module, O extends Optimizer[]>(module: M, ...optimizers: O): SetupResult<M, O> {
    const wrapped = this.setupModule(module);
    if (optimizers.length === 0) return wrapped as SetupResult<M, O>;
    return [wrapped, ...this.setupOptimizers(...optimizers)] as unknown as SetupResult<M, O>;
  }

  /** Sets up a module alone (then build its optimizer from the returned module's parameters). */
  setupModule<M extends Module>(module: M): M {
    if (isSetUp(module))
      throw new FulmenError("This module was already set up by Fabric; pass the original module.");
    // A module made under initModule({ emptyInit: true }) gets its values here, unless the strategy does it
    // unit by unit itself.
    if (this.strategy.materializesDeferred !== true && hasDeferredParameters(module))
      materializeDeferred(module);
    const prepared = this.strategy.setupModule(module);
    this.modules.push(prepared);
    const wrapped = wrapModule(prepared, this.precision);
    for (const m of [module, prepared, wrapped]) this.setUpModules.add(m);
    this.call("onAfterSetup", this, wrapped);
    return wrapped;
  }

  /** Sets up optimizers alone. */
  setupOptimizers<O extends Optimizer[]>(...optimizers: O): O {
    return optimizers.map((o) => {
      if (isSetUp(o))
        throw new FulmenError("This optimizer was already set up by Fabric; pass the original optimizer.");
      const prepared = this.strategy.setupOptimizer(o);
      return wrapOptimizer(prepared, this.strategy, (opt) =>
        this.call("onAfterOptimizerStep", this.strategy, opt),
      );
    }) as O;
  }

  /**
   * Prepares data loaders for the strategy: with several processes each gets its shard (a DistributedSampler),
   * and every pass advances the sampler's epoch. Returns one loader, or an array for several.
   */
  setupDataloaders<T, B>(loader: DataLoader<T, B>, options?: SetupDataloadersOptions): FabricDataLoader<T, B>;
  setupDataloaders<T1, B1, T2, B2>(
    a: DataLoader<T1, B1>,
    b: DataLoader<T2, B2>,
    options?: SetupDataloadersOptions,
  ): [FabricDataLoader<T1, B1>, FabricDataLoader<T2, B2>];
  setupDataloaders<T1, B1, T2, B2, T3, B3>(
    a: DataLoader<T1, B1>,
    b: DataLoader<T2, B2>,
    c: DataLoader<T3, B3>,
    options?: SetupDataloadersOptions,
  ): [FabricDataLoader<T1, B1>, FabricDataLoader<T2, B2>, FabricDataLoader<T3, B3>];
  setupDataloaders(...args: unknown[]): unknown {
    const loaders = args.filter((a): a is DataLoader<unknown, unknown> => a instanceof DataLoader);
    const options = (args.find((a) => !(a instanceof DataLoader)) ?? {}) as SetupDataloadersOptions;
    if (loaders.length === 0) throw new FulmenError("fabric.setupDataloaders: give at least one DataLoader.");
    const wrapped = loaders.map((l) => new FabricDataLoader(l, this.strategy, options));
    return wrapped.length === 1 ? wrapped[0]! : wrapped;
  }

  /**
   * Moves a tensor, module or nested collection to this process's device. TensorFlow.js keeps tensors on the
   * current backend and moves their data on first use, so this returns `value` as it is.
   */
  toDevice<T>(value: T): T {
    return value;
  }

  /**
   * Fabric's `loss.backward()`: runs `closure` on the gradient tape and accumulates gradients into the
   * parameters of `model` (default: every module set up with this Fabric), through the strategy and precision.
   * The closure returns any tensor holding one value (tfjs types most results as plain tensors); as in PyTorch,
   * a loss of several values is refused. Returns the loss as a scalar, which the caller owns.
   */
  backward(closure: () => tf.Tensor, model?: Module): tf.Scalar {
    const modules = model !== undefined ? [model] : this.modules;
    if (modules.length === 0) {
      throw new FulmenError(
        "fabric.backward: no module has been set up; call fabric.setup(model, optimizer) first.",
      );
    }
    return this.strategy.backward(
      () => scalarLoss(closure()),
      modules.length === 1 ? modules[0]! : modules.flatMap((m) => m.parameters()),
    );
  }

  /**
   * Clips the gradients of `module` by norm (`maxNorm`, `normType`) or by value (`clipVal`), unscaling them first
   * under loss scaling. Returns the total norm before clipping for `maxNorm` (the caller owns it), else null.
   */
  clipGradients(module: Module, optimizer: Optimizer, options: ClipGradientsOptions): tf.Scalar | null {
    const { clipVal, maxNorm, normType = 2, errorIfNonfinite = true } = options;
    if ((clipVal === undefined) === (maxNorm === undefined)) {
      throw new FulmenError("fabric.clipGradients: give exactly one of clipVal and maxNorm.");
    }
    this.precision.unscaleGradients(optimizer);
    // Sharded strategies hold gradient shards outside the parameters: they clip by the norm across processes.
    if (this.strategy.clipGradients !== undefined)
      return this.strategy.clipGradients(module, optimizer, { maxNorm, clipVal, normType, errorIfNonfinite });
    const params = toParameterList(module);
    if (maxNorm !== undefined) return clipGradNorm_(params, maxNorm, normType, { errorIfNonfinite });
    clipGradValue_(params, clipVal!);
    return null;
  }

  /**
   * Saves `state` (modules, optimizers, schedulers, tensors, plain values) to one checkpoint file, atomically:
   * tensors in safetensors format (PyTorch's safetensors reads the weights), the rest as JSON. The precision's
   * state (the loss scaler) is saved with it. Call it on every process; the strategy decides who writes.
   */
  save(path: string, state: Record<string, unknown>, options: SaveOptions = {}): void {
    if (PRECISION_STATE_KEY in state)
      throw new FulmenError(`fabric.save: '${PRECISION_STATE_KEY}' is a reserved key.`);
    const precisionState = this.precision.stateDict();
    const full =
      Object.keys(precisionState).length > 0 ? { ...state, [PRECISION_STATE_KEY]: precisionState } : state;
    const contents =
      this.strategy.encodeCheckpoint?.(full, options.filter ?? {}) ?? encodeState(full, options.filter);
    this.strategy.saveCheckpoint(contents, path, this.checkpointIO);
    this.barrier("save");
  }

  /**
   * Loads a checkpoint written by {@link Fabric.save}. With `state`, restores its objects in place (modules,
   * optimizers, schedulers, and plain values, which are replaced in the object) and returns what the checkpoint
   * holds beyond it; without, returns the whole checkpoint (tensors owned by the caller).
   */
  load(path: string, state?: Record<string, unknown>, options: LoadOptions = {}): Record<string, unknown> {
    const contents = this.strategy.loadCheckpoint(path, this.checkpointIO);
    const decoded = decodeSkeleton(contents.skeleton, contents.tensors) as Record<string, unknown>;
    const precisionState = decoded[PRECISION_STATE_KEY] as Record<string, unknown> | undefined;
    delete decoded[PRECISION_STATE_KEY];
    if (precisionState !== undefined) this.precision.loadStateDict(precisionState);
    this.barrier("load");
    if (state === undefined) return decoded;
    return restoreState(state, decoded, options.strict ?? true);
  }

  /**
   * Loads a file that holds only a module's (or another stateful object's) state, such as a safetensors file of
   * PyTorch weights, into `target`.
   */
  loadRaw(path: string, target: Module | Stateful, options: LoadOptions = {}): void {
    const contents = this.strategy.loadCheckpoint(path, this.checkpointIO);
    const decoded = decodeSkeleton(contents.skeleton, contents.tensors);
    try {
      if (target instanceof Module)
        target.loadStateDict(decoded as StateDict, { strict: options.strict ?? true });
      else (target as { loadStateDict(s: unknown): unknown }).loadStateDict(decoded);
    } finally {
      disposeDecoded(decoded);
    }
    this.barrier("loadRaw");
  }

  /** Runs `fn` under the precision's forward context, for computations outside a set-up module's forward. */
  autocast<T>(fn: () => T): T {
    return this.precision.forwardContext(fn);
  }

  /**
   * Runs `fn`, which creates a module, and converts the module to the precision's format at once (Lightning's
   * `init_module`): under the half "true" precisions its parameters start out in half.
   *
   * With `emptyInit: true` (Lightning's `empty_init`) the parameters are created without values (PyTorch's meta
   * device): the module gets them when it is set up. Under FSDP (`FULL_SHARD`) and ZeRO-3 that happens unit by
   * unit, each unit sharded before the next is made, so no rank ever holds the whole model; elsewhere the whole
   * module is initialised at setup. Layers draw their initialisation then, in the order their constructors
   * would have, so a seeded run starts from the same weights as without `emptyInit`.
   */
  initModule<T>(fn: () => T, options: InitModuleOptions = {}): T {
    checkOptionNames("fabric.initModule", options, ["emptyInit"]);
    if (options.emptyInit === true) return deferParameterInit(fn);
    const created = fn();
    return created instanceof Module ? (this.precision.convertModule(created) as T) : created;
  }

  /**
   * Runs `fn` without synchronising gradients across processes, for gradient accumulation (Lightning's
   * `fabric.no_backward_sync(module, enabled)`): call `fabric.backward` inside it for every micro-batch but the
   * last. `module` must be one this Fabric set up (the module returned by `setup`, or the one given to it). With
   * `enabled: false` (a loop's last micro-batch, say) gradients are synchronised as usual; with one process
   * there is nothing to synchronise and `fn` just runs. Returns `fn`'s result; an async `fn` keeps gradients
   * local until its promise settles.
   */
  noBackwardSync<T>(module: Module, fn: () => T, options: NoBackwardSyncOptions = {}): T {
    checkOptionNames("fabric.noBackwardSync", options, ["enabled"]);
    const enabled = options.enabled ?? true;
    if (typeof enabled !== "boolean") {
      throw new FulmenError(
        `fabric.noBackwardSync: enabled must be true or false, got ${describeValue(enabled)}.`,
      );
    }
    if (typeof module !== "object" || module === null || !this.setUpModules.has(module)) {
      throw new FulmenError(
        "fabric.noBackwardSync: you need to set up the model first before you can call fabric.noBackwardSync(): `model = fabric.setup(model, ...)`, then pass that model.",
      );
    }
    if (!enabled || this.strategy.noBackwardSync === undefined) return fn();
    return this.strategy.noBackwardSync(fn);
  }

  /**
   * Runs `fn` on rank 0 first and on the other ranks after it has finished (Lightning's
   * `fabric.rank_zero_first(local)` context manager): for work that one process should do before the others read
   * its result, such as downloading a data set. With `local: true` the local rank 0 of every machine goes first.
   * Every rank returns its own `fn`'s result; an async `fn` is awaited on the first rank before the others start.
   * The others wait in a barrier, which rank 0 reaches even when its `fn` throws, so they are not left hanging.
   */
  rankZeroFirst<T>(fn: () => Promise<T>, options?: RankZeroFirstOptions): Promise<T>;
  rankZeroFirst<T>(fn: () => T, options?: RankZeroFirstOptions): T;
  rankZeroFirst<T>(fn: () => T | Promise<T>, options: RankZeroFirstOptions = {}): T | Promise<T> {
    checkOptionNames("fabric.rankZeroFirst", options, ["local"]);
    const local = options.local ?? false;
    if (typeof local !== "boolean") {
      throw new FulmenError(
        `fabric.rankZeroFirst: local must be true or false, got ${describeValue(local)}.`,
      );
    }
    const rank = local ? this.localRank : this.globalRank;
    if (rank > 0) {
      this.barrier("rankZeroFirst");
      return fn();
    }
    let result: T | Promise<T>;
    try {
      result = fn();
    } catch (error) {
      this.barrier("rankZeroFirst");
      throw error;
    }
    if (result instanceof Promise) return result.finally(() => this.barrier("rankZeroFirst"));
    this.barrier("rankZeroFirst");
    return result;
  }

  /**
   * Combines a tensor across processes (`"mean"` by default) and returns a new tensor; a number, or arrays and
   * objects of tensors and numbers, give the same structure of new tensors (as Lightning's `all_reduce`).
   */
  allReduce<T extends TensorTree>(data: T, options: { reduceOp?: ReduceOp } = {}): TensorTreeResult<T> {
    return mapTensorTree(data, (t) => this.strategy.allReduce(t, options.reduceOp ?? "mean"));
  }

  /**
   * Gathers a tensor from every process, stacked on a new first dimension when there are several; arrays and
   * objects of tensors (and numbers) are gathered leaf by leaf.
   */
  allGather<T extends TensorTree>(data: T): TensorTreeResult<T> {
    return mapTensorTree(data, (t) => this.strategy.allGather(t));
  }

  /** Sends a JSON-serialisable value from process `src` to every process. */
  broadcast<T>(value: T, src = 0): T {
    return this.strategy.broadcast(value, src);
  }

  /** Waits until every process reaches this point. */
  barrier(name?: string): void {
    this.strategy.barrier(name);
  }

  /** Prints on local rank 0 only (once per machine). */
  print(...args: unknown[]): void {
    if (this.localRank === 0) console.log(...args);
  }

  /** Calls `hookName` on every callback that has such a method, with `args`. */
  call(hookName: string, ...args: unknown[]): void {
    for (const callback of this.callbacks) {
      const hook = (callback as Record<string, unknown>)[hookName];
      if (typeof hook === "function") hook.apply(callback, args);
    }
  }

  /** Seeds every random source (see core's `seedEverything`); returns the seed. */
  seedEverything(seed?: number): number {
    return Fabric.seedEverything(seed);
  }

  /** Seeds every random source; returns the seed. */
  static seedEverything(seed?: number): number {
    return seedEverything(seed);
  }
}

/** The loss of a backward closure as a scalar: one value (PyTorch's `loss.backward()` rule), else an error. */
function scalarLoss(loss: unknown): tf.Scalar {
  if (!(loss instanceof tf.Tensor)) {
    throw new FulmenError(
      `fabric.backward: the closure must return the loss tensor, got ${loss === null ? "null" : typeof loss}.`,
    );
  }
  if (loss.size !== 1) {
    throw new FulmenError(
      `fabric.backward: the loss must hold one value, got shape [${loss.shape}] (as PyTorch's "grad can be implicitly created only for scalar outputs"). Reduce it with tf.mean or tf.sum, or use the loss's default reduction.`,
    );
  }
  return loss.rank === 0 ? (loss as tf.Scalar) : tf.reshape(loss, []);
}

/**
 * Lightning's `Optional` arguments (`precision`, `plugins`, `callbacks`, `loggers`) take `null` (Python's `None`)
 * for their default, and `callbacks` takes one object as well as a list, as Lightning's Fabric does.
 */
function withLightningDefaults(options: FabricOptions): ResolvedFabricOptions {
  const out: FabricOptions = { ...options };
  for (const name of ["precision", "plugins", "callbacks", "loggers"] as const)
    if (out[name] === null) delete out[name];
  const callbacks: unknown = out.callbacks;
  if (callbacks !== undefined && !Array.isArray(callbacks)) out.callbacks = [callbacks as object];
  return out as ResolvedFabricOptions;
}

/** Fabric's options once Lightning's `None`s are defaults and `callbacks` is a list. */
type ResolvedFabricOptions = Omit<FabricOptions, "precision" | "plugins" | "callbacks" | "loggers"> & {
  precision?: PrecisionInput;
  plugins?: FabricPlugin | FabricPlugin[];
  callbacks?: object[];
  loggers?: Logger | Logger[];
};

/** Checks the values of Fabric's options that the connector does not (it checks devices, numNodes, precision). */
function checkFabricOptionValues(options: ResolvedFabricOptions): void {
  for (const name of ["accelerator", "strategy"] as const) {
    const value: unknown = options[name];
    if (value !== undefined && typeof value !== "string" && (typeof value !== "object" || value === null))
      throw new FulmenError(
        `Fabric: invalid ${name} ${describeValue(value)}; it must be a name ("auto", …) or an ${name === "accelerator" ? "Accelerator" : "Strategy"} instance.`,
      );
  }
  const callbacks: unknown = options.callbacks;
  if (
    callbacks !== undefined &&
    (!Array.isArray(callbacks) || callbacks.some((c) => typeof c !== "object" || c === null))
  )
    throw new FulmenError(
      `Fabric: invalid callbacks ${describeValue(callbacks)}; it must be an array of objects whose methods fabric.call invokes.`,
    );
  const loggers: unknown[] =
    options.loggers === undefined ? [] : Array.isArray(options.loggers) ? options.loggers : [options.loggers];
  if (loggers.some((l) => typeof (l as Partial<Logger> | null)?.logMetrics !== "function"))
    throw new FulmenError(
      "Fabric: invalid loggers; give a Logger (CSVLogger, TensorBoardLogger, …) or an array of them.",
    );
}

function sortPlugins(plugins: FabricPlugin | FabricPlugin[] | undefined): {
  precisionPlugin?: Precision;
  checkpointIO?: CheckpointIO;
} {
  const out: { precisionPlugin?: Precision; checkpointIO?: CheckpointIO } = {};
  for (const plugin of plugins === undefined ? [] : Array.isArray(plugins) ? plugins : [plugins]) {
    if (typeof (plugin as Precision).convertModule === "function") {
      if (out.precisionPlugin !== undefined)
        throw new FulmenError("Fabric: more than one precision plugin was given.");
      out.precisionPlugin = plugin as Precision;
    } else if (
      typeof (plugin as CheckpointIO).save === "function" &&
      typeof (plugin as CheckpointIO).load === "function"
    ) {
      if (out.checkpointIO !== undefined)
        throw new FulmenError("Fabric: more than one CheckpointIO plugin was given.");
      out.checkpointIO = plugin as CheckpointIO;
    } else {
      throw new FulmenError("Fabric: a plugin must be a Precision or a CheckpointIO instance.");
    }
  }
  return out;
}
