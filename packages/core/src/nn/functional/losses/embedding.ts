import { toFloat32 } from "../../../amp/autocast";
import { tf } from "../../../runtime/tfjs";
import { FulmenError } from "../../../utils/errors";
import { checkNumber } from "../../../utils/options";
import { pairwiseDistance as pairwiseDistanceFunction } from "../distance";
import { asFloat, checkLossOptions, type Reduction, reduce, sumToShape } from "./common";

/** PyTorch's `EPSILON` added to each squared magnitude in `cosine_embedding_loss`. */
const COSINE_EPSILON = 1e-12;

/** The `margin` option, or the loss's default `fallback` when unset, refused unless finite. */
function checkedMargin(owner: string, margin: number | undefined, fallback: number): number {
  const value = margin ?? fallback;
  checkNumber(owner, "margin", value, Number.isFinite, "a finite number");
  return value;
}

/** Options of {@link cosineEmbeddingLoss}, as in `torch.nn.functional.cosine_embedding_loss`. */
export interface CosineEmbeddingLossOptions {
  /** `"mean"` (default) or `"sum"` of the per-pair losses, or `"none"` for the loss of every pair. */
  reduction?: Reduction;
  /** Dissimilar pairs (y = -1) cost `max(0, cos - margin)` (default 0). */
  margin?: number;
}

/**
 * Cosine embedding loss of pairs `[N, D]` (or unbatched `[D]`) with labels `y` of 1 (similar) or -1
 * (dissimilar), `[N]` (or a scalar), like `torch.nn.functional.cosine_embedding_loss`: `1 - cos` for y = 1,
 * `max(0, cos - margin)` for y = -1, 0 for any other label. The cosine is PyTorch's:
 * `Σ x1·x2 / sqrt((Σ x1² + 1e-12)·(Σ x2² + 1e-12))`, so zero vectors give a finite loss and gradient.
 */
