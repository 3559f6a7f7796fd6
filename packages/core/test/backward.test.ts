import { describe, expect, it } from "vitest";
import { backward, FulmenError, nn, Parameter, SGD, tf } from "../src/index";

describe("backward", () => {
  it("computes gradients of a closure into Parameter.grad", () => {
    const w = new Parameter([1, 2, 3]);
    const loss = backward(() => tf.sum(tf.square(w.data)) as tf.Scalar, [w]);
    expect(loss.dataSync()[0]).toBe(14);
    expect(Array.from(w.grad!.dataSync())).toEqual([2, 4, 6]);
    loss.dispose();
    w.dispose();
  });

  it("accumulates across calls, as loss.backward() does in PyTorch", () => {
    const w = new Parameter([1, 2]);
    backward(() => tf.sum(w.data) as tf.Scalar, [w]).dispose();
    backward(() => tf.sum(tf.mul(w.data, 3)) as tf.Scalar, [w]).dispose();
    expect(Array.from(w.grad!.dataSync())).toEqual([4, 4]);
    w.dispose();
  });

  it("skips parameters that do not require a gradient", () => {
    const a = new Parameter([1]);
    const b = new Parameter([2], { requiresGrad: false });
    backward(() => tf.sum(tf.mul(a.data, b.data)) as tf.Scalar, [a, b]).dispose();
    expect(a.grad).not.toBeNull();
    expect(b.grad).toBeNull();
  });

  it("leaves out disposed parameters (a model let go after training, still listed by a Fabric)", () => {
    const old = new nn.Linear(2, 2);
    old.dispose();
    expect(old.weight.isDisposed).toBe(true);
    const w = new Parameter([1, 2]);
    expect(w.isDisposed).toBe(false);
    backward(() => tf.sum(w.data) as tf.Scalar, [...old.parameters(), w]).dispose();
    expect(Array.from(w.grad!.dataSync())).toEqual([1, 1]);
    w.dispose();
  });

  it("rejects a closure that does not return a scalar", () => {
    const w = new Parameter([1, 2]);
    expect(() => backward(() => tf.mul(w.data, 2) as unknown as tf.Scalar, [w])).toThrow(/scalar loss/);
  });

  it("rejects a parameter list with nothing to differentiate", () => {
    expect(() => backward(() => tf.scalar(1), [])).toThrow(FulmenError);
  });

  it("keeps tf.memory().numTensors flat over 100 training steps", () => {
    const model = new nn.Sequential(
      new nn.Linear(8, 16),
      new nn.ReLU(),
      new nn.Dropout(0.1),
      new nn.Linear(16, 3),
    );
    const optimizer = new SGD(model, { lr: 0.1, momentum: 0.9 });
    const x = tf.randomNormal([4, 8]);
    const y = tf.tensor1d([0, 1, 2, 1], "int32");
    const step = () =>
      tf.tidy(() => {
        optimizer.zeroGrad();
        backward(() => nn.crossEntropy(model.forward(x), y) as tf.Scalar, model);
        optimizer.step();
      });
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) step();
    expect(tf.memory().numTensors).toBe(before);
  });
});
