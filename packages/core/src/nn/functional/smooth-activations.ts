import { followInputOp } from "../../amp/autocast";
import type { Generator } from "../../random/generator";
import { drawSeed, getDefaultGenerator } from "../../random/seed";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { type DimOptions, softmax } from "./activations";
import { pointwise } from "./pointwise";

/**
 * `F.logsigmoid`, `F.softsign`, `F.tanhshrink`, `F.celu`, `F.softmin` and `F.rrelu`: the remaining
 * element-wise activations of `torch.nn.functional`, with PyTorch's gradients.
 */

/** Options of {@link celu}. */
export interface CeluOptions {
  /** `max(0, x) + min(0, alpha·(exp(x/alpha) − 1))` (default 1; not 0). */
  alpha?: number;
}

/** Options of {@link rrelu}. */
export interface RreluOptions {
  /** The lowest random slope for negative inputs (default 1/8). */
  lower?: number;
  /** The highest random slope (default 1/3). */
  upper?: number;
  /** Draw a slope per element (true) or use the mean slope `(lower + upper)/2` (false, the default as in `F.rrelu`). */
  training?: boolean;
  /** Where the slopes' randomness comes from (default: the global generator, seeded by `seedEverything`). */
  generator?: Generator;
}

/**
 * `log(sigmoid(x))`, like `F.logsigmoid`, computed as `min(x, 0) − log1p(exp(−|x|))` so that neither side
 * overflows; its gradient `sigmoid(−x)` is 0.5 at 0, as PyTorch's `log_sigmoid_backward`.
 */
export function logsigmoid(x: tf.Tensor): tf.Tensor {
  return followInputOp(
    pointwise(
      (v) => tf.sub(tf.minimum(v, 0), tf.log1p(tf.exp(tf.neg(tf.abs(v))))),
      (v) => tf.sigmoid(tf.neg(v)),
    ),
    x,
  );
}

/** `x / (1 + |x|)`, like `F.softsign` (PyTorch composes it the same way, so autodiff gives its gradient). */
export function softsign(x: tf.Tensor): tf.Tensor {
  return followInputOp((v) => tf.tidy(() => tf.div(v, tf.add(tf.abs(v), 1))), x);
}

/** `x − tanh(x)`, like `F.tanhshrink`. */
export function tanhshrink(x: tf.Tensor): tf.Tensor {
  return followInputOp((v) => tf.tidy(() => tf.sub(v, tf.tanh(v))), x);
}

/** Checks CELU's alpha; returns it with its default. */
export function celuAlpha(owner: string, options: CeluOptions | undefined): number {
  checkOptionNames(owner, options, ["alpha"]);
  const alpha = options?.alpha ?? 1;
  // PyTorch: "ZeroDivisionError" for alpha 0 (the input is scaled by 1/alpha).
  checkNumber(owner, "alpha", alpha, (v) => Number.isFinite(v) && v !== 0, "a finite non-zero number");
  return alpha;
}

/**
 * `max(0, x) + min(0, alpha·(exp(x/alpha) − 1))`, like `F.celu` (default alpha 1): PyTorch's ELU with the input
 * scaled by 1/alpha on the negative side; the gradient at 0 is 1 from both sides.
 */
export function celu(x: tf.Tensor, options: CeluOptions = {}): tf.Tensor {
  const alpha = celuAlpha("celu", options);
  // exp of min(x, 0) so that the unused branch cannot overflow.
  return followInputOp(
    pointwise(
      (v) => tf.where(tf.greater(v, 0), v, tf.mul(alpha, tf.expm1(tf.div(tf.minimum(v, 0), alpha)))),
      (v) => tf.where(tf.greater(v, 0), tf.onesLike(v), tf.exp(tf.div(tf.minimum(v, 0), alpha))),
    ),
    x,
  );
}

/** `softmax(−x)` along `dim`, like `F.softmin` (a number or `{ dim }`). */
export function softmin(x: tf.Tensor, dim: number | DimOptions): tf.Tensor {
  if (typeof dim !== "number" && dim?.dim === undefined) {
    throw new FulmenError("softmin: pass the dimension to work along, e.g. softmin(x, { dim: -1 }).");
  }
  return tf.tidy(() => softmax(tf.neg(x), dim));
}

/** rrelu's slope bounds, checked and with their defaults. */
export interface RreluBounds {
  /** The lowest slope. */
  lower: number;
  /** The highest slope. */
  upper: number;
}

/** Checks rrelu's bounds; returns them with their defaults. */
export function rreluBounds(owner: string, lower = 1 / 8, upper = 1 / 3): RreluBounds {
  checkNumber(owner, "lower", lower, Number.isFinite, "a finite number");
  // PyTorch: "Lower bound should be less than or equal to the upper bound".
  checkNumber(
    owner,
    "upper",
    upper,
    (v) => Number.isFinite(v) && v >= lower,
    `a finite number ≥ lower (${lower})`,
  );
  return { lower, upper };
}

/**
 * The randomized leaky ReLU, like `F.rrelu`: negative inputs are scaled by a slope drawn uniformly from
 * `[lower, upper]` per element in training, by the mean slope `(lower + upper)/2` otherwise. The gradient is
 * the slope used (1 for positive inputs; at 0 the slope, as PyTorch's).
 */
export function rrelu(x: tf.Tensor, options: RreluOptions = {}): tf.Tensor {
  checkOptionNames("rrelu", options, ["lower", "upper", "training", "generator"]);
  const { lower, upper } = rreluBounds("rrelu", options.lower, options.upper);
  const training = options.training ?? false;
  const generator = options.generator ?? getDefaultGenerator();
  // A custom gradient: the slopes are constants once drawn (dy·slope), and tfjs cannot differentiate through
  // the comparison that picks them.
  const op = tf.customGrad((v: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const input = v as tf.Tensor;
    const slope = tf.tidy(() => {
      const negative =
        training && upper > lower
          ? tf.randomUniform(input.shape, lower, upper, "float32", drawSeed(generator))
          : tf.fill(input.shape, (lower + upper) / 2);
      return tf.cast(tf.where(tf.greater(input, 0), tf.onesLike(negative), negative), input.dtype);
    });
    (save as tf.GradSaveFunc)([slope]);
    return {
      value: tf.mul(input, slope),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]!),
    };
  });
  return followInputOp((v) => op(v), x);
}
