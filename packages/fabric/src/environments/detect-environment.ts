import { type ClusterEnvironment, LightningEnvironment } from "@fulmen/core";
import { LSFEnvironment } from "./lsf-environment";
import { MPIEnvironment } from "./mpi-environment";
import { SLURMEnvironment } from "./slurm-environment";
import { TorchElasticEnvironment } from "./torchelastic-environment";

/**
 * The cluster environment this process runs in, in Lightning's detection order: TorchElastic, SLURM, LSF, MPI,
 * then Lightning's own (plain variables, or Fulmen's launcher). Kubeflow is never detected; pass it explicitly.
 */
export function detectClusterEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  devicesPerNode = 1,
): ClusterEnvironment {
  if (TorchElasticEnvironment.detect(env)) return new TorchElasticEnvironment(env);
  if (SLURMEnvironment.detect(env)) return new SLURMEnvironment(env);
  if (LSFEnvironment.detect(env)) return new LSFEnvironment(env);
  if (MPIEnvironment.detect(env)) return new MPIEnvironment(env);
  return new LightningEnvironment(env, devicesPerNode);
}
