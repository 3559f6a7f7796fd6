import { followInputOp } from "../../amp/autocast";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { masked } from "./pointwise";

/**
 * The activations that cut at fixed thresholds (`F.relu6`, `F.threshold`, `F.hardshrink`, `F.softshrink`). Each
 * passes the gradient only strictly inside its kept region, as PyTorch's backward formulas do: at a threshold
 * itself the gradient is 0.
 */

/** Options of {@link threshold}. */
export interface ThresholdOptions {
  /** Inputs at or below this are replaced (required). */
  threshold: number;
  /** What replaces them (required). */
  value: number;
}

/** Options of {@link hardshrink} and {@link softshrink}. */
export interface ShrinkOptions {
  /** The half-width of the band around 0 that becomes 0 (default 0.5). */
  lambd?: number;
}

/**
 * `min(max(0, x), 6)`, like `F.relu6`; its gradient is 0 at and beyond 0 and 6, as PyTorch's
 * (`hardtanh_backward`), and passes through a NaN.
 */
export function relu6(x: tf.Tensor): tf.Tensor {
  return followInputOp(
    masked(
      (v) => tf.clipByValue(v, 0, 6),
      (v) => tf.logicalNot(tf.logicalOr(tf.lessEqual(v, 0), tf.greaterEqual(v, 6))),
    ),
    x,
  );
}

/** Checks threshold's arguments; returns them as numbers. */
export function thresholdOptions(owner: string, options: ThresholdOptions): ThresholdOptions {
  checkOptionNames(owner, options, ["threshold", "value"]);
  if (options?.threshold === undefined || options.value === undefined) {
    throw new FulmenError(
      `${owner}: give both the threshold and the replacement value, e.g. threshold(x, { threshold: 0.1, value: 0 }).`,
    );
  }
  checkNumber(owner, "threshold", options.threshold, (v) => !Number.isNaN(v), "a number");
  checkNumber(owner, "value", options.value, (v) => typeof v === "number", "a number");
  return { threshold: options.threshold, value: options.value };
}

/**
 * `x <= threshold ? value : x`, like `F.threshold(x, threshold, value)` (a NaN stays NaN): pass both as numbers
 * or in an options object. The gradient flows where not `x <= threshold` (PyTorch's `threshold_backward`).
 */
export function threshold(
  x: tf.Tensor,
  thresholdOrOptions: number | ThresholdOptions,
  value?: number,
): tf.Tensor {
  const options =
    typeof thresholdOrOptions === "number"
      ? thresholdOptions("threshold", { threshold: thresholdOrOptions, value: value as number })
      : thresholdOptions("threshold", thresholdOrOptions);
  const { threshold: t, value: v } = options;
  return followInputOp(
    masked(
      (input) => tf.where(tf.lessEqual(input, t), tf.fill(input.shape, v, input.dtype), input),
      (input) => tf.logicalNot(tf.lessEqual(input, t)),
    ),
    x,
  );
}

/**
 * Checks a shrink's `lambd`; returns it with its default. PyTorch's softshrink requires lambd ≥ 0; its
 * hardshrink takes any (a negative band keeps every element).
 */
export function shrinkLambda(
  owner: string,
  options: ShrinkOptions | undefined,
  allowNegative = false,
): number {
  checkOptionNames(owner, options, ["lambd"]);
  const lambd = options?.lambd ?? 0.5;
  if (allowNegative) checkNumber(owner, "lambd", lambd, Number.isFinite, "a finite number");
  else checkNumber(owner, "lambd", lambd, (v) => v >= 0 && Number.isFinite(v), "a finite number ≥ 0");
  return lambd;
}

/**
 * Where not `-lambd ≤ x ≤ lambd`: the elements the shrinks keep and pass the gradient through, a NaN included
 * (PyTorch's `hardshrink`, `hardshrink_backward` and `softshrink_backward`).
 */
function outsideBand(x: tf.Tensor, lambd: number): tf.Tensor {
  return tf.logicalNot(tf.logicalAnd(tf.greaterEqual(x, -lambd), tf.lessEqual(x, lambd)));
}

/** `|x| > lambd ? x : 0`, like `F.hardshrink` (default lambd 0.5; a NaN stays NaN). */
export function hardshrink(x: tf.Tensor, options: ShrinkOptions = {}): tf.Tensor {
  const lambd = shrinkLambda("hardshrink", options, true);
  return followInputOp(
    masked(
      (v) => tf.where(outsideBand(v, lambd), v, tf.zerosLike(v)),
      (v) => outsideBand(v, lambd),
    ),
    x,
  );
}

/**
 * `x - lambd` above `lambd`, `x + lambd` below `-lambd`, 0 between, like `F.softshrink` (default lambd 0.5). As
 * PyTorch's, a NaN gives 0 forward but passes the gradient backward.
 */
export function softshrink(x: tf.Tensor, options: ShrinkOptions = {}): tf.Tensor {
  const lambd = shrinkLambda("softshrink", options);
  return followInputOp(
    masked(
      (v) =>
        tf.where(
          tf.greater(v, lambd),
          tf.sub(v, lambd),
          tf.where(tf.less(v, -lambd), tf.add(v, lambd), tf.zerosLike(v)),
        ),
      (v) => outsideBand(v, lambd),
    ),
    x,
  );
}
