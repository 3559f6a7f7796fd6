import { FulmenError } from "@fulmen/core";

/**
 * The variable that holds a job's rendezvous-store secret (read by `@fulmen/collective-gloo`): every connection to
 * rank 0's store proves it knows this value, so only the job's own ranks can read or write the store.
 */
export const STORE_SECRET_VAR = "FULMEN_STORE_SECRET";

/**
 * The store secret for the ranks a Fulmen launcher starts on this node. The user's `FULMEN_STORE_SECRET` when set;
 * otherwise, for a single-node run, a fresh random one (all its ranks are this launcher's children, so it can hand
 * them one nobody else knows). A run over several nodes cannot agree on a generated value, so it needs the user's,
 * the same on every node: asking for it here fails before any rank starts.
 */
export function storeSecretForLaunch(env: NodeJS.ProcessEnv, numNodes: number): string {
  const given = env[STORE_SECRET_VAR];
  if (given !== undefined && given !== "") return given;
  if (numNodes > 1)
    throw new FulmenError(
      `A run over ${numNodes} nodes needs ${STORE_SECRET_VAR} set to the same random value on every node, next to ` +
        `MASTER_ADDR and MASTER_PORT (e.g. export ${STORE_SECRET_VAR}=$(openssl rand -hex 32) once and pass it to ` +
        "each node): rank 0's rendezvous store is reachable from the network and serves only ranks that know it.",
    );
  // Web Crypto (Node ≥ 19 and browsers): 32 random bytes, as 64 hex characters.
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
