import {
  backward,
  FulmenError,
  type HalfFormat,
  type Optimizer,
  type ParameterSource,
  tf,
} from "@fulmen/core";
import { precisionRegistry } from "@fulmen/core/plugin";
import { GradScaler, type GradScalerStateDict } from "./grad-scaler";
import { bfloat16, float16 } from "./half/formats";
import { HalfFormatPrecision } from "./half/half-format-precision";

/**
 * `"16-mixed"` and `"bf16-mixed"` (Lightning's MixedPrecision): float32 master weights; inside the forward pass
 * the autocast region runs matmul/conv layers in half (inputs, weight and bias rounded to half, float32
 * accumulation, output rounded to half), element-wise layers stay in their input's format and losses run in
 * float32; gradients of half ops are half. `16-mixed` adds dynamic loss scaling (a GradScaler): the loss is
 * scaled for backward, gradients are unscaled before clipping, and steps whose gradients overflow are skipped.
 */
export class MixedPrecision extends HalfFormatPrecision {
  readonly name: string;
  private scalerInUse: GradScaler | null;

  constructor(
    format: HalfFormat,
    scaler: GradScaler | null = format.dtype === "float16" ? new GradScaler() : null,
  ) {
    super(format, "mixed");
    if (format.dtype === "bfloat16" && scaler !== null) {
      throw new FulmenError(
        "bf16-mixed does not use a GradScaler (bfloat16 has float32's range); pass none.",
      );
    }
    this.name = format.dtype === "float16" ? "16-mixed" : "bf16-mixed";
    this.scalerInUse = scaler;
  }

  /** The loss scaler ("16-mixed"), or null. */
  get scaler(): GradScaler | null {
    return this.scalerInUse;
  }

  /**
   * Replaces the loss scaler of "16-mixed", before training starts (a DeepSpeed config's `fp16` section sets
   * DeepSpeed's initial scale, window, hysteresis and minimum this way).
   */
  useScaler(scaler: GradScaler): void {
    if (this.scalerInUse === null)
      throw new FulmenError(`${this.name} uses no loss scaler; only "16-mixed" takes one.`);
    this.scalerInUse = scaler;
  }

  override backward(closure: () => tf.Scalar, params: ParameterSource): tf.Scalar {
    const scaler = this.scaler;
    if (scaler === null) return super.backward(closure, params);
    const scale = scaler.getScale();
    const scaled = backward(() => scaler.scale(closure()), params);
    // The scale is a power of two, so dividing it out gives the loss exactly.
    const loss = tf.div(scaled, scale) as tf.Scalar;
    scaled.dispose();
    return loss;
  }

  override unscaleGradients(optimizer: Optimizer): void {
    this.scaler?.unscale_(optimizer);
  }

  override optimizerStep(optimizer: Optimizer, closure?: () => unknown): boolean {
    if (this.scaler === null) return super.optimizerStep(optimizer, closure);
    // As Lightning's MixedPrecision and PyTorch's GradScaler: loss scaling unscales and checks the gradients once,
    // between one backward and the step, which an optimizer re-evaluating the loss inside its step cannot allow.
    if (optimizer.requiresClosure) {
      throw new FulmenError(
        `Native AMP ("16-mixed", loss scaling with a GradScaler) and the ${optimizer.constructor.name} optimizer are not compatible: it re-evaluates the loss inside its step. Use precision "32-true" or "bf16-mixed" (no loss scaling) with it.`,
      );
    }
    if (closure !== undefined) {
      throw new FulmenError(
        `"16-mixed" (loss scaling with a GradScaler) does not support optimizer.step(closure), as in PyTorch: call the closure (its backward) yourself, then optimizer.step() without it.`,
      );
    }
    const taken = this.scaler.step(optimizer);
    this.scaler.update();
    return taken;
  }

  override stateDict(): Record<string, unknown> {
    return this.scaler === null ? {} : { scaler: this.scaler.stateDict() };
  }

  override loadStateDict(state: Record<string, unknown>): void {
    if (this.scaler !== null && state.scaler !== undefined)
      this.scaler.loadStateDict(state.scaler as GradScalerStateDict);
  }
}

precisionRegistry.register("16-mixed", () => new MixedPrecision(float16), {
  description: "float16 autocast with float32 master weights and dynamic loss scaling",
  packageName: "@fulmen/precision",
});
precisionRegistry.register("bf16-mixed", () => new MixedPrecision(bfloat16), {
  description: "bfloat16 autocast with float32 master weights",
  packageName: "@fulmen/precision",
});
