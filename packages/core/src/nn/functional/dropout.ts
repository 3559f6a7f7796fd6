import { followInputOp } from "../../amp/autocast";
import type { Generator } from "../../random/generator";
import { drawSeed, getDefaultGenerator } from "../../random/seed";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";

/** Options of {@link dropout}. */
export interface DropoutOptions {
  /** The probability of zeroing an element (default 0.5). */
  p?: number;
  /** Apply dropout (default true, as `F.dropout`); false returns the input. */
  training?: boolean;
  /** Where the mask's randomness comes from (default: the global generator, seeded by `seedEverything`). */
  generator?: Generator;
}

/**
 * Zeroes each element with probability `p` and scales the rest by 1/(1-p), like `F.dropout`; the identity
 * with `training: false` or `p` 0. Masks come from the seeded generator, so runs repeat.
 */
export function dropout(x: tf.Tensor, options: DropoutOptions = {}): tf.Tensor {
  return maskedDropout("dropout", x, options, false, false);
}

/** The SELU saturation `−scale·alpha` that alpha dropout sets dropped elements to (PyTorch's constant). */
const ALPHA_DROPOUT_SATURATION = 1.7580993408473766;

/**
 * PyTorch's `_dropout_impl`: a keep mask of 1s and 0s (one per element, or per channel of a `(N, C, *)` input
 * with `perChannel`), then plain dropout's `x·mask/(1−p)`, or alpha dropout's affine map that keeps a SELU
 * network's mean and variance: `a·(x·mask + α·(mask − 1)) + α·a·p` with `a = 1/sqrt((α²p + 1)(1 − p))`.
 */
function maskedDropout(
  owner: string,
  x: tf.Tensor,
  options: DropoutOptions,
  perChannel: boolean,
  alpha: boolean,
): tf.Tensor {
  checkOptionNames(owner, options, ["p", "training", "generator"]);
  const p = options.p ?? 0.5;
  checkNumber(owner, "p", p, (v) => v >= 0 && v <= 1, "a probability between 0 and 1");
  if (options.training === false || p === 0) return x;
  if (perChannel && x.rank < 2) {
    throw new FulmenError(
      `${owner}: channel-wise dropout needs an input of (N, C, *) with at least 2 dimensions, got shape [${x.shape}].`,
    );
  }
  const generator = options.generator ?? getDefaultGenerator();
  return tf.tidy(() => {
    if (p === 1) return tf.zerosLike(x);
    const maskShape = perChannel ? [x.shape[0]!, x.shape[1]!, ...x.shape.slice(2).map(() => 1)] : x.shape;
    const u = tf.randomUniform(maskShape, 0, 1, "float32", drawSeed(generator));
    const keep = tf.cast(tf.greaterEqual(u, p), "float32");
    if (!alpha) return followInputOp((v) => tf.mul(v, tf.mul(keep, 1 / (1 - p))), x);
    const a = 1 / Math.sqrt((ALPHA_DROPOUT_SATURATION ** 2 * p + 1) * (1 - p));
    const shift = tf.add(
      tf.mul(tf.sub(keep, 1), ALPHA_DROPOUT_SATURATION * a),
      ALPHA_DROPOUT_SATURATION * a * p,
    );
    return followInputOp((v) => tf.add(tf.mul(v, tf.mul(keep, a)), tf.cast(shift, v.dtype)), x);
  });
}

/** An unbatched input (`rank` one less than the batched one) as a batch of one, and back. */
function withBatchOf(rank: number, x: tf.Tensor, fn: (batched: tf.Tensor) => tf.Tensor): tf.Tensor {
  if (x.rank !== rank - 1) return fn(x);
  return tf.tidy(() => tf.squeeze(fn(tf.expandDims(x, 0)), [0]));
}

/**
 * Zeroes whole channels of `(N, C, L)` or unbatched `(C, L)` with probability `p` and scales the rest by
 * 1/(1−p), like `F.dropout1d`; the identity with `training: false`.
 */
export function dropout1d(x: tf.Tensor, options: DropoutOptions = {}): tf.Tensor {
  if (x.rank !== 2 && x.rank !== 3) {
    throw new FulmenError(
      `dropout1d: expects a 2D (C, L) or 3D (N, C, L) input, got shape [${x.shape}]; use dropout2d/dropout3d for more spatial dimensions.`,
    );
  }
  return withBatchOf(3, x, (b) => maskedDropout("dropout1d", b, options, true, false));
}

/**
 * Zeroes whole channels of `(N, C, H, W)` with probability `p` and scales the rest by 1/(1−p), like
 * `F.dropout2d`. As in PyTorch, a 3D input is read as `(N, C, L)` (channel-wise 1D dropout).
 */
export function dropout2d(x: tf.Tensor, options: DropoutOptions = {}): tf.Tensor {
  return maskedDropout("dropout2d", x, options, true, false);
}

/** Zeroes whole channels of `(N, C, D, H, W)` or unbatched `(C, D, H, W)`, like `F.dropout3d`. */
export function dropout3d(x: tf.Tensor, options: DropoutOptions = {}): tf.Tensor {
  return withBatchOf(5, x, (b) => maskedDropout("dropout3d", b, options, true, false));
}

/**
 * Dropout that keeps a self-normalising (SELU) network's mean and variance, like `F.alpha_dropout`: dropped
 * elements take SELU's negative saturation and the result is rescaled and shifted.
 */
export function alphaDropout(x: tf.Tensor, options: DropoutOptions = {}): tf.Tensor {
  return maskedDropout("alphaDropout", x, options, false, true);
}

/** {@link alphaDropout} over whole channels of a `(N, C, *)` input, like `F.feature_alpha_dropout`. */
export function featureAlphaDropout(x: tf.Tensor, options: DropoutOptions = {}): tf.Tensor {
  return maskedDropout("featureAlphaDropout", x, options, true, true);
}
