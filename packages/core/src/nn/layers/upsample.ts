import type { tf } from "../../runtime/tfjs";
import { checkInterpolateOptions, type InterpolateOptions, resample } from "../functional/interpolate";
import { Module } from "../module";

/**
 * Upsamples `[N, C, L]`, `[N, C, H, W]` or `[N, C, D, H, W]` input, like `torch.nn.Upsample`:
 * `nn.functional.interpolate` with the module's size or scale factor, mode ("nearest" default, "nearest-exact",
 * "linear", "bilinear", "bicubic", "trilinear", "area") and `alignCorners`.
 */
export class Upsample extends Module {
  /** A copy of the options given: the size or scale factor, mode and `alignCorners` of every forward. */
  readonly options: Readonly<InterpolateOptions>;

  constructor(options: InterpolateOptions = {}) {
    super();
    checkInterpolateOptions("Upsample", options);
    this.options = { ...options };
  }

  forward(x: tf.Tensor): tf.Tensor {
    return resample("Upsample", x, this.options);
  }

  protected override extraRepr(): string {
    const { size, scaleFactor, mode, alignCorners } = this.options;
    const what = size != null ? `size=${JSON.stringify(size)}` : `scaleFactor=${JSON.stringify(scaleFactor)}`;
    return `${what}, mode=${mode ?? "nearest"}${alignCorners != null ? `, alignCorners=${alignCorners}` : ""}`;
  }
}
