import { Parameter } from "../../autograd/parameter";
import type { tf } from "../../runtime/tfjs";
import { checkOptionNames } from "../../utils/options";
import { layerNorm } from "../functional/normalization";
import { Module } from "../module";

/** Options of {@link LayerNorm}. */
export interface LayerNormOptions {
  eps?: number;
  /** Learn a per-element scale and shift (default true). */
  elementwiseAffine?: boolean;
  /** Learn the shift when elementwiseAffine is on (default true). */
  bias?: boolean;
}

/** Layer normalisation over the trailing `normalizedShape` dimensions, like `torch.nn.LayerNorm` (biased variance). */
export class LayerNorm extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly normalizedShape: number[];
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
