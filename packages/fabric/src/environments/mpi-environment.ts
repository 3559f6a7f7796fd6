import { type ClusterEnvironment, FulmenError } from "@fulmen/core";
import { intVar } from "./env-vars";

/**
 * Processes started by `mpirun`/`mpiexec` (Open MPI's `OMPI_COMM_WORLD_*` variables, or MPICH/Hydra's `PMI_*`).
 * Fulmen talks Gloo, not MPI, so MPI only tells the ranks; rank 0's host comes from `MASTER_ADDR` (export it with
 * `mpirun -x MASTER_ADDR=host`), or is this host when every rank runs here. Across hosts, pass the job's store
 * secret the same way (`-x FULMEN_STORE_SECRET`): see `STORE_SECRET_VAR`.
 */
export class MPIEnvironment implements ClusterEnvironment {
  /** The environment's name, `"mpi"`. */
  readonly name = "mpi";
  readonly creatorIsExternal = true;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  /** Whether `mpirun` started this process with more than one rank (`OMPI_COMM_WORLD_SIZE` or `PMI_SIZE`). */
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

  /**
   * Global rank 0's host: `MASTER_ADDR` when set, else `"127.0.0.1"` when every rank runs on this host; an
   * error for a job across hosts without `MASTER_ADDR`.
   */
  mainAddress(): string {
    if (this.env.MASTER_ADDR) return this.env.MASTER_ADDR;
    if (this.localSize() === this.worldSize()) return "127.0.0.1";
    throw new FulmenError(
      "An MPI job across several hosts needs MASTER_ADDR (rank 0's host): mpirun -x MASTER_ADDR=<host> -x MASTER_PORT=<port> …",
    );
  }

  /**
   * `MASTER_PORT` when set, else 20000 plus the job id modulo 10000 (Open MPI's `OMPI_MCA_ess_base_jobid`, or
   * `PMI_ID`); an error when neither is set.
   */
  mainPort(): number {
    if (this.env.MASTER_PORT) return intVar(this.env, "MASTER_PORT");
    // Open MPI gives every job an id shared by its ranks; derive a port from it so a plain mpirun works.
    const jobId = Number(this.env.OMPI_MCA_ess_base_jobid ?? this.env.PMI_ID ?? Number.NaN);
    if (Number.isFinite(jobId)) return 20000 + (jobId % 10000);
    throw new FulmenError("Set MASTER_PORT for this MPI job (mpirun -x MASTER_PORT=29500 …).");
  }

  /** The number of ranks, from `OMPI_COMM_WORLD_SIZE` (Open MPI) or `PMI_SIZE` (MPICH/Hydra). */
  worldSize(): number {
    return this.openMpi ? intVar(this.env, "OMPI_COMM_WORLD_SIZE") : intVar(this.env, "PMI_SIZE");
  }

  /** This process's rank, from `OMPI_COMM_WORLD_RANK` (Open MPI) or `PMI_RANK` (MPICH/Hydra). */
  globalRank(): number {
    return this.openMpi ? intVar(this.env, "OMPI_COMM_WORLD_RANK") : intVar(this.env, "PMI_RANK");
  }

  /**
   * The rank on this host: `OMPI_COMM_WORLD_LOCAL_RANK` (Open MPI), or `MPI_LOCALRANKID` (MPICH/Hydra),
   * else the global rank modulo the number of ranks per host.
   */
  localRank(): number {
    return this.openMpi
      ? intVar(this.env, "OMPI_COMM_WORLD_LOCAL_RANK")
      : intVar(this.env, "MPI_LOCALRANKID", this.globalRank() % this.localSize());
  }

  /** The global rank divided by the number of ranks per host, rounded down (hosts run equally many ranks). */
  nodeRank(): number {
    return Math.floor(this.globalRank() / this.localSize());
  }
}
