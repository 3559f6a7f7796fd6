import { Strategy } from "@fulmen/core";
import { strategyRegistry } from "@fulmen/core/plugin";

/**
 * One process on one device (Lightning's `SingleDeviceStrategy`): the base `Strategy`'s defaults, whose
 * collectives are identities with the shapes a distributed run would give for a world of one, so the same
 * script later runs distributed.
 */
export class SingleDeviceStrategy extends Strategy {
  readonly name = "single_device";
}

strategyRegistry.register("single_device", () => new SingleDeviceStrategy(), {
  description: "one process on one device",
  packageName: "@fulmen/fabric",
});
