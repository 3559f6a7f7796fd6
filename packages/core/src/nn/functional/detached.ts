import { tf } from "../../runtime/tfjs";

/**
 * A copy of `t` outside the gradient tape, for values that carry no gradient (integer positions, the index of a
 * maximum): tfjs has no stop-gradient, and would otherwise try to differentiate the comparisons made on them.
 * The copy reads `t` back synchronously.
 */
export function detached(t: tf.Tensor): tf.Tensor {
  return tf.tensor(t.dataSync(), t.shape, t.dtype);
}
