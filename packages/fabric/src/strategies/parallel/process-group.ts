import type { Collective, CollectiveOptions } from "@fulmen/core";
import { connectCollective } from "./connect-collective";

interface DefaultGroup {
  key: string;
  collective: Collective;
}

let current: DefaultGroup | null = null;

/**
 * The process's default process group (as `torch.distributed.init_process_group` makes one per process): every
 * DDP strategy of this process with the same world shares it, so a script may create several Fabric objects or
 * Trainers one after another without a new rendezvous.
 */
export async function initProcessGroup(backend: string, options: CollectiveOptions): Promise<Collective> {
  const key = `${backend}|${options.mainAddress}:${options.mainPort}|${options.rank}/${options.worldSize}`;
  if (current !== null && current.key === key) return current.collective;
  destroyProcessGroup();
  current = { key, collective: await connectCollective(backend, options) };
  return current.collective;
}

/** Closes the default process group (`torch.distributed.destroy_process_group`); a later launch reconnects. */
export function destroyProcessGroup(): void {
  current?.collective.close();
  current = null;
}
