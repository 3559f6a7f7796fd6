import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { type ClusterEnvironment, FulmenError } from "@fulmen/core";
import { allSet, intVar } from "./env-vars";

/**
 * Processes started by IBM LSF's `jsrun`: ranks from `JSM_NAMESPACE_RANK`, `JSM_NAMESPACE_LOCAL_RANK`,
 * `JSM_NAMESPACE_SIZE`; hosts from the job's rank file (`LSB_DJOB_RANKFILE`, whose first line is the launch
 * node), as in Lightning.
 */
export class LSFEnvironment implements ClusterEnvironment {
  /** The environment's name, `"lsf"`. */
  readonly name = "lsf";
  readonly creatorIsExternal = true;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  /**
   * Whether this process runs inside an LSF job launched by `jsrun` (`LSB_JOBID`, `LSB_DJOB_RANKFILE`,
   * `JSM_NAMESPACE_LOCAL_RANK` and `JSM_NAMESPACE_SIZE` are all set).
   */
  static detect(env: NodeJS.ProcessEnv = process.env): boolean {
    return allSet(env, ["LSB_JOBID", "LSB_DJOB_RANKFILE", "JSM_NAMESPACE_LOCAL_RANK", "JSM_NAMESPACE_SIZE"]);
  }

  private computeHosts(): string[] {
    const file = this.env.LSB_DJOB_RANKFILE!;
    let lines: string[];
    try {
      lines = readFileSync(file, "utf8")
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
    } catch (error) {
      throw new FulmenError(`Cannot read LSF's rank file ${file}: ${(error as Error).message}`);
    }
    // The first line names the batch (launch) node, which runs no rank.
    return [...new Set(lines.slice(1))];
  }

  /** Global rank 0's host: `MASTER_ADDR` when set, else the first compute host of the rank file. */
  mainAddress(): string {
    return this.env.MASTER_ADDR || this.computeHosts()[0]!;
  }

  /** `MASTER_PORT` when set, else 10000 plus `LSB_JOBID` modulo 1000 (the same on every rank of the job). */
  mainPort(): number {
    if (this.env.MASTER_PORT) return intVar(this.env, "MASTER_PORT");
    return 10000 + (intVar(this.env, "LSB_JOBID") % 1000);
  }

  /** The number of ranks, from `JSM_NAMESPACE_SIZE`. */
  worldSize(): number {
    return intVar(this.env, "JSM_NAMESPACE_SIZE");
  }

  /** This process's rank among all ranks, from `JSM_NAMESPACE_RANK`. */
  globalRank(): number {
    return intVar(this.env, "JSM_NAMESPACE_RANK");
  }

  /** This process's rank on its host, from `JSM_NAMESPACE_LOCAL_RANK`. */
  localRank(): number {
    return intVar(this.env, "JSM_NAMESPACE_LOCAL_RANK");
  }

  /**
   * The position of this host among the rank file's compute hosts (in order of first appearance); an error
   * when this host is not listed.
   */
  nodeRank(): number {
    const hosts = this.computeHosts();
    const index = hosts.indexOf(hostname());
    if (index < 0)
      throw new FulmenError(
        `This host (${hostname()}) is not in LSF's rank file; cannot tell its node rank.`,
      );
    return index;
  }
}
