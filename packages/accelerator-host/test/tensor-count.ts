import { tf } from "@fulmen/core";
import { expect } from "vitest";

/**
 * Differentiates `loss` with respect to every trainable variable once to warm up (pools, lazily made buffers),
 * then `repeats` more times, and expects tfjs's live tensor count not to have moved: a forward or backward
 * pass that leaks one tensor a step fails.
 */
export function expectFlatTensorCount(loss: () => tf.Scalar, repeats = 3): void {
  const step = () =>
    tf.tidy(() => {
      const { grads, value } = tf.variableGrads(loss);
      tf.dispose([value, ...Object.values(grads)]);
    });
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < repeats; i++) step();
  expect(tf.memory().numTensors).toBe(before);
}
