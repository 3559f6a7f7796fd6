import { Precision } from "@fulmen/core";
import { precisionRegistry } from "@fulmen/core/plugin";

/**
 * `"32-true"`: everything in float32, the tfjs native format, which is the base class's behaviour: modules are
 * unchanged, the forward pass runs as is, backward differentiates the loss directly and the optimizer always
 * steps.
 */
export class Float32Precision extends Precision {
  readonly name = "32-true";
}

precisionRegistry.register("32-true", () => new Float32Precision(), {
  description: "float32 weights and computation",
  packageName: "@fulmen/precision",
});
