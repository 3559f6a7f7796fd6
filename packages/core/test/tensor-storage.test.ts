import { describe, expect, it } from "vitest";
import { FulmenError, type HalfFormat, nn, Parameter, roundBfloat16Array, tf } from "../src/index";
import {
  currentBufferFormat,
  forgetFreedStorage,
  freeTensorStorage,
  refillTensorStorage,
  withBufferFormat,
} from "../src/plugin";

describe("freeing a tensor's storage under the tape", () => {
  it("frees a gathered weight after forward and refills it for backward: gradients as if it had stayed", () => {
    const x = tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]));
    const values = Float32Array.of(0.5, -1, 2, 3);
    const before = tf.memory().numTensors;
    let weight: tf.Tensor | null = null;
    const { value, grads } = tf.variableGrads(() => {
      weight = tf.tensor2d(values, [2, 2]);
      const y = tf.matMul(x, weight);
      const bytesAlive = tf.memory().numBytes;
      expect(freeTensorStorage(weight)).toBe(true);
      // The matMul's saved copy and the weight share one buffer: its bytes are gone from the count (twice).
      expect(bytesAlive - tf.memory().numBytes).toBe(2 * 16);
      expect(weight.dataSync().length).toBe(0);
      // backward reaches the matMul's gradient last: refill as its first step (here, before it starts).
      const loss = tf.sum(tf.square(y)) as tf.Scalar;
      expect(refillTensorStorage(weight, values)).toBe(true);
      return loss;
    }, [x]);
    const reference = tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.matMul(v, tf.tensor2d(values, [2, 2])))))(
      x,
    );
    expect(Array.from(grads[x.name]!.dataSync())).toEqual(Array.from(reference.dataSync()));
    value.dispose();
    reference.dispose();
    grads[x.name]!.dispose();
    weight!.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it("keeps tfjs's byte count exact when freed tensors are disposed and the buffer forgotten", () => {
    const start = tf.memory().numBytes;
    const t = tf.tensor1d([1, 2, 3, 4]);
    const copy = tf.clone(t);
    expect(freeTensorStorage(t)).toBe(true);
    expect(tf.memory().numBytes).toBe(start);
    copy.dispose();
    forgetFreedStorage(t);
    t.dispose();
    expect(tf.memory().numBytes).toBe(start);
    // A buffer nobody uses any more has nothing to free or refill.
    expect(freeTensorStorage(t)).toBe(false);
    expect(refillTensorStorage(t, new Float32Array(4))).toBe(false);
  });

  it("refuses a refill of the wrong size and non-float tensors", () => {
    const t = tf.tensor1d([1, 2]);
    expect(() => refillTensorStorage(t, new Float32Array(3))).toThrow(/3 values for a tensor of 2/);
    const ints = tf.tensor1d([1, 2], "int32");
    expect(() => freeTensorStorage(ints)).toThrow(FulmenError);
    t.dispose();
    ints.dispose();
  });
});

describe("Parameter.lend", () => {
  it("reads the lent tensor, refuses assign while lent, and leaves it to its owner on release", () => {
    const p = new Parameter(tf.zeros([2]));
    p.releaseStorage("sharded in this test.");
    const lent = tf.tensor1d([4, 5]);
    p.lend(lent);
    expect(p.isMaterialized).toBe(true);
    expect(Array.from(p.data.dataSync())).toEqual([4, 5]);
    expect(() => p.assign(tf.zeros([2]))).toThrow(/gathered or cast by a strategy/);
    p.releaseStorage("sharded in this test.");
    expect(lent.isDisposed).toBe(false);
    expect(() => p.data).toThrow(/sharded in this test/);
    expect(() => p.lend(tf.zeros([3]))).toThrow(/shape \[2\]/);
    lent.dispose();
    p.dispose();
  });
});

describe("Parameter.overlay", () => {
  it("shows a value computed from the variable while gradients still reach the variable", () => {
    const p = new Parameter(tf.tensor1d([1.5, 2]));
    const { value, grads } = tf.variableGrads(() => {
      p.overlay(tf.mul(p.data, 2));
      try {
        expect(() => p.assign(tf.zeros([2]))).toThrow(/cannot be assigned/);
        return tf.sum(tf.mul(p.data, tf.tensor1d([3, 4]))) as tf.Scalar;
      } finally {
        p.overlay(null);
      }
    }, [p.data]);
    expect(value.dataSync()[0]).toBe(2 * 1.5 * 3 + 2 * 2 * 4);
    expect(Array.from(grads[p.data.name]!.dataSync())).toEqual([6, 8]);
    expect(Array.from(p.data.dataSync())).toEqual([1.5, 2]);
    value.dispose();
    grads[p.data.name]!.dispose();
    p.dispose();
  });
});

describe("withBufferFormat", () => {
  it("stores buffer updates rounded to the format (running statistics kept in bfloat16), and only inside", () => {
    const format: HalfFormat = {
      dtype: "bfloat16",
      round: (t) => tf.tensor(roundBfloat16Array(t.dataSync()), t.shape),
    };
    const x = tf.tensor2d([0.1234567, 1.7654321, -0.333333, 2.0101], [2, 2]);
    const rounded = new nn.BatchNorm1d(2);
    withBufferFormat(format, () => tf.tidy(() => rounded.forward(x)));
    const plain = new nn.BatchNorm1d(2);
    tf.tidy(() => plain.forward(x));
    const mean = Array.from(rounded.runningMean!.dataSync());
    expect(mean).toEqual(Array.from(roundBfloat16Array(plain.runningMean!.dataSync())));
    expect(mean).not.toEqual(Array.from(plain.runningMean!.dataSync()));
    expect(currentBufferFormat()).toBeNull();
    x.dispose();
    rounded.dispose();
    plain.dispose();
  });
});
