import { collectiveRegistry } from "@fulmen/core";
import { GlooCollective } from "./gloo-collective";

export { GlooCollective } from "./gloo-collective";
export { isGlooAvailable, loadGloo } from "./native-binding";

collectiveRegistry.register("gloo", () => (options) => GlooCollective.connect(options), {
  description: "Gloo collectives over TCP (native addon)",
  packageName: "@fulmen/collective-gloo",
});
