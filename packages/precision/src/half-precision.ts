import { type HalfFormat, type Module, type Optimizer, tf } from "@fulmen/core";
import { markHalf, precisionRegistry } from "@fulmen/core/plugin";
import { bfloat16, float16 } from "./half/formats";
import { HalfFormatPrecision } from "./half/half-format-precision";

/**
 * `"16-true"` and `"bf16-true"` (Lightning's HalfPrecision): the whole model lives in half. Parameters are
 * rounded to half when the module is set up and again after every optimizer step (there are no float32 master
 * weights), float inputs are rounded to half, every layer computes in half (float32 arithmetic, outputs and
 * gradients rounded), and the output comes back as float32 values. No loss scaling.
 */
export class HalfPrecision extends HalfFormatPrecision {
  readonly name: string;

  constructor(format: HalfFormat) {
    super(format, "true");
    this.name = format.dtype === "float16" ? "16-true" : "bf16-true";
  }

  override convertModule<M extends Module>(module: M): M {
    for (const p of module.parameters()) this.roundParameter(p.data);
    return module;
  }

  override optimizerStep(optimizer: Optimizer, closure?: () => unknown): boolean {
    // With a closure the optimizer runs it (LBFGS, maybe often); the parameters are rounded once, after the step.
    super.optimizerStep(optimizer, closure);
    for (const group of optimizer.paramGroups) for (const p of group.params) this.roundParameter(p.data);
    return true;
  }

  private roundParameter(v: tf.Variable): void {
    tf.tidy(() => v.assign(this.format.round(v)));
    markHalf(v, this.format);
  }
}

precisionRegistry.register("16-true", () => new HalfPrecision(float16), {
  description: "float16 weights and computation, no master weights",
  packageName: "@fulmen/precision",
});
precisionRegistry.register("bf16-true", () => new HalfPrecision(bfloat16), {
  description: "bfloat16 weights and computation, no master weights",
  packageName: "@fulmen/precision",
});
