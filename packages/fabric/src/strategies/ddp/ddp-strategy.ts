import {
  type Accelerator,
  type CheckpointContents,
  type CheckpointIO,
  type ClusterEnvironment,
  type Collective,
  FulmenError,
  type Module,
  type Optimizer,
  type ParameterSource,
  type Precision,
  type ReduceOp,
  type Strategy,
  strategyRegistry,
  type tf,
  toParameterList,
} from "@fulmen/core";
import { detectClusterEnvironment } from "../../environments/detect-environment";
import { watchLauncher } from "../../launcher/rank-supervisor";
import { launchLocalRanks } from "../../launcher/subprocess-launcher";
import { type GradientCompression, GradientReducer } from "./gradient-reducer";
import { verifySameModelOnEveryRank } from "./model-agreement";
import { initProcessGroup } from "./process-group";
import { allGatherTensor, allReduceTensor, broadcastTensors, broadcastValue } from "./tensor-collectives";

/** Options of {@link DDPStrategy}, as in Lightning's `DDPStrategy`. */
export interface DDPStrategyOptions {
  /** Where ranks come from; detected from the environment by default (torchrun, SLURM, LSF, MPI, Lightning). */
  clusterEnvironment?: ClusterEnvironment;
  /** The collective backend (`"gloo"`). */
  processGroupBackend?: string;
  /** How long a collective (and the rendezvous) may wait for a peer; PyTorch's default, 30 minutes. */
  timeoutMs?: number;
  /** Gradient bucket size in MiB (PyTorch's `bucket_cap_mb`, 25). */
  bucketCapMb?: number;
  /** Send gradients as 16-bit floats (PyTorch's `fp16_compress_hook` / `bf16_compress_hook`). */
  gradientCompression?: GradientCompression;
  /** Meet through a shared directory instead of rank 0's TCP store. */
  fileStorePath?: string;
}

/**
 * Distributed data parallel (Lightning's `DDPStrategy`): one process per device, rank 0's initial state copied
 * to every rank, gradients averaged after each backward (bucketed all-reduce) unless inside `noBackwardSync`, so
 * that every rank takes the same optimizer step. `fabric.launch()` starts the local ranks (or joins ranks that a
 * scheduler started) and connects the collective.
 */
export class DDPStrategy implements Strategy {
  readonly name: string = "ddp";
  private environment: ClusterEnvironment | null;
  private devices = 1;
  private numNodes = 1;
  private accelerator: Accelerator | null = null;
  private precisionPlugin: Precision | null = null;
  private collectiveHandle: Collective | null = null;
  private reducer: GradientReducer | null = null;
  private syncGradients = true;

  constructor(private readonly options: DDPStrategyOptions = {}) {
    this.environment = options.clusterEnvironment ?? null;
    if (
      options.gradientCompression !== undefined &&
      ![null, "fp16", "bf16"].includes(options.gradientCompression)
    )
      throw new FulmenError(`DDPStrategy: gradientCompression must be "fp16", "bf16" or null.`);
  }

  configureWorld(world: { devices: number; numNodes: number }): void {
    this.devices = world.devices;
    this.numNodes = world.numNodes;
    this.environment ??= detectClusterEnvironment(process.env, world.devices);
    const env = this.environment;
    (env as { validate?: (devices: number, numNodes: number) => void }).validate?.(
      world.devices,
      world.numNodes,
    );
    if (env.creatorIsExternal && env.worldSize() !== this.worldSize)
      throw new FulmenError(
        `The ${env.name} environment runs ${env.worldSize()} process(es) but devices × numNodes is ${this.devices} × ${this.numNodes} = ${this.worldSize}; make them agree.`,
      );
  }

  /** The cluster environment in use. */
  get clusterEnvironment(): ClusterEnvironment {
    if (this.environment === null) this.environment = detectClusterEnvironment(process.env, this.devices);
    return this.environment;
  }

  get worldSize(): number {
    return this.devices * this.numNodes;
  }

  get globalRank(): number {
    const env = this.clusterEnvironment;
    return env.creatorIsExternal ? env.globalRank() : this.nodeRank * this.devices + this.localRank;
  }

  get localRank(): number {
    const env = this.clusterEnvironment;
    return env.creatorIsExternal ? env.localRank() : 0;
  }

  get nodeRank(): number {
    return this.clusterEnvironment.nodeRank();
  }

  get rootDevice(): string {
    return `${this.accelerator?.name ?? "cpu"}:${this.localRank}`;
  }

