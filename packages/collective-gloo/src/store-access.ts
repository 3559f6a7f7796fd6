import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { FulmenError } from "@fulmen/core";

/** The variable holding the job's rendezvous-store secret; the same value on every rank of a job. */
export const STORE_SECRET_VAR = "FULMEN_STORE_SECRET";
/** The variable naming where rank 0's store listens when it must not be `MASTER_ADDR` (NAT, a service address). */
export const STORE_BIND_VAR = "FULMEN_STORE_BIND_ADDR";

const MIN_SECRET_LENGTH = 16;
const MAX_SECRET_LENGTH = 1024;

/** Who may use the store: the secret every connection proves, and the address rank 0 listens on. */
export interface StoreAccess {
  /** Empty when the job has none (allowed only when the store is reachable from this machine alone). */
  secret: string;
  /** Where rank 0's store listens: `FULMEN_STORE_BIND_ADDR`, or the main address. */
  bindHost: string;
}

function isLoopbackAddress(address: string): boolean {
  if (isIP(address) === 4) return address.startsWith("127.");
  const lower = address.toLowerCase();
  return lower === "::1" || lower.startsWith("::ffff:127.");
}

/** Whether every address `host` names is a loopback address (so only this machine can reach it). */
async function onlyLoopback(host: string): Promise<boolean> {
  if (isIP(host) !== 0) return isLoopbackAddress(host);
  try {
    const found = await lookup(host, { all: true });
    return found.length > 0 && found.every((a) => isLoopbackAddress(a.address));
  } catch {
    // Unresolvable here: it is surely not known to be loopback, and connecting will say what is wrong with it.
    return false;
  }
}

/**
 * Decides how rank `rank` reaches the store at `mainAddress:mainPort`, from the explicit secret or
 * `FULMEN_STORE_SECRET`. A store that other machines can reach (any job over several nodes) needs a secret on
 * every rank, or anyone who reaches the port could read the ranks' addresses, fake a heartbeat or write keys.
 * A store on loopback may go without one: only processes on this machine reach it, which is what lets a
 * single-machine job started by torchrun, srun or mpirun (whose ranks share nothing our launcher could have
 * handed them) run unchanged. Fulmen's own launcher always generates one for its local ranks, and setting the
 * variable closes a loopback store to this machine's other users too.
 */
export async function resolveStoreAccess(
  rank: number,
  mainAddress: string,
  mainPort: number,
  explicitSecret: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<StoreAccess> {
  const secret = explicitSecret ?? env[STORE_SECRET_VAR] ?? "";
  if (secret !== "" && (secret.length < MIN_SECRET_LENGTH || secret.length > MAX_SECRET_LENGTH))
    throw new FulmenError(
      `${STORE_SECRET_VAR} must hold ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters (it has ${secret.length}); ` +
        `use a random value, e.g. ${STORE_SECRET_VAR}=$(openssl rand -hex 32), the same on every node.`,
    );
  const bindOverride = env[STORE_BIND_VAR] ?? "";
  const bindHost = bindOverride === "" ? mainAddress : bindOverride;
  if (secret === "") {
    const reachableFrom = !(await onlyLoopback(mainAddress)) ? `MASTER_ADDR=${mainAddress}` : null;
    // Only rank 0 listens, but every rank that was given the variable refuses, so all of them fail alike.
    const boundWide =
      bindOverride !== "" && !(await onlyLoopback(bindOverride)) ? `${STORE_BIND_VAR}=${bindOverride}` : null;
    const reason = reachableFrom ?? boundWide;
    if (reason !== null)
      throw new FulmenError(
        `Rank ${rank}: the rendezvous store at ${mainAddress}:${mainPort} can be reached from other machines ` +
          `(${reason} is not a loopback address), so every rank must prove it belongs to this job: set ` +
          `${STORE_SECRET_VAR} to the same random value on every node (e.g. ${STORE_SECRET_VAR}=$(openssl rand -hex 32)), ` +
          "next to MASTER_ADDR and MASTER_PORT. A job whose ranks all run on one machine with MASTER_ADDR=127.0.0.1 needs none.",
      );
  }
  return { secret, bindHost };
}
