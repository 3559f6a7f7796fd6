import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkOptionNames, describeValue } from "../../utils/options";

/** An integer, or one per spatial dimension, as PyTorch's `int or tuple` arguments. */
export type IntTuple = number | readonly number[];

/**
 * `value` as `n` integers of at least `min` (one number stands for all of them), or an error naming `owner`
 * and the argument.
 */
export function tuple(owner: string, name: string, value: IntTuple, n: number, min: number): number[] {
  const list = typeof value === "number" ? Array.from({ length: n }, () => value) : value;
  if (!Array.isArray(list) || list.length !== n || list.some((v) => !Number.isInteger(v) || v < min)) {
    throw new FulmenError(
      `${owner}: ${name} must be ${min > 0 ? "a positive" : "a non-negative"} integer or ${n === 1 ? "a list of one" : `${n} of them`}, got ${JSON.stringify(value)}.`,
    );
  }
  return [...list];
}

/**
 * Checks that `options` is an options object (not a number or list passed where PyTorch would take a further
 * positional argument, which would otherwise be silently ignored) with only `valid` names.
 */
export function checkOptions(owner: string, options: unknown, valid: readonly string[]): void {
  if (options === undefined) return;
  if (
    options === null ||
    typeof options !== "object" ||
    Array.isArray(options) ||
    options instanceof tf.Tensor
  ) {
    throw new FulmenError(
      `${owner}: expected an options object ({ ${valid.join(", ")} }) after the positional arguments, got ${describeValue(options)}. Pass PyTorch's keyword (and later positional) arguments by name in it.`,
    );
  }
  checkOptionNames(owner, options, valid);
}

/** Checks a functional convolution's bias argument: a tensor or null, not the options object. */
export function checkBias(owner: string, bias: unknown): void {
  if (bias !== null && !(bias instanceof tf.Tensor)) {
    throw new FulmenError(
      `${owner}: the third argument is the bias, a tensor or null, got ${describeValue(bias)}; pass null before the options object.`,
    );
  }
}
