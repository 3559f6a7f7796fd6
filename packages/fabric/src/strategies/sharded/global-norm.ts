import { FulmenError, tf } from "@fulmen/core";

/**
 * The `normType`-norm of all gradients of a sharded model: the shards (disjoint across ranks) combine across
 * ranks through `reduce`; the whole gradients (the same on every rank) count once.
 */
export function globalGradientNorm(
  shards: tf.Tensor[],
  replicated: tf.Tensor[],
  normType: number,
  reduce: (value: number, op: "sum" | "max") => number,
): number {
  if (!(normType > 0) && normType !== Number.POSITIVE_INFINITY)
    throw new FulmenError(`clipGradients: normType must be a positive number or Infinity, got ${normType}.`);
  const partial = (tensors: tf.Tensor[]): number =>
    tensors.length === 0
      ? 0
      : tf.tidy(() => {
          const parts = tensors.map((t) =>
            normType === Number.POSITIVE_INFINITY
              ? tf.max(tf.abs(t))
              : normType === 2
                ? tf.sum(tf.square(t))
                : tf.sum(tf.pow(tf.abs(t), normType)),
          );
          const combined = normType === Number.POSITIVE_INFINITY ? tf.max(tf.stack(parts)) : tf.addN(parts);
          return combined.dataSync()[0]!;
        });
  const local = partial(shards);
  const own = partial(replicated);
  if (normType === Number.POSITIVE_INFINITY) return Math.max(reduce(local, "max"), own);
  return (reduce(local, "sum") + own) ** (1 / normType);
}
