import { tf } from "@fulmen/core";

/** Keeps every tensor in a batch or step output (nested arrays and objects) past the enclosing `tf.tidy`. */
export function keepTensors(value: unknown): void {
  if (value instanceof tf.Tensor) tf.keep(value);
  else if (Array.isArray(value)) value.forEach(keepTensors);
  else if (value !== null && typeof value === "object") Object.values(value).forEach(keepTensors);
}

/** Disposes every tensor in a batch or step output (nested arrays and objects). */
export function disposeTensors(value: unknown): void {
  if (value instanceof tf.Tensor) value.dispose();
  else if (Array.isArray(value)) value.forEach(disposeTensors);
  else if (value !== null && typeof value === "object") Object.values(value).forEach(disposeTensors);
}
