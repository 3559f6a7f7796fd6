import { type Optimizer, Precision, tf } from "@fulmen/core";
import { precisionRegistry } from "@fulmen/core/plugin";

/**
 * float32 training that refuses to apply a step whose gradients hold NaN or infinity (a bad batch, a
 * exploding loss): the step is skipped and counted, and training goes on. Everything else is the `Precision`
 * base class's float32 default: the plugin overrides only the step and the state it checkpoints.
 */
export class NanGuardPrecision extends Precision {
  readonly name = "32-true-nan-guard";
  /** How many optimizer steps were skipped. */
  skippedSteps = 0;

  override optimizerStep(optimizer: Optimizer, closure?: () => unknown): boolean {
    const grads = optimizer.paramGroups
      .flatMap((g) => g.params)
      .flatMap((p) => (p.grad === null ? [] : [p.grad]));
    const bad = tf.tidy(() => tf.any(tf.stack(grads.map((g) => tf.any(tf.logicalNot(tf.isFinite(g)))))));
    const skip = grads.length > 0 && bad.dataSync()[0] === 1;
    bad.dispose();
    if (skip) {
      this.skippedSteps += 1;
      return false;
    }
    return super.optimizerStep(optimizer, closure);
  }

  override stateDict(): Record<string, unknown> {
    return { skippedSteps: this.skippedSteps };
  }

  override loadStateDict(state: Record<string, unknown>): void {
    this.skippedSteps = Number(state.skippedSteps ?? 0);
  }
}

// Importing the package is all a user does: the name becomes valid for `new Fabric({ precision })`.
precisionRegistry.register("32-true-nan-guard", () => new NanGuardPrecision(), {
  description: "float32; skips optimizer steps whose gradients are not finite",
  packageName: "@fulmen-example/precision-nan-guard",
});
