import { describe, expect, it } from "vitest";
import { backward, manualSeed, nn, SGD, tf } from "../src/index";

describe("training through the PyTorch-exact layers", () => {
  it("keeps tf.memory().numTensors flat: dilated reflect-padded conv, cumulative BatchNorm, ceil pooling, BCE", () => {
    manualSeed(3);
    const model = new nn.Sequential(
      new nn.Conv2d(2, 4, 3, { dilation: 2, stride: 2, padding: 2, paddingMode: "reflect" }),
      new nn.BatchNorm2d(4, { momentum: null }),
      new nn.ReLU(),
      new nn.MaxPool2d(2, { ceilMode: true }),
      new nn.AvgPool2d(2, { ceilMode: true, countIncludePad: false, padding: 1 }),
      new nn.Flatten(),
      new nn.Linear(16, 1),
    );
    const optimizer = new SGD(model, { lr: 0.05 });
    const x = tf.randomNormal([3, 2, 11, 11], 0, 1, "float32", 7);
    const y = tf.tensor2d([[1], [0], [1]]);
    const losses: number[] = [];
    const step = () => {
      optimizer.zeroGrad();
      const loss = backward(
        () => nn.binaryCrossEntropyWithLogits(model.forward(x) as tf.Tensor, y) as tf.Scalar,
        model,
      );
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
      optimizer.step();
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    // It trains: every parameter got a gradient and the loss went down.
    for (const p of model.parameters()) expect(p.grad).not.toBeNull();
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    optimizer.disposeState();
    model.dispose();
    tf.dispose([x, y]);
  });

  it("keeps it flat through dilated max pooling, Embedding maxNorm/scaleGradByFreq/paddingIdx and BCE posWeight", () => {
    manualSeed(5);
    const emb = new nn.Embedding(10, 6, { paddingIdx: 0, maxNorm: 1, scaleGradByFreq: true });
    const pool = new nn.MaxPool2d(2, { dilation: 2, stride: 1, padding: 1, ceilMode: true });
    const head = new nn.Linear(4 * 6, 3);
    const parameters = [...emb.parameters(), ...head.parameters()];
    const optimizer = new SGD(parameters, { lr: 0.1 });
    const idx = tf.tensor2d(
      [
        [1, 0, 3, 3],
        [2, 9, 9, 0],
      ],
      undefined,
      "int32",
    );
    const y = tf.tensor2d([
      [1, 0, 1],
      [0, 0, 1],
    ]);
    const posWeight = tf.tensor1d([2, 0.5, 1]);
    const forward = () => {
      const e = tf.expandDims(emb.forward(idx), 1) as tf.Tensor4D; // [2, 1, 4, 6]
      return head.forward(tf.reshape(pool.forward(e), [2, -1]));
    };
    const step = () => {
      optimizer.zeroGrad();
      backward(
        () => nn.binaryCrossEntropyWithLogits(forward(), y, { posWeight }) as tf.Scalar,
        parameters,
      ).dispose();
      optimizer.step();
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 4; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    // A lookup renormalises the rows it uses (the last step moved them) to norm 1 at most; the padding row
    // never gets a gradient, so it is still zero.
    tf.tidy(() => emb.forward(idx));
    const rows = emb.weight.data.arraySync() as number[][];
    for (const r of [1, 2, 3, 9]) expect(Math.hypot(...rows[r]!)).toBeLessThanOrEqual(1 + 1e-5);
    expect(rows[0]!.every((v) => v === 0)).toBe(true);
    optimizer.disposeState();
    emb.dispose();
    head.dispose();
    tf.dispose([idx, y, posWeight]);
  });
});
