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
});
