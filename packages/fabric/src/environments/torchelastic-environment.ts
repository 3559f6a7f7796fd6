import { allSet, intVar } from "./env-vars";
import { TorchVariablesEnvironment } from "./torch-variables";

/**
 * Processes started by `torchrun` (TorchElastic) or anything that sets the same variables: `RANK`,
 * `WORLD_SIZE`, `LOCAL_RANK`, `GROUP_RANK`, `MASTER_ADDR`, `MASTER_PORT`.
 */
export class TorchElasticEnvironment extends TorchVariablesEnvironment {
  /** The environment's name, `"torchelastic"`. */
  readonly name = "torchelastic";

  /** torchrun sets these four together (plain `LOCAL_RANK` alone is Lightning's own launcher). */
  static detect(env: NodeJS.ProcessEnv = process.env): boolean {
    return (
      env.TORCHELASTIC_RUN_ID !== undefined ||
      allSet(env, ["RANK", "GROUP_RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE"])
    );
  }

  /** The rank within this node, from `LOCAL_RANK` (an error when it is unset). */
  localRank(): number {
    return intVar(this.env, "LOCAL_RANK");
  }

  /** The node's rank, from `GROUP_RANK`; 0 when it is unset. */
  nodeRank(): number {
    return intVar(this.env, "GROUP_RANK", 0);
  }
}
