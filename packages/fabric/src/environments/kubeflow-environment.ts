import { TorchVariablesEnvironment } from "./torch-variables";

/**
 * A Kubeflow PyTorchJob: one process per pod, with `WORLD_SIZE`, `RANK`, `MASTER_ADDR`, `MASTER_PORT`. Never
 * detected on its own (as in Lightning): pass `new KubeflowEnvironment()` as the strategy's cluster environment.
 */
export class KubeflowEnvironment extends TorchVariablesEnvironment {
  readonly name = "kubeflow";

  localRank(): number {
    return 0;
  }

  nodeRank(): number {
    return this.globalRank();
  }
}
