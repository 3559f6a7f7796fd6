import { tf } from "@fulmen/core";

/**
 * One SGD step of the benchmarks' MLP (784-H-10, ReLU, cross entropy) written in raw tfjs: variables,
 * tf.variableGrads and a hand-written update — the baseline Fabric and the Trainer are measured against.
 */
export function rawMlpStep(weights: tf.Variable[], x: tf.Tensor, y: tf.Tensor, lr: number): void {
  tf.tidy(() => {
    const [w1, b1, w2, b2] = weights as [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
    const { grads } = tf.variableGrads(() => {
      const h = tf.relu(tf.add(tf.matMul(x, w1, false, true), b1));
      const logits = tf.add(tf.matMul(h, w2, false, true), b2);
      return tf.neg(
        tf.mean(tf.sum(tf.mul(tf.oneHot(y as tf.Tensor1D, 10), tf.logSoftmax(logits)), 1)),
      ) as tf.Scalar;
    }, weights);
    for (const v of weights) v.assign(tf.sub(v, tf.mul(grads[v.name]!, lr)));
  });
}
