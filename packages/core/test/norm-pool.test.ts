import { describe, expect, it } from "vitest";
import { backward, nn, tf } from "../src/index";

const close = (a: ArrayLike<number>, b: number[], tol = 1e-5) => {
  expect(a.length).toBe(b.length);
  b.forEach((v, i) => {
    expect(Math.abs(a[i]! - v)).toBeLessThanOrEqual(tol);
  });
};

describe("pooling", () => {
  const x = tf.tensor4d(
    Array.from({ length: 16 }, (_, i) => i),
    [1, 1, 4, 4],
  );

  it("MaxPool2d and AvgPool2d pool NCHW windows (stride = kernel by default)", () => {
    expect(Array.from(new nn.MaxPool2d(2).forward(x).dataSync())).toEqual([5, 7, 13, 15]);
    expect(Array.from(new nn.AvgPool2d(2).forward(x).dataSync())).toEqual([2.5, 4.5, 10.5, 12.5]);
    expect(new nn.MaxPool2d(3, { stride: 1, padding: 1 }).forward(x).shape).toEqual([1, 1, 4, 4]);
    expect(new nn.MaxPool2d(3, { stride: 1, padding: 1 }).forward(x).dataSync()[0]).toBe(5);
    expect(new nn.AvgPool2d(3, { stride: 1, padding: 1 }).forward(x).dataSync()[0]).toBeCloseTo(
      (0 + 1 + 4 + 5) / 9,
      6,
    );
    expect(() => new nn.MaxPool2d(2, { padding: 2 })).toThrow(/at most half the kernel size/);
  });

  it("routes max-pool gradients to the maxima", () => {
    const p = new nn.Linear(1, 1, { bias: false });
    p.weight.assign(tf.tensor2d([[1]]));
    backward(() => tf.sum(new nn.MaxPool2d(2).forward(tf.mul(x, p.weight.data))) as tf.Scalar, p).dispose();
    expect(p.weight.grad!.dataSync()[0]).toBe(5 + 7 + 13 + 15);
  });
});

describe("BatchNorm", () => {
  it("normalises with batch statistics in training and updates running statistics as PyTorch", () => {
    const bn = new nn.BatchNorm1d(2, { momentum: 0.1 });
    const x = tf.tensor2d([
      [1, 10],
      [3, 20],
      [5, 60],
    ]);
    const y = bn.forward(x);
    const mean = [3, 30];
    const biased = [8 / 3, 1400 / 3];
    close(
      y.dataSync(),
      [1, 10, 3, 20, 5, 60].map((v, i) => (v - mean[i % 2]!) / Math.sqrt(biased[i % 2]! + 1e-5)),
      1e-4,
    );
    // Running variance uses the unbiased estimate: 0.9·1 + 0.1·(n/(n-1))·biased.
    close(bn.runningMean!.dataSync(), [0.3, 3]);
    close(bn.runningVar!.dataSync(), [0.9 + 0.1 * 4, 0.9 + 0.1 * 700], 1e-3);
    expect(bn.numBatchesTracked!.dataSync()[0]).toBe(1);
    expect(Object.keys(bn.stateDict())).toEqual([
      "weight",
      "bias",
      "running_mean",
      "running_var",
      "num_batches_tracked",
    ]);
    bn.eval();
    close(bn.forward(tf.tensor2d([[0.3, 3]])).dataSync(), [0, 0]);
  });

  it("BatchNorm2d trains inside backward without leaking tensors", () => {
    const bn = new nn.BatchNorm2d(3);
    const x = tf.randomNormal([4, 3, 5, 5], 0, 1, "float32", 3);
    const step = () => backward(() => tf.sum(tf.square(bn.forward(x))) as tf.Scalar, bn).dispose();
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    expect(bn.numBatchesTracked!.dataSync()[0]).toBe(6);
    expect(() => bn.forward(tf.ones([2, 4, 3, 3]))).toThrow(/expected \[N, 3, H, W\]/);
  });

  it("refuses batch statistics of one value per channel, as PyTorch, and leaves the running statistics alone", () => {
    const bn1 = new nn.BatchNorm1d(2);
    expect(() => bn1.forward(tf.tensor2d([[1, 2]]))).toThrow(
      /BatchNorm1d: expected more than 1 value per channel .*shape \[1,2\].*call eval\(\)/,
    );
    expect(bn1.numBatchesTracked!.dataSync()[0]).toBe(0);
    close(bn1.runningVar!.dataSync(), [1, 1]);
    // Eval mode normalises one sample with the running statistics; [1, C, L] with L > 1 has enough values.
    bn1.eval();
    close(bn1.forward(tf.tensor2d([[1, 2]])).dataSync(), [1 / Math.sqrt(1 + 1e-5), 2 / Math.sqrt(1 + 1e-5)]);
    bn1.train();
    expect(bn1.forward(tf.ones([1, 2, 3])).shape).toEqual([1, 2, 3]);
    expect(bn1.numBatchesTracked!.dataSync()[0]).toBe(1);
    // Without running statistics eval mode normalises with the batch's too, so the rule holds there.
    const bn2 = new nn.BatchNorm2d(3, { trackRunningStats: false });
    bn2.eval();
    expect(() => bn2.forward(tf.ones([1, 3, 1, 1]))).toThrow(/more than 1 value per channel/);
    bn1.dispose();
    bn2.dispose();
  });
});
