import { FulmenError } from "../utils/errors";

/**
 * Where a process sits in a run and how processes find each other (Lightning's ClusterEnvironment): the main
 * address and port of the rendezvous, and this process's ranks. Implementations read a scheduler's variables
 * (torchrun, SLURM, MPI, ...).
 */
export interface ClusterEnvironment {
  readonly name: string;
  /** Whether the processes are created by something else (a scheduler) rather than by Fulmen's launcher. */
  readonly creatorIsExternal: boolean;
  mainAddress(): string;
  mainPort(): number;
  worldSize(): number;
  globalRank(): number;
  localRank(): number;
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
  readonly name = "lightning";

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly devicesPerNode = 1,
  ) {}

  get creatorIsExternal(): boolean {
    return this.env.LOCAL_RANK !== undefined;
  }

  mainAddress(): string {
    return this.env.MASTER_ADDR || "127.0.0.1";
  }

  mainPort(): number {
    const port = intFrom(this.env, "MASTER_PORT", 0);
    if (port === 0)
      throw new FulmenError("MASTER_PORT is not set; the launcher sets it, or export a free port.");
    return port;
  }

  worldSize(): number {
    return intFrom(this.env, "WORLD_SIZE", 1);
  }

  nodeRank(): number {
    return intFrom(this.env, "NODE_RANK", intFrom(this.env, "GROUP_RANK", 0));
  }

  localRank(): number {
    return intFrom(this.env, "LOCAL_RANK", 0);
  }

  globalRank(): number {
    return intFrom(this.env, "RANK", this.nodeRank() * this.devicesPerNode + this.localRank());
  }
}
