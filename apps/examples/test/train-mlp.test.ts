import { tf } from "@fulmen/core";
import { describe, expect, it } from "vitest";
import { loadMnist } from "../src/data/mnist";
import { trainMlp } from "../src/train-mlp";

describe("the MNIST example", () => {
  it("loads a deterministic split of the shipped digits", () => {
    const { train, test } = loadMnist();
    expect(train.size + test.size).toBe(10000);
    expect(test.size).toBeGreaterThan(1400);
    expect(new Set(test.labels)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
  });

  it("learns the digits in one epoch without leaking tensors", () => {
    const { train, test } = loadMnist();
    const before = tf.memory().numTensors;
    const lines: string[] = [];
    const result = trainMlp(train, test, {
      epochs: 1,
      batchSize: 64,
      maxLr: 3e-3,
      seed: 42,
      log: (l) => lines.push(l),
    });
    expect(result.testAccuracy).toBeGreaterThan(0.85);
    expect(result.finalLoss).toBeLessThan(1.5);
    expect(lines[0]).toMatch(/^epoch 1\/1 {2}train loss/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
