import { FulmenError } from "@fulmen/core";
import { STORE_SECRET_VAR, storeSecretForLaunch } from "../environments/store-secret";
import { findFreePort } from "./free-port";
import { LAUNCHED_BY_VAR, RankSupervisor } from "./rank-supervisor";

/** Where this node's ranks sit in the run. */
export interface LocalLaunchOptions {
  /** The number of processes (local ranks) on this node. */
  devices: number;
  /** The number of nodes in the run. */
  numNodes: number;
  /** This node's rank, from 0 to `numNodes - 1`. */
  nodeRank: number;
}

/**
 * Lightning's subprocess launcher: this process becomes local rank 0 and re-runs the same command (same Node
 * flags, same script and arguments) for local ranks 1…devices-1, passing `MASTER_ADDR`, `MASTER_PORT`,
 * `WORLD_SIZE`, `NODE_RANK`, `LOCAL_RANK`, `LOCAL_WORLD_SIZE` and `FULMEN_STORE_SECRET` (the user's, or on one node
 * a fresh random one, so that only these ranks can use rank 0's rendezvous store). A rank that fails takes the
 * others down with its exit code.
 */
export async function launchLocalRanks(options: LocalLaunchOptions): Promise<void> {
  const { devices, numNodes, nodeRank } = options;
  if (process.env.MASTER_PORT === undefined || process.env.MASTER_PORT === "") {
    if (numNodes > 1)
      throw new FulmenError(
        "A run over several nodes needs MASTER_ADDR and MASTER_PORT set to the same values on every node (rank 0's host and a free port).",
      );
    process.env.MASTER_PORT = String(await findFreePort());
  }
  // Decided before any rank starts: a multi-node run without the user's secret stops here, on every node.
  process.env[STORE_SECRET_VAR] = storeSecretForLaunch(process.env, numNodes);
  process.env.MASTER_ADDR ||= "127.0.0.1";
  process.env.WORLD_SIZE = String(devices * numNodes);
  process.env.NODE_RANK = String(nodeRank);
  process.env.LOCAL_RANK = "0";
  // How many ranks share this machine (as torchrun says it): native engines size their thread pools by it.
  process.env.LOCAL_WORLD_SIZE = String(devices);
  // This process trains as rank 0, so signals keep their default action (see RankSupervisor).
  const supervisor = new RankSupervisor(
    (code, message) => {
      console.error(message);
      process.exit(code);
    },
    { handleSignals: false },
  );
  for (let localRank = 1; localRank < devices; localRank++) {
    supervisor.start(
      nodeRank * devices + localRank,
      process.execPath,
      [...process.execArgv, ...process.argv.slice(1)],
      {
        ...process.env,
        LOCAL_RANK: String(localRank),
        [LAUNCHED_BY_VAR]: String(process.pid),
      },
    );
  }
}
