import { FulmenError } from "../utils/errors";

/**
 * Where a process sits in a run and how processes find each other (Lightning's ClusterEnvironment): the main
 * address and port of the rendezvous, and this process's ranks. Implementations read a scheduler's variables
 * (torchrun, SLURM, MPI, ...).
 */
export interface ClusterEnvironment {
  /** A short name for messages (`"lightning"`, `"slurm"`, `"torchelastic"`, ...). */
  readonly name: string;
  /** Whether the processes are created by something else (a scheduler) rather than by Fulmen's launcher. */
  readonly creatorIsExternal: boolean;
  /** The host of rank 0, where the processes meet (Lightning's `main_address`, `MASTER_ADDR`). */
  mainAddress(): string;
  /** The TCP port on `mainAddress` where the processes meet (Lightning's `main_port`, `MASTER_PORT`). */
  mainPort(): number;
  /** The number of processes in the run, over all nodes (Lightning's `world_size`). */
  worldSize(): number;
  /** This process's rank among all processes, from 0 to `worldSize() - 1` (Lightning's `global_rank`). */
  globalRank(): number;
  /** This process's rank among the processes of its node, from 0 (Lightning's `local_rank`). */
  localRank(): number;
  /** The index of this process's node (machine) in the run, from 0 (Lightning's `node_rank`). */
  nodeRank(): number;
}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new FulmenError(`${name}=${raw} is not a non-negative integer.`);
  return value;
}

/**
 * Lightning's own environment: `MASTER_ADDR` (default 127.0.0.1), `MASTER_PORT`, `WORLD_SIZE`, `LOCAL_RANK`,
 * `NODE_RANK` (or `GROUP_RANK`), and `RANK` when set; Fulmen's launcher sets them for the processes it starts.
 */
export class LightningEnvironment implements ClusterEnvironment {
  /** Always `"lightning"`. */
  readonly name = "lightning";

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly devicesPerNode = 1,
  ) {}

  get creatorIsExternal(): boolean {
    return this.env.LOCAL_RANK !== undefined;
  }

  /** `MASTER_ADDR`, or `"127.0.0.1"` when it is unset or empty. */
  mainAddress(): string {
    return this.env.MASTER_ADDR || "127.0.0.1";
  }

  /** `MASTER_PORT`; throws a `FulmenError` when it is unset, empty or 0. */
  mainPort(): number {
    const port = intFrom(this.env, "MASTER_PORT", 0);
    if (port === 0)
      throw new FulmenError("MASTER_PORT is not set; the launcher sets it, or export a free port.");
    return port;
  }

  /** `WORLD_SIZE`, or 1 when it is unset. */
  worldSize(): number {
    return intFrom(this.env, "WORLD_SIZE", 1);
  }

  /** `NODE_RANK`, else `GROUP_RANK`, else 0. */
  nodeRank(): number {
    return intFrom(this.env, "NODE_RANK", intFrom(this.env, "GROUP_RANK", 0));
  }

  /** `LOCAL_RANK`, or 0 when it is unset. */
  localRank(): number {
    return intFrom(this.env, "LOCAL_RANK", 0);
  }

  /** `RANK`, or when unset `nodeRank() * devicesPerNode + localRank()` (`devicesPerNode` defaults to 1). */
  globalRank(): number {
    return intFrom(this.env, "RANK", this.nodeRank() * this.devicesPerNode + this.localRank());
  }
}
