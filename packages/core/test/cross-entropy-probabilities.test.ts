import { describe, expect, it } from "vitest";
import { nn, tf } from "../src/index";

const { crossEntropy } = nn;

describe("crossEntropy with class-probability targets", () => {
  it("refuses a non-negative ignoreIndex, as PyTorch does, instead of ignoring it", () => {
    const logits = tf.tensor2d([
      [1, 2, 3],
      [0, 0, 1],
    ]);
    const probs = tf.tensor2d([
      [0.2, 0.3, 0.5],
      [1, 0, 0],
    ]);
    expect(() => crossEntropy(logits, probs, { ignoreIndex: 0 })).toThrow(
      /crossEntropy: ignoreIndex \(0\) does not apply to class-probability targets/,
    );
    // A negative one (the default -100 included) is accepted and changes nothing, as in PyTorch.
    const plain = crossEntropy(logits, probs).dataSync()[0]!;
    expect(crossEntropy(logits, probs, { ignoreIndex: -1 }).dataSync()[0]).toBe(plain);
    // −Σ t·log softmax(x), averaged over the 2 samples.
    const logSoftmax = (row: number[]) => {
      const z = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
      return row.map((v) => v - z);
    };
    const a = logSoftmax([1, 2, 3]);
    const b = logSoftmax([0, 0, 1]);
    const expected = -(0.2 * a[0]! + 0.3 * a[1]! + 0.5 * a[2]! + b[0]!) / 2;
    expect(plain).toBeCloseTo(expected, 6);
    tf.dispose([logits, probs]);
  });
});
