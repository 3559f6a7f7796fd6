import { FulmenError, type Strategy } from "@fulmen/core";
import { strategyRegistry } from "@fulmen/core/plugin";
import { STRATEGY_PACKAGES } from "../connector/known-plugins";
import { loadPluginPackage } from "../connector/plugin-packages";

/**
 * Creates the strategy registered as `name`, first loading the plugin package that provides it (as collectives
 * and accelerators are found by name) when it is not registered yet; says which package to install when it is
 * missing, instead of falling back to another strategy.
 */
export function createStrategy(name: string): Strategy {
  const packageName = STRATEGY_PACKAGES[name];
  if (!strategyRegistry.has(name) && packageName !== undefined) {
    let installed: boolean;
    try {
      installed = loadPluginPackage(packageName);
    } catch (error) {
      throw new FulmenError(
        `The strategy "${name}" is provided by ${packageName}, which is installed but failed to load ` +
          `(${(error as Error).message}). Reinstall it (npm install ${packageName}), or choose another strategy.`,
      );
    }
    if (!installed)
      throw new FulmenError(
        `The strategy "${name}" is provided by ${packageName}, which is not installed. Install it in your project ` +
          `(npm install ${packageName}; Fabric loads it by name), or choose another strategy such as "ddp".`,
      );
  }
  return strategyRegistry.create(name);
}
