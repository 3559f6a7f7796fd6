import { castToHalf, type HalfFormat, Precision, type tf } from "@fulmen/core";
import { toFloat32, withAutocast } from "@fulmen/core/plugin";

/**
 * What the half precisions share: float inputs are cast to the half format, outputs come back as float32
 * values, and the forward pass runs in an autocast region of the given mode.
 */
export abstract class HalfFormatPrecision extends Precision {
  protected constructor(
    /** The 16-bit format used: float16 (`"16-…"` precisions) or bfloat16 (`"bf16-…"`). */
    readonly format: HalfFormat,
    private readonly mode: "mixed" | "true",
  ) {
    super();
  }

  override convertInput(input: tf.Tensor): tf.Tensor {
    return input.dtype === "float32" ? castToHalf(input, this.format) : input;
  }

  override convertOutput(output: tf.Tensor): tf.Tensor {
    return toFloat32(output);
  }

  override forwardContext<T>(fn: () => T): T {
    return withAutocast({ format: this.format, mode: this.mode }, fn);
  }
}
