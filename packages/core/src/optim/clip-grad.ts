import { type ParameterSource, toParameterList } from "../autograd/backward";
import { tf } from "../runtime/tfjs";
import { FulmenError } from "../utils/errors";

/** Options of {@link clipGradNorm_}. */
export interface ClipGradNormOptions {
  /** Throw when the total norm is NaN or infinite (default false, as in PyTorch). */
  errorIfNonfinite?: boolean;
}

/**
 * Scales the gradients so that their joint `normType`-norm (2, 1, Infinity, or any p > 0) is at most `maxNorm`,
 * like `torch.nn.utils.clip_grad_norm_`: the norm of the per-parameter norms, coefficient
 * `maxNorm / (norm + 1e-6)` clamped to 1. Returns the total norm before clipping (the caller owns the tensor).
 */
export function clipGradNorm_(
  params: ParameterSource,
  maxNorm: number,
  normType = 2,
  options: ClipGradNormOptions = {},
): tf.Scalar {
  if (!(normType > 0) && normType !== Number.POSITIVE_INFINITY) {
    throw new FulmenError(`clipGradNorm_: normType must be a positive number or Infinity, got ${normType}.`);
  }
  if (!(maxNorm >= 0)) throw new FulmenError(`clipGradNorm_: maxNorm must be >= 0, got ${maxNorm}.`);
  const withGrad = toParameterList(params).filter((p) => p.grad !== null);
  if (withGrad.length === 0) return tf.scalar(0);
  const total = tf.tidy(() => {
    const grads = withGrad.map((p) => p.grad!);
    if (normType === Number.POSITIVE_INFINITY) {
      return tf.max(tf.stack(grads.map((g) => tf.max(tf.abs(g))))) as tf.Scalar;
    }
    const norms = grads.map((g) => vectorNorm(g, normType));
    return vectorNorm(tf.stack(norms), normType);
  });
  if (options.errorIfNonfinite) {
    const value = total.dataSync()[0]!;
    if (!Number.isFinite(value)) {
      total.dispose();
      throw new FulmenError(
        `clipGradNorm_: the total norm of order ${normType} is ${value}, so the gradients cannot be clipped. Set errorIfNonfinite: false to clip anyway.`,
      );
    }
  }
  tf.tidy(() => {
    const coef = tf.minimum(tf.div(maxNorm, tf.add(total, 1e-6)), 1);
    for (const p of withGrad) p.setGrad(tf.mul(p.grad!, coef));
  });
  return total;
}

/**
 * The p-norm of all of `x`'s elements for a finite p > 0, as `torch.linalg.vector_norm`: √Σx² for 2 (tfjs's
 * `tf.norm` computes it as pow(|x|, 2), whose values equal x², in a kernel most backends run slowly), Σ|x| for 1,
 * (Σ|x|^p)^(1/p) otherwise (which `tf.norm` does not offer).
 */
function vectorNorm(x: tf.Tensor, p: number): tf.Scalar {
  if (p === 2) return tf.sqrt(tf.sum(tf.square(x))) as tf.Scalar;
  if (p === 1) return tf.sum(tf.abs(x)) as tf.Scalar;
  return tf.pow(tf.sum(tf.pow(tf.abs(x), p)), 1 / p) as tf.Scalar;
}

/** Clamps every gradient element to [-clipValue, clipValue], like `torch.nn.utils.clip_grad_value_`. */
export function clipGradValue_(params: ParameterSource, clipValue: number): void {
  if (!(clipValue >= 0)) throw new FulmenError(`clipGradValue_: clipValue must be >= 0, got ${clipValue}.`);
  tf.tidy(() => {
    for (const p of toParameterList(params)) {
      if (p.grad !== null) p.setGrad(tf.clipByValue(p.grad, -clipValue, clipValue));
    }
  });
}
