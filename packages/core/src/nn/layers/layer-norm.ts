import { currentAutocast, followInputOp, toFloat32 } from "../../amp/autocast";
import { Parameter } from "../../autograd/parameter";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkOptionNames } from "../../utils/options";
import {
  backendHasKernels,
  fusedLayerNorm,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
} from "../fused-kernels";
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
    const autocast = currentAutocast();
    if (autocast?.mode === "mixed") return this.normalize(toFloat32(x));
    return followInputOp((v) => this.normalize(v), x);
  }

  private normalize(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const k = this.normalizedShape.length;
      if (!tf.util.arraysEqual(x.shape.slice(x.rank - k), this.normalizedShape)) {
        throw new FulmenError(
          `LayerNorm: input shape [${x.shape}] does not end with normalizedShape [${this.normalizedShape}].`,
        );
      }
      if (x.dtype === "float32" && backendHasKernels(LAYER_NORM_KERNEL, LAYER_NORM_GRAD_KERNEL)) {
        const size = this.normalizedShape.reduce((p, d) => p * d, 1);
        return fusedLayerNorm(x, this.weight?.data ?? null, this.bias?.data ?? null, size, this.eps);
      }
      const axes = Array.from({ length: k }, (_, i) => x.rank - k + i);
      const mean = tf.mean(x, axes, true);
      const centered = tf.sub(x, mean);
      const variance = tf.mean(tf.square(centered), axes, true);
      let y = tf.mul(centered, tf.rsqrt(tf.add(variance, this.eps)));
      if (this.weight !== null) y = tf.mul(y, this.weight.data);
      if (this.bias !== null) y = tf.add(y, this.bias.data);
      return y;
    });
  }

  protected override extraRepr(): string {
    return `[${this.normalizedShape}], eps=${this.eps}`;
  }
}
