import { toFloat32 } from "../../amp/autocast";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";

/**
 * Norms and distances along a dimension (`F.normalize`, `F.cosine_similarity`, `F.pairwise_distance`), with
 * PyTorch's norm gradient: 0 where the norm is 0 (autodiff of `sqrt(sum(x²))` gives NaN there), split evenly
 * between the largest elements for the ∞-norm.
 */

/** Options of {@link normalize}. */
export interface NormalizeOptions {
  /** The order of the norm (default 2; any p ≥ 0 or Infinity). */
  p?: number;
  /** The dimension each vector lies along (default 1; negative counts from the end). */
  dim?: number;
  /** The smallest divisor, so that a zero vector stays zero (default 1e-12). */
  eps?: number;
}

/** Options of {@link cosineSimilarity}. */
export interface CosineSimilarityOptions {
  /** The dimension the vectors lie along (default 1; negative counts from the end). */
  dim?: number;
  /** The smallest norm each vector is divided by (default 1e-8). */
  eps?: number;
}

/** Options of {@link pairwiseDistance}. */
export interface PairwiseDistanceOptions {
  /** The order of the norm (default 2; any p ≥ 0 or Infinity). */
  p?: number;
  /** Added to every difference before the norm, so that the gradient at equal vectors is finite (default 1e-6). */
  eps?: number;
  /** Keep the reduced last dimension with size 1 (default false). */
  keepdim?: boolean;
}

/** `dim` as an axis of a tensor of `rank` dimensions, or a clear error. */
function axisOf(owner: string, dim: number, rank: number): number {
  const r = Math.max(rank, 1);
  if (!Number.isInteger(dim) || dim < -r || dim >= r) {
    throw new FulmenError(
      `${owner}: dim ${dim} is out of range for an input of ${rank} dimensions; use -${r}..${r - 1}.`,
    );
  }
  return dim < 0 ? dim + r : dim;
}

/** Checks a norm order: any p ≥ 0 or Infinity, as `torch.linalg.vector_norm` takes. */
function checkOrder(owner: string, p: number): void {
  checkNumber(owner, "p", p, (v) => v >= 0, "a number ≥ 0 or Infinity");
}

/** The p-norm of `x` along `axis` with the dimension kept (forward only). */
function normValue(x: tf.Tensor, p: number, axis: number): tf.Tensor {
  const a = tf.abs(x);
  if (p === 2) return tf.sqrt(tf.sum(tf.square(x), axis, true));
  if (p === 1) return tf.sum(a, axis, true);
  if (p === Number.POSITIVE_INFINITY) return tf.max(a, axis, true);
  if (p === 0) return tf.sum(tf.cast(tf.notEqual(x, 0), x.dtype), axis, true);
  return tf.pow(tf.sum(tf.pow(a, p), axis, true), 1 / p);
}

/**
 * d‖x‖/dx as PyTorch's `linalg_vector_norm_backward` gives it, for the kept-dimension norm `n`: `x/n` (2),
 * `sign(x)` (1), the sign split among the elements equal to the maximum (∞), 0 (0), else
 * `sign(x)·|x|^(p−1) / n^(p−1)`; 0 wherever the norm is 0.
 */
function normSlope(x: tf.Tensor, n: tf.Tensor, p: number, axis: number): tf.Tensor {
  if (p === 0) return tf.zerosLike(x);
  if (p === 1) return tf.sign(x);
  const zeroNorm = tf.equal(n, 0);
  if (p === Number.POSITIVE_INFINITY) {
    const atMax = tf.cast(tf.equal(tf.abs(x), n), x.dtype);
    return tf.div(tf.mul(tf.sign(x), atMax), tf.sum(atMax, axis, true));
  }
  const scaled =
    p === 2 ? x : tf.where(tf.equal(x, 0), tf.zerosLike(x), tf.mul(tf.sign(x), tf.pow(tf.abs(x), p - 1)));
  const denominator = p === 2 ? n : tf.pow(n, p - 1);
  return tf.where(tf.broadcastTo(zeroNorm, x.shape), tf.zerosLike(x), tf.div(scaled, denominator));
}

/**
 * The p-norm of `x` along `axis` (kept as size 1), differentiable with PyTorch's gradient; with `floor`, the
 * value is `max(norm, floor)` while the gradient stays the norm's, scaled by the floored value, as
 * `F.cosine_similarity` clamps its norms in place outside autograd.
 */
function vectorNorm(x: tf.Tensor, p: number, axis: number, floor?: number): tf.Tensor {
  const op = tf.customGrad((v: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const input = v as tf.Tensor;
    const value = tf.tidy(() => {
      const norm = normValue(input, p, axis);
      return floor === undefined ? norm : tf.maximum(norm, floor);
    });
    (save as tf.GradSaveFunc)([input, value]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => tf.mul(dy, normSlope(saved[0]!, saved[1]!, p, axis))),
    };
  });
  return op(x);
}

