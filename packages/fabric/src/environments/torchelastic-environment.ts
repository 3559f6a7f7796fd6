import type { ClusterEnvironment } from "@fulmen/core";
import { allSet, intVar } from "./env-vars";

/**
 * Processes started by `torchrun` (TorchElastic) or anything that sets the same variables: `RANK`,
 * `WORLD_SIZE`, `LOCAL_RANK`, `GROUP_RANK`, `MASTER_ADDR`, `MASTER_PORT`.
 */
export class TorchElasticEnvironment implements ClusterEnvironment {
  readonly name = "torchelastic";
  readonly creatorIsExternal = true;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  /** torchrun sets these four together (plain `LOCAL_RANK` alone is Lightning's own launcher). */
  static detect(env: NodeJS.ProcessEnv = process.env): boolean {
    return (
      env.TORCHELASTIC_RUN_ID !== undefined ||
      allSet(env, ["RANK", "GROUP_RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE"])
    );
  }

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

  localRank(): number {
    return intVar(this.env, "LOCAL_RANK");
  }

  nodeRank(): number {
    return intVar(this.env, "GROUP_RANK", 0);
  }
}
