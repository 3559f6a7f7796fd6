import {
  type ClusterEnvironment,
  type Collective,
  FulmenError,
  type Module,
  type ReduceOp,
  Strategy,
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
export abstract class ParallelStrategy extends Strategy {
  abstract override readonly name: string;
  private environment: ClusterEnvironment | null;
  private devices = 1;
  private nodes = 1;
  private collectiveHandle: Collective | null = null;

  constructor(private readonly parallelOptions: ParallelStrategyOptions = {}) {
    super();
    this.environment = parallelOptions.clusterEnvironment ?? null;
  }

  override configureWorld(world: { devices: number; numNodes: number }): void {
    this.devices = world.devices;
    this.nodes = world.numNodes;
    this.environment ??= detectClusterEnvironment(process.env, world.devices);
    const env = this.environment;
    (env as { validate?: (devices: number, numNodes: number) => void }).validate?.(
      world.devices,
      world.numNodes,
    );
    if (env.creatorIsExternal && env.worldSize() !== this.worldSize)
      throw new FulmenError(
        `The ${env.name} environment runs ${env.worldSize()} process(es) but devices × numNodes is ${this.devices} × ${this.nodes} = ${this.worldSize}; make them agree.`,
      );
  }

  /** The cluster environment in use. */
  get clusterEnvironment(): ClusterEnvironment {
    if (this.environment === null) this.environment = detectClusterEnvironment(process.env, this.devices);
    return this.environment;
  }

  override get worldSize(): number {
    return this.devices * this.nodes;
  }

  /** How many machines (nodes) the run spans (Lightning's `num_nodes`). */
  get numNodes(): number {
    return this.nodes;
  }

  /** How many processes run on each machine (Lightning's `num_processes`: the devices per node). */
  get numProcesses(): number {
    return this.devices;
  }

  override get globalRank(): number {
    const env = this.clusterEnvironment;
    return env.creatorIsExternal ? env.globalRank() : this.nodeRank * this.devices + this.localRank;
  }

  override get localRank(): number {
    const env = this.clusterEnvironment;
    return env.creatorIsExternal ? env.localRank() : 0;
  }

  override get nodeRank(): number {
    return this.clusterEnvironment.nodeRank();
  }

  /** The connected collective (after `launch()`). */
  get collective(): Collective {
    if (this.collectiveHandle === null)
      throw new FulmenError(
        `The "${this.name}" strategy is not launched: call \`await fabric.launch()\` before setting up models or communicating.`,
      );
    return this.collectiveHandle;
  }

  override async launch(): Promise<void> {
    if (this.collectiveHandle !== null) return;
    const env = this.clusterEnvironment;
    if (!env.creatorIsExternal && this.devices > 1)
      await launchLocalRanks({ devices: this.devices, numNodes: this.nodes, nodeRank: env.nodeRank() });
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

  abstract override setupModule<M extends Module>(module: M): M;

  override allReduce(tensor: tf.Tensor, op: ReduceOp): tf.Tensor {
    return allReduceTensor(this.collective, tensor, op);
  }

  override allGather(tensor: tf.Tensor): tf.Tensor {
    return allGatherTensor(this.collective, tensor);
  }

  override broadcast<T>(value: T, src: number): T {
    return broadcastValue(this.collective, value, src);
  }

  override barrier(_name?: string): void {
    this.collective.barrier();
  }

  /** Lets go of the strategy's state; the process group stays for later strategies (call destroyProcessGroup). */
  override teardown(): void {
    this.collectiveHandle = null;
  }
}