/**
 * `x / max(‖x‖_p, eps)` along `dim`, like `F.normalize` (defaults p 2, dim 1, eps 1e-12): every vector scaled
 * to unit norm; a vector shorter than eps is divided by eps (and gets no gradient through its norm).
 */
export function normalize(x: tf.Tensor, options: NormalizeOptions = {}): tf.Tensor {
  checkOptionNames("normalize", options, ["p", "dim", "eps"]);
  const p = options.p ?? 2;
  const eps = options.eps ?? 1e-12;
  checkOrder("normalize", p);
  checkNumber("normalize", "eps", eps, (v) => v >= 0 && Number.isFinite(v), "a finite number ≥ 0");
  const axis = axisOf("normalize", options.dim ?? 1, x.rank);
  return tf.tidy(() => {
    const v = x.rank === 0 ? tf.reshape(x, [1]) : x;
    const y = tf.div(v, tf.maximum(vectorNorm(v, p, axis), eps));
    return x.rank === 0 ? tf.reshape(y, []) : y;
  });
}

/** Both inputs broadcast to their common shape, or an error naming the shapes. */
function broadcastPair(owner: string, x1: tf.Tensor, x2: tf.Tensor): [tf.Tensor, tf.Tensor] {
  let shape: number[];
  try {
    shape = tf.broadcast_util.assertAndGetBroadcastShape(x1.shape, x2.shape);
  } catch {
    throw new FulmenError(
      `${owner}: the inputs' shapes [${x1.shape}] and [${x2.shape}] do not broadcast; give them equal shapes or sizes of 1 where they differ.`,
    );
  }
  const expand = (t: tf.Tensor) => (t.shape.join() === shape.join() ? t : tf.broadcastTo(t, shape));
  return [expand(x1), expand(x2)];
}

/**
 * The cosine of the angle between `x1` and `x2` along `dim`, like `F.cosine_similarity` (defaults dim 1, eps
 * 1e-8): `Σ (x1/max(‖x1‖, eps))·(x2/max(‖x2‖, eps))`, the inputs broadcast to a common shape. Values and
 * gradients follow PyTorch 1.13+, which divides each vector by its clamped norm first.
 */
export function cosineSimilarity(
  x1: tf.Tensor,
  x2: tf.Tensor,
  options: CosineSimilarityOptions = {},
): tf.Tensor {
  checkOptionNames("cosineSimilarity", options, ["dim", "eps"]);
  const eps = options.eps ?? 1e-8;
  checkNumber("cosineSimilarity", "eps", eps, (v) => v >= 0 && Number.isFinite(v), "a finite number ≥ 0");
  return tf.tidy(() => {
    const [a, b] = broadcastPair("cosineSimilarity", toFloat32(x1), toFloat32(x2));
    const axis = axisOf("cosineSimilarity", options.dim ?? 1, a.rank);
    if (a.rank === 0)
      throw new FulmenError("cosineSimilarity: give vectors (1 or more dimensions), not scalars.");
    const unitA = tf.div(a, vectorNorm(a, 2, axis, eps));
    const unitB = tf.div(b, vectorNorm(b, 2, axis, eps));
    return tf.sum(tf.mul(unitA, unitB), axis);
  });
}

/**
 * The p-norm of `x1 − x2 + eps` over the last dimension, like `F.pairwise_distance` (defaults p 2, eps 1e-6,
 * keepdim false); the inputs broadcast to a common shape.
 */
export function pairwiseDistance(
  x1: tf.Tensor,
  x2: tf.Tensor,
  options: PairwiseDistanceOptions = {},
): tf.Tensor {
  checkOptionNames("pairwiseDistance", options, ["p", "eps", "keepdim"]);
  const p = options.p ?? 2;
  const eps = options.eps ?? 1e-6;
  checkOrder("pairwiseDistance", p);
  checkNumber("pairwiseDistance", "eps", eps, Number.isFinite, "a finite number");
  if (x1.rank === 0 && x2.rank === 0) {
    throw new FulmenError("pairwiseDistance: give vectors (1 or more dimensions), not two scalars.");
  }
  return tf.tidy(() => {
    const difference = tf.add(tf.sub(toFloat32(x1), toFloat32(x2)), eps);
    const axis = Math.max(x1.rank, x2.rank) - 1;
    const d = vectorNorm(difference, p, axis);
    return options.keepdim ? d : tf.squeeze(d, [axis]);
  });
}
