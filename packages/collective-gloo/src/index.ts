import { collectiveRegistry } from "@fulmen/core/plugin";
import { GlooCollective } from "./gloo-collective";

export { GlooCollective, type GlooCollectiveOptions } from "./gloo-collective";
export {
  isGlooAvailable,
  loadGloo,
  type NativeGroup,
  type NativeGroupOptions,
  type NativeMode,
  type NativeModule,
  type NativeStarted,
  type NativeSubgroupOptions,
} from "./native-binding";
export { STORE_BIND_VAR, STORE_SECRET_VAR } from "./store-access";

collectiveRegistry.register("gloo", () => (options) => GlooCollective.connect(options), {
  description: "Gloo collectives over TCP (native addon)",
  packageName: "@fulmen/collective-gloo",
});
