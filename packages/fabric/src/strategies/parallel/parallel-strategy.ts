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
  type tf,
} from "@fulmen/core";
import { detectClusterEnvironment } from "../../environments/detect-environment";
import { watchLauncher } from "../../launcher/rank-supervisor";
import { launchLocalRanks } from "../../launcher/subprocess-launcher";
import { initProcessGroup } from "./process-group";
import { allGatherTensor, allReduceTensor, broadcastValue } from "./tensor-collectives";

/** Options every {@link ParallelStrategy} takes (Lightning's `ParallelStrategy` and `DDPStrategy` arguments). */
export interface ParallelStrategyOptions {
  /** Where ranks come from; detected from the environment by default (torchrun, SLURM, LSF, MPI, Lightning). */
  clusterEnvironment?: ClusterEnvironment;
  /** The collective backend (`"gloo"`). */
  processGroupBackend?: string;
  /** How long a collective (and the rendezvous) may wait for a peer; PyTorch's default, 30 minutes. */
  timeoutMs?: number;
  /** Meet through a shared directory instead of rank 0's TCP store. */
  fileStorePath?: string;
}

/**
 * The base of the strategies that run one process per device (Lightning's `ParallelStrategy`): world and rank
 * bookkeeping from the cluster environment, starting the local ranks and connecting the collective at
 * `launch()`, the tensor and value collectives, rank-0 checkpoint writing, and teardown. Subclasses (DDP,
 * DeepSpeed, FSDP) add how modules, backward and optimizer steps are distributed.
 */
export abstract class ParallelStrategy implements Strategy {
  abstract readonly name: string;
  private environment: ClusterEnvironment | null;
  private devices = 1;
  private numNodes = 1;
  private acceleratorPlugin: Accelerator | null = null;
  private precisionPlugin: Precision | null = null;
  private collectiveHandle: Collective | null = null;

  constructor(private readonly parallelOptions: ParallelStrategyOptions = {}) {
    this.environment = parallelOptions.clusterEnvironment ?? null;
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
    return `${this.acceleratorPlugin?.name ?? "cpu"}:${this.localRank}`;
  }

  /** The connected collective (after `launch()`). */
  get collective(): Collective {
    if (this.collectiveHandle === null)
      throw new FulmenError(
        `The "${this.name}" strategy is not launched: call \`await fabric.launch()\` before setting up models or communicating.`,
      );
    return this.collectiveHandle;
  }

  /** The accelerator given to `connect()`, or null before. */
  protected get accelerator(): Accelerator | null {
    return this.acceleratorPlugin;
  }

  /** The precision given to `connect()`. */
  protected get precision(): Precision {
    if (this.precisionPlugin === null)
      throw new FulmenError(
        `The "${this.name}" strategy: connect() must be called with an accelerator and a precision first.`,
      );
    return this.precisionPlugin;
  }

  connect(accelerator: Accelerator, precision: Precision): void {
    this.acceleratorPlugin = accelerator;
    this.precisionPlugin = precision;
  }

  async launch(): Promise<void> {
    if (this.collectiveHandle !== null) return;
    const env = this.clusterEnvironment;
    if (!env.creatorIsExternal && this.devices > 1)
      await launchLocalRanks({ devices: this.devices, numNodes: this.numNodes, nodeRank: env.nodeRank() });
    watchLauncher(this.globalRank);
    const options = this.parallelOptions;
    this.collectiveHandle = await initProcessGroup(options.processGroupBackend ?? "gloo", {
      rank: this.globalRank,
      worldSize: this.worldSize,
      mainAddress: env.mainAddress(),
      mainPort: env.mainPort(),
      timeoutMs: options.timeoutMs ?? Number(process.env.FULMEN_COLLECTIVE_TIMEOUT_MS ?? 1_800_000),
      ...(options.fileStorePath === undefined ? {} : { fileStorePath: options.fileStorePath }),
    });
    this.onLaunched(this.collectiveHandle);
  }

  /** Called once the collective is connected, for what a subclass builds on it (DDP's gradient reducer). */
  protected onLaunched(_collective: Collective): void {}

  abstract setupModule<M extends Module>(module: M): M;

  setupOptimizer<O extends Optimizer>(optimizer: O): O {
    return optimizer;
  }

  /** Differentiates through the precision; subclasses synchronise the gradients afterwards. */
  backward(closure: () => tf.Scalar, params: ParameterSource): tf.Scalar {
    return this.precision.backward(closure, params);
  }

  optimizerStep(optimizer: Optimizer, closure?: () => unknown): boolean {
    // The closure goes on only when given, so precision plugins without the parameter are called as before.
    return closure === undefined
      ? this.precision.optimizerStep(optimizer)
      : this.precision.optimizerStep(optimizer, closure);
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

  /** Rank 0 writes (every rank holds the same full state by the time this is called), then every rank waits. */
  saveCheckpoint(contents: CheckpointContents, path: string, io: CheckpointIO): void {
    if (this.globalRank === 0) io.save(contents, path);
    this.barrier("saveCheckpoint");
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
  }
}
