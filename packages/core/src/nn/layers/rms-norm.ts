import { Parameter } from "../../autograd/parameter";
import type { tf } from "../../runtime/tfjs";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { rmsNorm } from "../functional/normalization";
import { Module } from "../module";

/** Options of {@link RMSNorm}. */
export interface RMSNormOptions {
  /** Added to the mean square; null (default) is the machine epsilon of the input's dtype, as PyTorch. */
  eps?: number | null;
  /** Learn a per-element scale, initialised to ones (default true). */
  elementwiseAffine?: boolean;
}

/**
 * Root-mean-square normalisation over the trailing `normalizedShape` dimensions, like today's
 * `torch.nn.RMSNorm`: `x / sqrt(mean(x²) + eps) · weight` (no shift, no centring).
 */
export class RMSNorm extends Module {
  /** The learnable scale of shape `normalizedShape` (ones at first); null with `elementwiseAffine: false`. */
  weight: Parameter | null;
  /** The trailing dimensions normalised over, as a list (a number `d` given is stored as `[d]`). */
  readonly normalizedShape: number[];
  /** Added to the mean square; null (default) for the machine epsilon of the input's dtype. */
  readonly eps: number | null;

  constructor(normalizedShape: number | number[], options: RMSNormOptions = {}) {
    super();
    checkOptionNames("RMSNorm", options, ["eps", "elementwiseAffine"]);
    this.normalizedShape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    for (const d of this.normalizedShape)
      checkNumber("RMSNorm", "normalizedShape", d, (v) => Number.isInteger(v) && v > 0, "positive integers");
    this.eps = options.eps ?? null;
    if (this.eps !== null)
      checkNumber("RMSNorm", "eps", this.eps, (v) => v >= 0, "a non-negative number or null");
    this.weight = (options.elementwiseAffine ?? true) ? Parameter.full(this.normalizedShape, 1) : null;
  }

  forward(x: tf.Tensor): tf.Tensor {
    return rmsNorm(x, this.normalizedShape, { weight: this.weight?.data ?? null, eps: this.eps });
  }

  protected override extraRepr(): string {
    return `[${this.normalizedShape}], eps=${this.eps ?? "None"}, elementwiseAffine=${this.weight !== null}`;
  }
}