export function cosineEmbeddingLoss(
  input1: tf.Tensor,
  input2: tf.Tensor,
  target: tf.Tensor,
  options?: CosineEmbeddingLossOptions & { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every pair. */
export function cosineEmbeddingLoss(
  input1: tf.Tensor,
  input2: tf.Tensor,
  target: tf.Tensor,
  options: CosineEmbeddingLossOptions,
): tf.Tensor;
export function cosineEmbeddingLoss(
  input1: tf.Tensor,
  input2: tf.Tensor,
  target: tf.Tensor,
  options: CosineEmbeddingLossOptions = {},
): tf.Tensor {
  const owner = "cosineEmbeddingLoss";
  const reduction = checkLossOptions(owner, options, ["reduction", "margin"]);
  const margin = checkedMargin(owner, options.margin, 0);
  if (target.rank > 1) {
    throw new FulmenError(
      `${owner}: the target must be [N] or a scalar (one label per pair); got [${target.shape}].`,
    );
  }
  const inputRank = target.rank + 1;
  if (input1.rank !== inputRank || input2.rank !== inputRank) {
    throw new FulmenError(
      `${owner}: a ${target.rank}-D target expects ${inputRank}-D inputs, got [${input1.shape}] and [${input2.shape}].`,
    );
  }
  return tf.tidy(() => {
    const x1 = toFloat32(input1);
    const x2 = toFloat32(input2);
    const y = asFloat(target);
    const axis = target.rank;
    const dot = tf.sum(tf.mul(x1, x2), axis);
    const mag1 = tf.add(tf.sum(tf.mul(x1, x1), axis), COSINE_EPSILON);
    const mag2 = tf.add(tf.sum(tf.mul(x2, x2), axis), COSINE_EPSILON);
    const cos = tf.div(dot, tf.sqrt(tf.mul(mag1, mag2)));
    const zeros = tf.zerosLike(cos);
    // PyTorch's clamp_min passes the gradient where cos - margin is exactly 0; tf.maximum's does too.
    const positive = tf.where(tf.equal(y, 1), tf.sub(1, cos), zeros);
    const negative = tf.where(tf.equal(y, -1), tf.maximum(tf.sub(cos, margin), 0), zeros);
    return reduce(tf.add(positive, negative), reduction, owner);
  });
}

/** Options of {@link marginRankingLoss}, as in `torch.nn.functional.margin_ranking_loss`. */
export interface MarginRankingLossOptions {
  /** `"mean"` (default) or `"sum"` of the per-element losses, or `"none"` for the loss of every element. */
  reduction?: Reduction;
  /** Default 0. */
  margin?: number;
}

/**
 * Margin ranking loss, like `torch.nn.functional.margin_ranking_loss`: `max(0, -y·(x1 - x2) + margin)`, y being
 * 1 where x1 should rank higher and -1 where x2 should. All three tensors must have the same number of
 * dimensions (as PyTorch requires) and broadcast.
 */
export function marginRankingLoss(
  input1: tf.Tensor,
  input2: tf.Tensor,
  target: tf.Tensor,
  options?: MarginRankingLossOptions & { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every element. */
export function marginRankingLoss(
  input1: tf.Tensor,
  input2: tf.Tensor,
  target: tf.Tensor,
  options: MarginRankingLossOptions,
): tf.Tensor;
export function marginRankingLoss(
  input1: tf.Tensor,
  input2: tf.Tensor,
  target: tf.Tensor,
  options: MarginRankingLossOptions = {},
): tf.Tensor {
  const owner = "marginRankingLoss";
  const reduction = checkLossOptions(owner, options, ["reduction", "margin"]);
  const margin = checkedMargin(owner, options.margin, 0);
  if (input1.rank !== input2.rank || input1.rank !== target.rank) {
    throw new FulmenError(
      `${owner}: all input tensors should have the same number of dimensions, got [${input1.shape}], [${input2.shape}] and [${target.shape}].`,
    );
  }
  return tf.tidy(() => {
    const diff = tf.sub(toFloat32(input1), toFloat32(input2));
    // tf.maximum passes the gradient at exactly 0, as PyTorch's clamp_min does.
    const loss = tf.maximum(tf.add(tf.mul(tf.neg(asFloat(target)), diff), margin), 0);
    return reduce(loss, reduction, owner);
  });
}

/** Options of {@link tripletMarginLoss}, as in `torch.nn.functional.triplet_margin_loss`. */
export interface TripletMarginLossOptions {
  /** `"mean"` (default) or `"sum"` of the per-triplet losses, or `"none"` for the loss of every triplet. */
  reduction?: Reduction;
  /** Default 1. */
  margin?: number;
  /** The norm of the pairwise distance (default 2). */
  p?: number;
  /** Added to every difference before the norm, as `pairwise_distance` does (default 1e-6). */
  eps?: number;
  /** Use the positive–negative distance when it is smaller than the anchor–negative one (default false). */
  swap?: boolean;
}

/** PyTorch's `pairwise_distance` (the p-norm of `x1 - x2 + eps` over the last dimension), as the losses call it. */
function pairwiseDistance(x1: tf.Tensor, x2: tf.Tensor, p: number, eps: number): tf.Tensor {
  return pairwiseDistanceFunction(x1, x2, { p, eps });
}

/**
 * Triplet margin loss, like `torch.nn.functional.triplet_margin_loss`:
 * `max(0, margin + d(a, p) - d(a, n))` with `d` PyTorch's `pairwise_distance` (the p-norm of `x1 - x2 + eps`
 * over the last dimension), and with `swap` the smaller of `d(a, n)` and `d(p, n)` (half the gradient to each
 * where they are equal, as PyTorch's `torch.min`).
 */
export function tripletMarginLoss(
  anchor: tf.Tensor,
  positive: tf.Tensor,
  negative: tf.Tensor,
  options?: TripletMarginLossOptions & { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every triplet. */
export function tripletMarginLoss(
  anchor: tf.Tensor,
  positive: tf.Tensor,
  negative: tf.Tensor,
  options: TripletMarginLossOptions,
): tf.Tensor;
export function tripletMarginLoss(
  anchor: tf.Tensor,
  positive: tf.Tensor,
  negative: tf.Tensor,
  options: TripletMarginLossOptions = {},
): tf.Tensor {
  const owner = "tripletMarginLoss";
  const reduction = checkLossOptions(owner, options, ["reduction", "margin", "p", "eps", "swap"]);
  const margin = checkedMargin(owner, options.margin, 1);
  const p = options.p ?? 2;
  const eps = options.eps ?? 1e-6;
  checkNumber(owner, "p", p, (v) => v > 0, "positive (1, 2, Infinity or any p > 0)");
  checkNumber(owner, "eps", eps, Number.isFinite, "a finite number");
  if (anchor.rank !== positive.rank || anchor.rank !== negative.rank || anchor.rank === 0) {
    throw new FulmenError(
      `${owner}: anchor, positive and negative must have the same number of dimensions (1 or more), got [${anchor.shape}], [${positive.shape}] and [${negative.shape}].`,
    );
  }
  return tf.tidy(() => {
    const a = toFloat32(anchor);
    const pos = toFloat32(positive);
    const neg = toFloat32(negative);
    const distPos = pairwiseDistance(a, pos, p, eps);
    let distNeg = pairwiseDistance(a, neg, p, eps);
    if (options.swap) distNeg = torchMinimum(distNeg, pairwiseDistance(pos, neg, p, eps));
    const loss = tf.maximum(tf.sub(tf.add(distPos, margin), distNeg), 0);
    return reduce(loss, reduction, owner);
  });
}

/** A distance between two batches of embeddings, `(x1, x2) => d`, for {@link tripletMarginWithDistanceLoss}. */
export type DistanceFunction = (x1: tf.Tensor, x2: tf.Tensor) => tf.Tensor;

/** Options of {@link tripletMarginWithDistanceLoss}, as in `torch.nn.functional.triplet_margin_with_distance_loss`. */
export interface TripletMarginWithDistanceLossOptions {
  /** `"mean"` (default) or `"sum"` of the per-triplet losses, or `"none"` for the loss of every triplet. */
  reduction?: Reduction;
  /**
   * The distance of two tensors, returning one non-negative value per pair; default PyTorch's
   * `pairwise_distance` (the 2-norm of `x1 - x2 + 1e-6` over the last dimension). Its tensors are freed after
   * the call, and it is differentiated like any other tfjs code.
   */
  distanceFunction?: DistanceFunction;
  /** Default 1. */
  margin?: number;
  /** Use the positive–negative distance when it is smaller than the anchor–negative one (default false). */
  swap?: boolean;
}

/**
 * `min(a, b)` with PyTorch's gradient: the whole gradient to the smaller operand, half to each where they are
 * equal (tfjs's minimum gives it all to `a` there). Operands that broadcast get theirs summed back.
 */
const torchMinimum = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const save = args.pop() as tf.GradSaveFunc;
  const [a, b] = args as [tf.Tensor, tf.Tensor];
  save([a, b]);
  return {
    value: tf.minimum(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor, tf.Tensor];
      const tie = tf.equal(sa, sb);
      const half = tf.mul(dy, 0.5);
      const zeros = tf.zerosLike(dy);
      const da = tf.where(tie, half, tf.where(tf.less(sa, sb), dy, zeros));
      const db = tf.where(tie, half, tf.where(tf.less(sb, sa), dy, zeros));
      return [sumToShape(da, sa.shape), sumToShape(db, sb.shape)];
    },
  };
}) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/**
 * Triplet margin loss with any distance, like `torch.nn.functional.triplet_margin_with_distance_loss`:
 * `max(0, d(a, p) - d(a, n) + margin)` with `d` the `distanceFunction` (default PyTorch's `pairwise_distance`,
 * the 2-norm of `x1 - x2 + 1e-6` over the last dimension), and with `swap` the smaller of `d(a, n)` and
 * `d(p, n)` (half the gradient to each where they are equal, as PyTorch's `torch.min`).
 */
export function tripletMarginWithDistanceLoss(
  anchor: tf.Tensor,
  positive: tf.Tensor,
  negative: tf.Tensor,
  options?: TripletMarginWithDistanceLossOptions & { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every triplet. */
export function tripletMarginWithDistanceLoss(
  anchor: tf.Tensor,
  positive: tf.Tensor,
  negative: tf.Tensor,
  options: TripletMarginWithDistanceLossOptions,
): tf.Tensor;
export function tripletMarginWithDistanceLoss(
  anchor: tf.Tensor,
  positive: tf.Tensor,
  negative: tf.Tensor,
  options: TripletMarginWithDistanceLossOptions = {},
): tf.Tensor {
  const owner = "tripletMarginWithDistanceLoss";
  const reduction = checkLossOptions(owner, options, ["reduction", "distanceFunction", "margin", "swap"]);
  const margin = checkedMargin(owner, options.margin, 1);
  const custom = options.distanceFunction;
  if (custom !== undefined && typeof custom !== "function") {
    throw new FulmenError(
      `${owner}: distanceFunction must be a function (x1, x2) => tf.Tensor, got ${typeof custom}; leave it out for the pairwise distance.`,
    );
  }
  if (custom === undefined) checkTripletShapes(owner, anchor, positive, negative);
  return tf.tidy(() => {
    const a = toFloat32(anchor);
    const pos = toFloat32(positive);
    const neg = toFloat32(negative);
    const distance = (x1: tf.Tensor, x2: tf.Tensor, which: string): tf.Tensor => {
      if (custom === undefined) return pairwiseDistance(x1, x2, 2, 1e-6);
      const d = custom(x1, x2);
      if (!(d instanceof tf.Tensor)) {
        throw new FulmenError(
          `${owner}: distanceFunction returned ${d === null ? "null" : typeof d} for ${which}, not a tf.Tensor; return one distance per pair as a tensor.`,
        );
      }
      return asFloat(d);
    };
    const distPos = distance(a, pos, "(anchor, positive)");
    let distNeg = distance(a, neg, "(anchor, negative)");
    if (options.swap) distNeg = torchMinimum(distNeg, distance(pos, neg, "(positive, negative)"));
    let diff: tf.Tensor;
    try {
      diff = tf.sub(distPos, distNeg);
    } catch {
      throw new FulmenError(
        `${owner}: the distances of [${distPos.shape}] and [${distNeg.shape}] do not broadcast; the distance function must give one value per triplet, of the same shape for every pair.`,
      );
    }
    // PyTorch's clamp(min=0) passes the gradient where the loss is exactly 0; tf.maximum's does too.
    const loss = tf.maximum(tf.add(diff, margin), 0);
    return reduce(loss, reduction, owner);
  });
}

/** The default distance's shape rule: anchor, positive and negative are 1-D or more and broadcast. */
function checkTripletShapes(owner: string, a: tf.Tensor, p: tf.Tensor, n: tf.Tensor): void {
  let fits = a.rank > 0 && p.rank > 0 && n.rank > 0;
  if (fits) {
    try {
      tf.broadcast_util.assertAndGetBroadcastShape(a.shape, p.shape);
      tf.broadcast_util.assertAndGetBroadcastShape(a.shape, n.shape);
      tf.broadcast_util.assertAndGetBroadcastShape(p.shape, n.shape);
    } catch {
      fits = false;
    }
  }
  if (!fits) {
    throw new FulmenError(
      `${owner}: anchor [${a.shape}], positive [${p.shape}] and negative [${n.shape}] must be 1-D or more and of the same shape (or shapes that broadcast) for the pairwise distance.`,
    );
  }
}
