import { type ClusterEnvironment, FulmenError } from "@fulmen/core";
import { intVar } from "./env-vars";
import { expandSlurmHostList } from "./slurm-hostlist";

/**
 * Processes started by SLURM's `srun`: ranks from `SLURM_PROCID`, `SLURM_LOCALID`, `SLURM_NODEID`,
 * `SLURM_NTASKS`; the main address is the first host of `SLURM_NODELIST` and the port derives from the job id
 * (`MASTER_ADDR` and `MASTER_PORT` win when set), as in Lightning. A job over several nodes also exports
 * `FULMEN_STORE_SECRET` before `srun` (which hands it to every task): see `STORE_SECRET_VAR`.
 */
export class SLURMEnvironment implements ClusterEnvironment {
  /** The environment's name, `"slurm"`. */
  readonly name = "slurm";
  readonly creatorIsExternal = true;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  /** Inside `srun` (an interactive `salloc` shell named bash/interactive is not a training step). */
  static detect(env: NodeJS.ProcessEnv = process.env): boolean {
    return env.SLURM_NTASKS !== undefined && !["bash", "interactive"].includes(env.SLURM_JOB_NAME ?? "");
  }

  /**
   * Global rank 0's host: `MASTER_ADDR` when set, else the first host of `SLURM_NODELIST` (or
   * `SLURM_JOB_NODELIST`); an error when neither is set.
   */
  mainAddress(): string {
    if (this.env.MASTER_ADDR) return this.env.MASTER_ADDR;
    const list = this.env.SLURM_NODELIST ?? this.env.SLURM_JOB_NODELIST;
    if (!list) throw new FulmenError("SLURM_NODELIST is not set; export MASTER_ADDR with rank 0's host.");
    return expandSlurmHostList(list)[0]!;
  }

  /**
   * `MASTER_PORT` when set, else 15000 plus the last four digits of `SLURM_JOB_ID` (so that every task of the
   * job agrees), or 12910 without a job id.
   */
  mainPort(): number {
    if (this.env.MASTER_PORT) return intVar(this.env, "MASTER_PORT");
    const jobId = this.env.SLURM_JOB_ID;
    return jobId ? 15000 + (Number(jobId.slice(-4)) || 0) : 12910;
  }

  /** The number of tasks in the job step, from `SLURM_NTASKS`. */
  worldSize(): number {
    return intVar(this.env, "SLURM_NTASKS");
  }

  /** This task's rank among all tasks, from `SLURM_PROCID`. */
  globalRank(): number {
    return intVar(this.env, "SLURM_PROCID");
  }

  /** This task's rank on its node, from `SLURM_LOCALID`. */
  localRank(): number {
    return intVar(this.env, "SLURM_LOCALID");
  }

  /** This node's rank in the allocation, from `SLURM_NODEID`. */
  nodeRank(): number {
    return intVar(this.env, "SLURM_NODEID");
  }

  /** Lightning's check: the job must have as many tasks per node as the run asks for devices. */
  validate(devices: number, numNodes: number): void {
    const perNode = this.env.SLURM_NTASKS_PER_NODE;
    if (perNode !== undefined && perNode !== "" && Number(perNode) !== devices)
      throw new FulmenError(
        `SLURM gives ${perNode} task(s) per node (--ntasks-per-node) but devices is ${devices}; make them equal.`,
      );
    const nodes = this.env.SLURM_NNODES;
    if (nodes !== undefined && nodes !== "" && Number(nodes) !== numNodes)
      throw new FulmenError(
        `SLURM allocated ${nodes} node(s) (--nodes) but numNodes is ${numNodes}; make them equal.`,
      );
  }
}
