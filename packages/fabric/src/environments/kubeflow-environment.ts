import { TorchVariablesEnvironment } from "./torch-variables";

/**
 * A Kubeflow PyTorchJob: one process per pod, with `WORLD_SIZE`, `RANK`, `MASTER_ADDR`, `MASTER_PORT`. Never
 * detected on its own (as in Lightning): pass `new KubeflowEnvironment()` as the strategy's cluster environment.
 */
export class KubeflowEnvironment extends TorchVariablesEnvironment {
  /** The environment's name, `"kubeflow"`. */
  readonly name = "kubeflow";

  /** Always 0: a PyTorchJob runs one process per pod. */
  localRank(): number {
    return 0;
  }

  /** The global rank (`RANK`): each pod is a node of its own. */
  nodeRank(): number {
    return this.globalRank();
  }
}
