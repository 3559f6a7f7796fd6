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

  constructor(protected readonly env: NodeJS.ProcessEnv = process.env) {}

  mainAddress(): string {
    return this.env.MASTER_ADDR || "127.0.0.1";
  }

  mainPort(): number {
    return intVar(this.env, "MASTER_PORT");
  }

  worldSize(): number {
    return intVar(this.env, "WORLD_SIZE");
  }

  globalRank(): number {
    return intVar(this.env, "RANK");
  }

  abstract localRank(): number;
  abstract nodeRank(): number;
}
