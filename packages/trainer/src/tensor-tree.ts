import { tf } from "@fulmen/core";

/** Keeps every tensor in a batch or step output (nested arrays and objects) past the enclosing `tf.tidy`. */
export function keepTensors(value: unknown): void {
  if (value instanceof tf.Tensor) tf.keep(value);
  else if (Array.isArray(value)) value.forEach(keepTensors);
  else if (value !== null && typeof value === "object") Object.values(value).forEach(keepTensors);
}

/**
 * The id of the newest tensor: tensors made later have larger ids (tfjs numbers them in creation order). Read
 * through a throwaway scalar, as tfjs exposes no counter.
 */
export function newestTensorId(): number {
  const probe = tf.scalar(0);
  probe.dispose();
  return probe.id;
}

/**
 * Disposes the tensors of a step's output that the step made (newer than `mark`) and did not `tf.keep`: what
 * `tf.tidy` would have freed. Parameters, batch tensors and tensors the module keeps for later stay.
 */
export function disposeMadeSince(value: unknown, mark: number): void {
  if (value instanceof tf.Tensor) {
    if (value.id > mark && !value.kept) value.dispose();
  } else if (value !== null && typeof value === "object") {
    for (const item of Object.values(value)) disposeMadeSince(item, mark);
  }
}