  /** The connected collective (after `launch()`). */
  get collective(): Collective {
    if (this.collectiveHandle === null)
      throw new FulmenError(
        `The "${this.name}" strategy is not launched: call \`await fabric.launch()\` before setting up models or communicating.`,
      );
    return this.collectiveHandle;
  }

  connect(accelerator: Accelerator, precision: Precision): void {
    this.accelerator = accelerator;
    this.precisionPlugin = precision;
  }

  async launch(): Promise<void> {
    if (this.collectiveHandle !== null) return;
    const env = this.clusterEnvironment;
    if (!env.creatorIsExternal && this.devices > 1)
      await launchLocalRanks({ devices: this.devices, numNodes: this.numNodes, nodeRank: env.nodeRank() });
    watchLauncher(this.globalRank);
    this.collectiveHandle = await initProcessGroup(this.options.processGroupBackend ?? "gloo", {
      rank: this.globalRank,
      worldSize: this.worldSize,
      mainAddress: env.mainAddress(),
      mainPort: env.mainPort(),
      timeoutMs: this.options.timeoutMs ?? Number(process.env.FULMEN_COLLECTIVE_TIMEOUT_MS ?? 1_800_000),
      ...(this.options.fileStorePath === undefined ? {} : { fileStorePath: this.options.fileStorePath }),
    });
    this.reducer = new GradientReducer(
      this.collectiveHandle,
      (this.options.bucketCapMb ?? 25) * 1024 * 1024,
      this.options.gradientCompression ?? null,
      this.accelerator ?? {},
    );
  }

  private get gradientReducer(): GradientReducer {
    if (this.reducer === null) this.collective; // throws the "not launched" error
    return this.reducer!;
  }

  private get precision(): Precision {
    if (this.precisionPlugin === null)
      throw new FulmenError(
        "DDPStrategy: connect() must be called with an accelerator and a precision first.",
      );
    return this.precisionPlugin;
  }

  setupModule<M extends Module>(module: M): M {
    const converted = this.precision.convertModule(module);
    // Every rank starts from rank 0's parameters and buffers, as DistributedDataParallel's constructor does.
    const state = converted.stateDict();
    const names = Object.keys(state);
    // First a fixed-size exchange that fails on every rank, naming the difference, when the models differ.
    verifySameModelOnEveryRank(
      this.collective,
      names.map((name) => ({ name, shape: state[name]!.shape, dtype: state[name]!.dtype })),
    );
    const copies = broadcastTensors(
      this.collective,
      names.map((n) => state[n]!),
      0,
    );
    converted.loadStateDict(Object.fromEntries(names.map((n, i) => [n, copies[i]!])));
    for (const t of copies) t.dispose();
    return converted;
  }

  setupOptimizer<O extends Optimizer>(optimizer: O): O {
    return optimizer;
  }

  backward(closure: () => tf.Scalar, params: ParameterSource): tf.Scalar {
    const loss = this.precision.backward(closure, params);
    if (this.syncGradients) this.gradientReducer.allReduce(toParameterList(params));
    return loss;
  }

  noBackwardSync<T>(fn: () => T): T {
    const previous = this.syncGradients;
    this.syncGradients = false;
    let result: T;
    try {
      result = fn();
    } catch (error) {
      this.syncGradients = previous;
      throw error;
    }
    if (result instanceof Promise) {
      return result.finally(() => {
        this.syncGradients = previous;
      }) as T;
    }
    this.syncGradients = previous;
    return result;
  }

  optimizerStep(optimizer: Optimizer): boolean {
    return this.precision.optimizerStep(optimizer);
  }

  allReduce(tensor: tf.Tensor, op: ReduceOp): tf.Tensor {
    return allReduceTensor(this.collective, tensor, op);
  }

  allGather(tensor: tf.Tensor): tf.Tensor {
    return allGatherTensor(this.collective, tensor);
  }

  broadcast<T>(value: T, src: number): T {
    return broadcastValue(this.collective, value, src);
  }

  saveCheckpoint(contents: CheckpointContents, path: string, io: CheckpointIO): void {
    if (this.globalRank === 0) io.save(contents, path);
  }

  loadCheckpoint(path: string, io: CheckpointIO): CheckpointContents {
    return io.load(path);
  }

  barrier(_name?: string): void {
    this.collective.barrier();
  }

  /** Lets go of the strategy's state; the process group stays for later strategies (call destroyProcessGroup). */
  teardown(): void {
    this.collectiveHandle = null;
    this.reducer = null;
  }
}

strategyRegistry.register("ddp", () => new DDPStrategy(), {
  description: "distributed data parallel: one process per device, gradients all-reduced (Gloo)",
  packageName: "@fulmen/fabric",
});
