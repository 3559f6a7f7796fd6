import { describe, expect, it } from "vitest";
import {
  backward,
  checkpoint,
  FulmenError,
  type HalfFormat,
  manualSeed,
  nn,
  Parameter,
  tf,
} from "../src/index";
import { halfFormatOf, markHalf } from "../src/plugin";

/** A block with dropout and BatchNorm (random masks and running statistics are what recomputation can get wrong). */
class Block extends nn.Module {
  fc1 = new nn.Linear(6, 8);
  bn = new nn.BatchNorm1d(8);
  drop = new nn.Dropout(0.3);
  fc2 = new nn.Linear(8, 6);
  forward(x: tf.Tensor): tf.Tensor {
    return this.fc2.forward(this.drop.forward(tf.relu(this.bn.forward(this.fc1.forward(x)))));
  }
}

class Net extends nn.Module {
  a = new Block();
  b = new Block();
  constructor(private readonly checkpointed: boolean) {
    super();
  }
  forward(x: tf.Tensor): tf.Tensor {
    const run = (block: Block, v: tf.Tensor) =>
      this.checkpointed
        ? checkpoint((t: tf.Tensor) => block.forward(t), [v], { params: block.parameters() })
        : block.forward(v);
    return tf.sum(tf.square(run(this.b, tf.tanh(run(this.a, x)))));
  }
}

function gradients(checkpointed: boolean) {
  manualSeed(7);
  const net = new Net(checkpointed);
  const x = tf.tensor2d(
    Array.from({ length: 24 }, (_, i) => Math.sin(i)),
    [4, 6],
  );
  const input = new Parameter(x);
  manualSeed(11);
  const loss = backward(() => net.forward(input.data) as tf.Scalar, [...net.parameters(), input]);
  const out = {
    loss: loss.dataSync()[0]!,
    grads: [...net.parameters(), input].map((p) => Array.from(p.grad!.dataSync())),
    buffers: net.buffers().map((b) => Array.from(b.dataSync())),
  };
  loss.dispose();
  x.dispose();
  input.dispose();
  net.dispose();
  return out;
}

describe("checkpoint (activation checkpointing)", () => {
  it("gives the same loss, parameter and input gradients, dropout masks and running statistics as no checkpointing", () => {
    const plain = gradients(false);
    const checkpointed = gradients(true);
    expect(checkpointed.loss).toBeCloseTo(plain.loss, 5);
    plain.grads.forEach((g, i) => {
      const c = checkpointed.grads[i]!;
      g.forEach((v, j) => {
        expect(c[j]).toBeCloseTo(v, 5);
      });
    });
    // BatchNorm's running statistics move once per forward, not again in the recomputation.
    expect(checkpointed.buffers).toEqual(plain.buffers);
  });

  it("frees the region's intermediates: the tensor count is flat across steps", () => {
    const net = new Net(true);
    const x = tf.randomNormal([4, 6]);
    const step = () => {
      backward(() => net.forward(x) as tf.Scalar, net).dispose();
      net.zeroGrad();
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    net.dispose();
  });

  it("keeps an output autocast made in half marked as half (one output and several)", () => {
    const format: HalfFormat = { dtype: "bfloat16", round: (t) => tf.clone(t) };
    const w = new Parameter(tf.tensor1d([1, 2]));
    const x = tf.tensor1d([3, 4]);
    const one = checkpoint((v: tf.Tensor) => markHalf(tf.mul(v, w.data), format), [x], { params: [w] });
    expect(halfFormatOf(one)).toBe(format);
    const [a, b] = checkpoint((v: tf.Tensor) => [markHalf(tf.mul(v, w.data), format), tf.add(v, 1)], [x], {
      params: [w],
    });
    expect(halfFormatOf(a!)).toBe(format);
    expect(halfFormatOf(b!)).toBeUndefined();
    for (const t of [one, a!, b!, x]) t.dispose();
    w.dispose();
  });

  it("passes several outputs, integer outputs and non-tensor values through", () => {
    const w = new Parameter([
      [1, 2],
      [3, 4],
    ]);
    const x = tf.tensor2d([
      [1, 0],
      [0, 1],
    ]);
    const loss = backward(() => {
      const [y, info, idx] = checkpoint(
        (v: tf.Tensor) =>
          [tf.matMul(v, w.data), { scale: 2, z: tf.mul(v, w.data) }, tf.argMax(v, 1)] as const,
        [x],
        { params: [w] },
      );
      expect(info.scale).toBe(2);
      expect(idx.dtype).toBe("int32");
      return tf.add(tf.sum(y), tf.sum(tf.mul(info.z, 2))) as tf.Scalar;
    }, [w]);
    // d/dw [sum(x·w) + 2·sum(x∘w)] = xᵀ·1 + 2x
    expect(Array.from(w.grad!.dataSync())).toEqual([3, 1, 1, 3]);
    loss.dispose();
    x.dispose();
    w.dispose();
  });
});

describe("Parameter storage", () => {
  it("keeps shape, size and requiresGrad while released, and restores into a new variable", () => {
    const p = new Parameter([[1, 2, 3]]);
    p.requiresGrad = false;
    p.releaseStorage("held as shards by a test.");
    expect(p.shape).toEqual([1, 3]);
    expect(p.size).toBe(3);
    expect(p.isMaterialized).toBe(false);
    expect(() => p.data).toThrow(FulmenError);
    expect(() => p.restoreStorage(tf.zeros([3]))).toThrow(/shape \[1,3\]/);
    const v = tf.tensor2d([[4, 5, 6]]);
    p.restoreStorage(v);
    v.dispose();
    expect(Array.from(p.data.dataSync())).toEqual([4, 5, 6]);
    expect(p.data.trainable).toBe(false);
    p.dispose();
  });
});
