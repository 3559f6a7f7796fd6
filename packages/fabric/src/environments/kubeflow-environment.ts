import type { ClusterEnvironment } from "@fulmen/core";
import { intVar } from "./env-vars";

/**
 * A Kubeflow PyTorchJob: one process per pod, with `WORLD_SIZE`, `RANK`, `MASTER_ADDR`, `MASTER_PORT`. Never
 * detected on its own (as in Lightning): pass `new KubeflowEnvironment()` as the strategy's cluster environment.
 */
export class KubeflowEnvironment implements ClusterEnvironment {
  readonly name = "kubeflow";
  readonly creatorIsExternal = true;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

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
    return 0;
  }

  nodeRank(): number {
    return this.globalRank();
  }
}
