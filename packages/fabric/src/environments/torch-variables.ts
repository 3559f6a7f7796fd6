import type { ClusterEnvironment } from "@fulmen/core";
import { intVar } from "./env-vars";

/**
 * The variables PyTorch's `env://` rendezvous reads (`MASTER_ADDR`, `MASTER_PORT`, `WORLD_SIZE`, `RANK`), shared
 * by the environments that set them (torchrun, Kubeflow); subclasses say where local and node ranks come from.
 * Next to them, Fulmen's store reads `FULMEN_STORE_SECRET` (required when `MASTER_ADDR` is not a loopback
 * address; see `STORE_SECRET_VAR`).
 */
export abstract class TorchVariablesEnvironment implements ClusterEnvironment {
  abstract readonly name: string;
  readonly creatorIsExternal = true;

  constructor(
    /** The environment variables read (default `process.env`). */
    protected readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** Global rank 0's host, from `MASTER_ADDR`; `"127.0.0.1"` when it is unset or empty. */
  mainAddress(): string {
    return this.env.MASTER_ADDR || "127.0.0.1";
  }

  /** The rendezvous port, from `MASTER_PORT` (an error when it is unset). */
  mainPort(): number {
    return intVar(this.env, "MASTER_PORT");
  }

  /** The number of processes in the run, from `WORLD_SIZE` (an error when it is unset). */
  worldSize(): number {
    return intVar(this.env, "WORLD_SIZE");
  }

  /** This process's rank among all processes, from `RANK` (an error when it is unset). */
  globalRank(): number {
    return intVar(this.env, "RANK");
  }

  abstract localRank(): number;
  abstract nodeRank(): number;
}
