import { type ClusterEnvironment, FulmenError } from "@fulmen/core";
import { intVar } from "./env-vars";

/**
 * Processes started by `mpirun`/`mpiexec` (Open MPI's `OMPI_COMM_WORLD_*` variables, or MPICH/Hydra's `PMI_*`).
 * Fulmen talks Gloo, not MPI, so MPI only tells the ranks; rank 0's host comes from `MASTER_ADDR` (export it with
 * `mpirun -x MASTER_ADDR=host`), or is this host when every rank runs here. Across hosts, pass the job's store
 * secret the same way (`-x FULMEN_STORE_SECRET`): see `STORE_SECRET_VAR`.
 */
export class MPIEnvironment implements ClusterEnvironment {
  readonly name = "mpi";
  readonly creatorIsExternal = true;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  static detect(env: NodeJS.ProcessEnv = process.env): boolean {
    return Number(env.OMPI_COMM_WORLD_SIZE ?? env.PMI_SIZE ?? 0) > 1;
  }

  private get openMpi(): boolean {
    return this.env.OMPI_COMM_WORLD_SIZE !== undefined;
  }

  private localSize(): number {
    return this.openMpi
      ? intVar(this.env, "OMPI_COMM_WORLD_LOCAL_SIZE", this.worldSize())
      : intVar(this.env, "MPI_LOCALNRANKS", this.worldSize());
  }

  mainAddress(): string {
    if (this.env.MASTER_ADDR) return this.env.MASTER_ADDR;
    if (this.localSize() === this.worldSize()) return "127.0.0.1";
    throw new FulmenError(
      "An MPI job across several hosts needs MASTER_ADDR (rank 0's host): mpirun -x MASTER_ADDR=<host> -x MASTER_PORT=<port> …",
    );
  }

  mainPort(): number {
    if (this.env.MASTER_PORT) return intVar(this.env, "MASTER_PORT");
    // Open MPI gives every job an id shared by its ranks; derive a port from it so a plain mpirun works.
    const jobId = Number(this.env.OMPI_MCA_ess_base_jobid ?? this.env.PMI_ID ?? Number.NaN);
    if (Number.isFinite(jobId)) return 20000 + (jobId % 10000);
    throw new FulmenError("Set MASTER_PORT for this MPI job (mpirun -x MASTER_PORT=29500 …).");
  }

  worldSize(): number {
    return this.openMpi ? intVar(this.env, "OMPI_COMM_WORLD_SIZE") : intVar(this.env, "PMI_SIZE");
  }

  globalRank(): number {
    return this.openMpi ? intVar(this.env, "OMPI_COMM_WORLD_RANK") : intVar(this.env, "PMI_RANK");
  }

  localRank(): number {
    return this.openMpi
      ? intVar(this.env, "OMPI_COMM_WORLD_LOCAL_RANK")
      : intVar(this.env, "MPI_LOCALRANKID", this.globalRank() % this.localSize());
  }

  nodeRank(): number {
    return Math.floor(this.globalRank() / this.localSize());
  }
}
