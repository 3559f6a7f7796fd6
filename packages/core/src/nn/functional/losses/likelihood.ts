import { toFloat32 } from "../../../amp/autocast";
import { tf } from "../../../runtime/tfjs";
import { FulmenError } from "../../../utils/errors";
import { checkNumber } from "../../../utils/options";
import { asFloat, broadcastPair, checkLossOptions, labelMask, type Reduction, reduce } from "./common";

/** Options of {@link poissonNllLoss}, as in `torch.nn.functional.poisson_nll_loss`. */
export interface PoissonNLLLossOptions {
  /** `"mean"` (default) or `"sum"` of the element-wise losses, or `"none"` for the loss of every element. */
  reduction?: Reduction;
  /** The input is the log of the rate, `log λ` (default true); false: the rate `λ` itself. */
  logInput?: boolean;
  /** Add Stirling's approximation of `log(y!)`, for targets above 1 (default false). */
  full?: boolean;
  /** Added to the rate inside the log when `logInput` is false (default 1e-8). */
  eps?: number;
}

/**
 * Poisson negative log likelihood, like `torch.nn.functional.poisson_nll_loss`: `exp(x) - y·x` for a
 * log-rate input (`logInput`, the default), `x - y·log(x + eps)` for a rate; with `full`, plus Stirling's term
 * `y·log y - y + 0.5·log(2π·y)` where `y > 1` (0 elsewhere), computed as PyTorch computes it, so the target's
 * gradient through it is PyTorch's too (NaN at y = 0). Input and target broadcast, as in PyTorch.
 */
export function poissonNllLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options?: PoissonNLLLossOptions & { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every element. */
export function poissonNllLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: PoissonNLLLossOptions,
): tf.Tensor;
export function poissonNllLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  options: PoissonNLLLossOptions = {},
): tf.Tensor {
  const owner = "poissonNllLoss";
  const reduction = checkLossOptions(owner, options, ["reduction", "logInput", "full", "eps"]);
  const eps = options.eps ?? 1e-8;
  checkNumber(owner, "eps", eps, Number.isFinite, "a finite number");
  return tf.tidy(() => {
    const [x, y] = broadcastPair(owner, toFloat32(input), asFloat(target));
    let loss =
      (options.logInput ?? true)
        ? tf.sub(tf.exp(x), tf.mul(y, x))
        : tf.sub(x, tf.mul(y, tf.log(tf.add(x, eps))));
    if (options.full) {
      const stirling = tf.add(tf.sub(tf.mul(y, tf.log(y)), y), tf.mul(tf.log(tf.mul(y, 2 * Math.PI)), 0.5));
      loss = tf.add(
        loss,
        tf.where(
          labelMask(y, (t) => tf.lessEqual(t, 1)),
          tf.zerosLike(stirling),
          stirling,
        ),
      );
    }
    return reduce(loss, reduction, owner);
  });
}

/** Options of {@link gaussianNllLoss}, as in `torch.nn.functional.gaussian_nll_loss`. */
export interface GaussianNLLLossOptions {
  /** `"mean"` (default) or `"sum"` of the element-wise losses, or `"none"` for the loss of every element. */
  reduction?: Reduction;
  /** Add the constant `0.5·log(2π)` (default false). */
  full?: boolean;
  /** The variance is clamped from below at this value, for stability (default 1e-6). */
  eps?: number;
}

/**
 * `max(v, eps)` whose gradient passes to `v` unchanged, as PyTorch's `var.clamp_(min=eps)` under `no_grad`
 * does: the gradient at a clamped variance is that of the clamped value, not 0.
 */
function clampStraightThrough(v: tf.Tensor, eps: number): tf.Tensor {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: tf.maximum(args[0] as tf.Tensor, eps),
    gradFunc: (dy: tf.Tensor) => dy,
  })) as (x: tf.Tensor) => tf.Tensor;
  return f(v);
}

/**
 * The variance in a shape that broadcasts against the input, as PyTorch accepts it: the input's shape, that
 * shape with a last dimension of 1, or that shape without its last dimension (one variance per sample, given a
 * trailing dimension of 1 here).
 */
function fitVariance(owner: string, input: tf.Tensor, variance: tf.Tensor): tf.Tensor {
  if (tf.util.arraysEqual(variance.shape, input.shape)) return variance;
  const leading = input.shape.slice(0, -1);
  if (tf.util.arraysEqual(leading, variance.shape)) return tf.expandDims(variance, -1);
  if (
    variance.rank > 0 &&
    tf.util.arraysEqual(leading, variance.shape.slice(0, -1)) &&
    variance.shape.at(-1) === 1
  )
    return variance;
  throw new FulmenError(
    `${owner}: var of shape [${variance.shape}] does not fit input [${input.shape}]; give var the input's shape, the input's shape with a last dimension of 1 ([${[...leading, 1]}]), or the input's shape without its last dimension ([${leading}]).`,
  );
}

/**
 * Gaussian negative log likelihood, like `torch.nn.functional.gaussian_nll_loss`:
 * `0.5·(log(max(var, eps)) + (input - target)² / max(var, eps))`, plus `0.5·log(2π)` with `full`. `var` has the
 * input's shape, or the input's shape with a last dimension of 1 or without its last dimension (one variance
 * shared by a sample's values); input and target broadcast. A negative variance is an error, as in PyTorch. The
 * clamp at `eps` passes the gradient straight to `var`, as PyTorch's (done under `no_grad`) does.
 */
export function gaussianNllLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  variance: tf.Tensor,
  options?: GaussianNLLLossOptions & { reduction?: "mean" | "sum" },
): tf.Scalar;
/** With `reduction: "none"`: the loss of every element. */
export function gaussianNllLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  variance: tf.Tensor,
  options: GaussianNLLLossOptions,
): tf.Tensor;
export function gaussianNllLoss(
  input: tf.Tensor,
  target: tf.Tensor,
  variance: tf.Tensor,
  options: GaussianNLLLossOptions = {},
): tf.Tensor {
  const owner = "gaussianNllLoss";
  const reduction = checkLossOptions(owner, options, ["reduction", "full", "eps"]);
  const eps = options.eps ?? 1e-6;
  checkNumber(owner, "eps", eps, Number.isFinite, "a finite number");
  return tf.tidy(() => {
    const v = fitVariance(owner, input, asFloat(variance));
    if (v.dataSync().some((value) => value < 0)) {
      throw new FulmenError(
        `${owner}: var has negative entries; variances must be 0 or more (PyTorch raises "var has negative entry/entries"). Pass a variance, e.g. softplus or exp of a raw output.`,
      );
    }
    const [x, y] = broadcastPair(owner, toFloat32(input), asFloat(target));
    const clamped = clampStraightThrough(v, eps);
    try {
      tf.broadcast_util.assertAndGetBroadcastShape(x.shape, clamped.shape);
    } catch {
      throw new FulmenError(
        `${owner}: var of shape [${variance.shape}] does not broadcast against input and target [${x.shape}]; give var the input's shape.`,
      );
    }
    let loss = tf.mul(tf.add(tf.log(clamped), tf.div(tf.square(tf.sub(x, y)), clamped)), 0.5);
    if (options.full) loss = tf.add(loss, 0.5 * Math.log(2 * Math.PI));
    return reduce(loss, reduction, owner);
  });
}
