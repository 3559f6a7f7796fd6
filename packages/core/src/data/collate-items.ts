import { tf } from "../runtime/tfjs";
import { defaultCollate } from "./collate";

/**
 * `defaultCollate` of the items `read` returns, made inside one `tf.tidy` so that the items' own tensors are freed
 * and only the batch survives.
 */
export function collateItems(read: () => unknown[]): unknown {
  return tf.tidy(() => defaultCollate(read()) as tf.TensorContainer);
}
