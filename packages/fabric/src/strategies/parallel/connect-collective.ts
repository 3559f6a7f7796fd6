import { type Collective, type CollectiveOptions, FulmenError } from "@fulmen/core";
import { collectiveRegistry } from "@fulmen/core/plugin";
import { importPluginPackage } from "../../connector/plugin-packages";

/** Packages that register collective backends, by backend name. */
const BACKEND_PACKAGES: Record<string, string> = { gloo: "@fulmen/collective-gloo" };

/**
 * Connects the named collective backend, importing its package on first use (so Fabric runs without it in one
 * process); says what to install when it is missing.
 */
export async function connectCollective(backend: string, options: CollectiveOptions): Promise<Collective> {
  const packageName = BACKEND_PACKAGES[backend];
  if (!collectiveRegistry.has(backend) && packageName !== undefined) {
    try {
      // Loaded in this build's format (require from CommonJS), so it registers into the user's copy of core.
      if (!(await importPluginPackage(packageName))) throw new Error(`Cannot find package '${packageName}'`);
    } catch (error) {
      throw new FulmenError(
        `Distributed training needs the "${backend}" collectives of ${packageName}, which could not be loaded ` +
          `(${(error as Error).message}). Install it (npm install ${packageName}; it builds a native addon and ` +
          "needs apt-get install -y g++ make python3 libgloo-dev), or train on one device.",
      );
    }
  }
  const connectBackend = collectiveRegistry.create(backend);
  return connectBackend(options);
}
