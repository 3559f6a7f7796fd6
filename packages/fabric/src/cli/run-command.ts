import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { FulmenError } from "@fulmen/core";
import { STORE_SECRET_VAR, storeSecretForLaunch } from "../environments/store-secret";
import { LAUNCHED_BY_VAR, RankSupervisor } from "../launcher/rank-supervisor";

/** The usage text of `fulmen run`. */
export const RUN_USAGE = `Usage: fulmen run [options] SCRIPT [script arguments]

Runs SCRIPT as devices × num-nodes processes (this node's share here), as Lightning's \`fabric run\` does.

Options:
  --accelerator NAME     cpu, wasm, cuda, auto (passed to Fabric)
  --strategy NAME        ddp, … (default: ddp when more than one process runs)
  --devices N            processes on this node (default 1)
  --num-nodes M          nodes in the run (default 1)
  --node-rank R          this node's rank (default 0)
  --main-address HOST    rank 0's host (default 127.0.0.1)
  --main-port PORT       rank 0's rendezvous port (default 29400)
  --precision NAME       32-true, bf16-mixed, 16-mixed, … (passed to Fabric)
  -h, --help             show this text`;

const FLAGS = {
  accelerator: { type: "string" },
  strategy: { type: "string" },
  devices: { type: "string" },
  "num-nodes": { type: "string" },
  "node-rank": { type: "string" },
  "main-address": { type: "string" },
  "main-port": { type: "string" },
  precision: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** A parsed `fulmen run` command line. */
export interface RunPlan {
  /** The script to run: the first word of the command line that is not a flag. */
  script: string;
  /** The words after the script, passed to it unchanged. */
  scriptArgs: string[];
  /** `--devices`: the number of processes started on this node. Default 1. */
  devices: number;
  /** `--num-nodes`: the number of nodes in the run. Default 1. */
  numNodes: number;
  /** `--node-rank`: this node's rank, from 0 to `numNodes - 1`. Default 0. */
  nodeRank: number;
  /** `--main-address`: the host of global rank 0. Default `"127.0.0.1"`. */
  mainAddress: string;
  /** `--main-port`: global rank 0's rendezvous port. Default 29400. */
  mainPort: number;
  /** `--accelerator`, passed to Fabric through `FULMEN_ACCELERATOR`; absent when not given. */
  accelerator?: string;
  /**
   * `--strategy`, passed to Fabric through `FULMEN_STRATEGY`; absent when not given, in which case the ranks
   * get `"ddp"` when more than one process runs.
   */
  strategy?: string;
  /** `--precision`, passed to Fabric through `FULMEN_PRECISION`; absent when not given. */
  precision?: string;
}

function positiveInt(value: string | undefined, flag: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new FulmenError(`--${flag} must be an integer ≥ ${min}, got "${value}".`);
  return n;
}

/** Splits our flags from the script and its own arguments, and checks them. Returns null for --help. */
export function parseRunArgs(argv: string[]): RunPlan | null {
  // Everything from the first non-flag word on belongs to the script.
  let split = 0;
  while (split < argv.length && argv[split]!.startsWith("-")) {
    const word = argv[split]!;
    split += word.includes("=") || word === "-h" || word === "--help" ? 1 : 2;
  }
  let parsed: ReturnType<typeof parseArgs<{ options: typeof FLAGS; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv.slice(0, split), options: FLAGS, strict: true });
  } catch (error) {
    throw new FulmenError(`${(error as Error).message}\n\n${RUN_USAGE}`);
  }
  const v = parsed.values;
  if (v.help) return null;
  const script = argv[split];
  if (script === undefined) throw new FulmenError(`fulmen run: give the script to run.\n\n${RUN_USAGE}`);
  const numNodes = positiveInt(v["num-nodes"], "num-nodes", 1);
  const nodeRank = positiveInt(v["node-rank"], "node-rank", 0, 0);
  if (nodeRank >= numNodes)
    throw new FulmenError(`--node-rank ${nodeRank} must be below --num-nodes ${numNodes}.`);
  return {
    script,
    scriptArgs: argv.slice(split + 1),
    devices: positiveInt(v.devices, "devices", 1),
    numNodes,
    nodeRank,
    mainAddress: v["main-address"] ?? "127.0.0.1",
    mainPort: positiveInt(v["main-port"], "main-port", 29400),
    ...(v.accelerator === undefined ? {} : { accelerator: v.accelerator }),
    ...(v.strategy === undefined ? {} : { strategy: v.strategy }),
    ...(v.precision === undefined ? {} : { precision: v.precision }),
  };
}

/** How Node runs the script: TypeScript through tsx, resolved from the script's project. */
function nodeArgsFor(script: string): string[] {
  if (!/\.[mc]?ts$/.test(script)) return [script];
  try {
    createRequire(join(process.cwd(), "package.json")).resolve("tsx");
  } catch {
    throw new FulmenError(
      `fulmen run: ${script} is TypeScript; install tsx in this project (npm install -D tsx) or run the compiled .js.`,
    );
  }
  return ["--import", "tsx", script];
}

/** The environment of one local rank. */
export function rankEnvironment(
  plan: RunPlan,
  localRank: number,
  base: NodeJS.ProcessEnv,
): NodeJS.ProcessEnv {
  const worldSize = plan.devices * plan.numNodes;
  const strategy = plan.strategy ?? (worldSize > 1 ? "ddp" : undefined);
  return {
    ...base,
    MASTER_ADDR: plan.mainAddress,
    MASTER_PORT: String(plan.mainPort),
    WORLD_SIZE: String(worldSize),
    NODE_RANK: String(plan.nodeRank),
    LOCAL_RANK: String(localRank),
    LOCAL_WORLD_SIZE: String(plan.devices),
    RANK: String(plan.nodeRank * plan.devices + localRank),
    FULMEN_DEVICES: String(plan.devices),
    FULMEN_NUM_NODES: String(plan.numNodes),
    [LAUNCHED_BY_VAR]: String(process.pid),
    ...(strategy === undefined ? {} : { FULMEN_STRATEGY: strategy }),
    ...(plan.accelerator === undefined ? {} : { FULMEN_ACCELERATOR: plan.accelerator }),
    ...(plan.precision === undefined ? {} : { FULMEN_PRECISION: plan.precision }),
  };
}

/**
 * `fulmen run`: starts this node's ranks of SCRIPT, keeps every rank's output, and when one fails stops the
 * others and exits with its code. Resolves with the exit code of the run.
 */
export async function runCommand(
  argv: string[],
  print: (text: string) => void = console.log,
): Promise<number> {
  const plan = parseRunArgs(argv);
  if (plan === null) {
    print(RUN_USAGE);
    return 0;
  }
  if (!existsSync(resolve(plan.script)))
    throw new FulmenError(`fulmen run: the script ${plan.script} does not exist.`);
  const args = nodeArgsFor(plan.script);
  // The ranks' rendezvous-store secret: the user's, or a fresh one for a single-node run (before any rank starts).
  const base = { ...process.env, [STORE_SECRET_VAR]: storeSecretForLaunch(process.env, plan.numNodes) };
  let failure: number | null = null;
  const supervisor = new RankSupervisor((code, message) => {
    console.error(message);
    failure ??= code;
  });
  for (let localRank = 0; localRank < plan.devices; localRank++) {
    supervisor.start(
      plan.nodeRank * plan.devices + localRank,
      process.execPath,
      [...args, ...plan.scriptArgs],
      rankEnvironment(plan, localRank, base),
    );
  }
  const code = await supervisor.waitAll();
  return failure ?? code;
}
