import { Parameter } from "../../autograd/parameter";
import type { tf } from "../../runtime/tfjs";
import { checkOptionNames } from "../../utils/options";
import { layerNorm } from "../functional/normalization";
import { Module } from "../module";

/** Options of {@link LayerNorm}. */
export interface LayerNormOptions {
  /** Added to the variance before its square root, for numerical stability (default 1e-5). */
  eps?: number;
  /** Learn a per-element scale and shift (default true). */
  elementwiseAffine?: boolean;
  /** Learn the shift when elementwiseAffine is on (default true). */
  bias?: boolean;
}

/** Layer normalisation over the trailing `normalizedShape` dimensions, like `torch.nn.LayerNorm` (biased variance). */
export class LayerNorm extends Module {
  /** The learnable scale of shape `normalizedShape` (ones at first); null with `elementwiseAffine: false`. */
  weight: Parameter | null;
  /** The learnable shift of shape `normalizedShape` (zeros at first); null unless both options are true. */
  bias: Parameter | null;
  /** The trailing dimensions normalised over, as a list (a number `d` given is stored as `[d]`). */
  readonly normalizedShape: number[];
  /** Added to the variance before its square root (default 1e-5). */
  readonly eps: number;

  constructor(normalizedShape: number | number[], options: LayerNormOptions = {}) {
    super();
    checkOptionNames("LayerNorm", options, ["eps", "elementwiseAffine", "bias"]);
    this.normalizedShape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    this.eps = options.eps ?? 1e-5;
    const affine = options.elementwiseAffine ?? true;
    this.weight = affine ? Parameter.full(this.normalizedShape, 1) : null;
    this.bias = affine && (options.bias ?? true) ? Parameter.full(this.normalizedShape, 0) : null;
  }

  forward(x: tf.Tensor): tf.Tensor {
    // Autocast keeps layer norm in float32 (mixed); a model converted to half runs it in half (true).
    return layerNorm(x, this.normalizedShape, {
      weight: this.weight?.data ?? null,
      bias: this.bias?.data ?? null,
      eps: this.eps,
    });
  }

  protected override extraRepr(): string {
    return `[${this.normalizedShape}], eps=${this.eps}`;
  }
}
