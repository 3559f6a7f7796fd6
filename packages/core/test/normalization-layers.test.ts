import { describe, expect, it } from "vitest";
import { backward, FulmenError, manualSeed, nn, SGD, tf } from "../src/index";

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++)
    expect(Math.abs(actual[i]! - expected[i]!)).toBeLessThanOrEqual(tol);
}

describe("GroupNorm, InstanceNorm1d/2d and RMSNorm: PyTorch's modules", () => {
  it("have PyTorch's state-dict names, initialisation and defaults", () => {
    const gn = new nn.GroupNorm(2, 4);
    expect(Object.keys(gn.stateDict())).toEqual(["weight", "bias"]);
    expectClose(gn.weight!.data.dataSync(), [1, 1, 1, 1]);
    const inn = new nn.InstanceNorm2d(3);
    expect(Object.keys(inn.stateDict())).toEqual([]); // affine and trackRunningStats default to false
    const tracked = new nn.InstanceNorm1d(3, { affine: true, trackRunningStats: true });
    expect(Object.keys(tracked.stateDict())).toEqual([
      "weight",
      "bias",
      "running_mean",
      "running_var",
      "num_batches_tracked",
    ]);
    const rms = new nn.RMSNorm([2, 3]);
    expect(Object.keys(rms.stateDict())).toEqual(["weight"]);
    expect(rms.weight!.shape).toEqual([2, 3]);
    expect(new nn.RMSNorm(4, { elementwiseAffine: false }).weight).toBeNull();
    for (const m of [gn, inn, tracked, rms]) m.dispose();
  });

  it("refuse bad options and shapes, naming the fix", () => {
    expect(() => new nn.GroupNorm(3, 4)).toThrow(/divisible by numGroups/);
    expect(() => new nn.GroupNorm(2, 4, { elementwise_affine: false } as never)).toThrow(FulmenError);
    expect(() => new nn.InstanceNorm1d(3, { momentum: null as never })).toThrow(/momentum/);
    expect(() => new nn.RMSNorm(4, { bias: true } as never)).toThrow(/unknown option 'bias'/);
    const gn = new nn.GroupNorm(2, 4);
    expect(() => gn.forward(tf.zeros([2, 6, 3]))).toThrow(/\[N, 4, \*\]/);
    const inn = new nn.InstanceNorm1d(3);
    expect(() => inn.forward(tf.zeros([2, 3, 1]))).toThrow(/more than 1 spatial element/);
    expect(() => inn.forward(tf.zeros([1, 2, 3, 4]))).toThrow(/expected 2D \(unbatched\) or 3D/);
    const rms = new nn.RMSNorm(4);
    expect(() => rms.forward(tf.zeros([2, 3]))).toThrow(/does not end with normalizedShape/);
    for (const m of [gn, inn, rms]) m.dispose();
  });

  it("RMSNorm's eps defaults to float32's machine epsilon (2^-23), as today's PyTorch", () => {
    tf.tidy(() => {
      const x = tf.tensor2d([[1e-4, -2e-4, 3e-4]]);
      const ms = (1e-8 + 4e-8 + 9e-8) / 3;
      const expected = [1e-4, -2e-4, 3e-4].map((v) => v / Math.sqrt(ms + 2 ** -23));
      const m = new nn.RMSNorm(3);
      expectClose(m.forward(x).dataSync(), expected, 1e-5);
      expectClose(
        nn.functional.rmsNorm(x, [3], { eps: 0 }).dataSync(),
        [1e-4, -2e-4, 3e-4].map((v) => v / Math.sqrt(ms)),
        1e-4,
      );
      m.dispose();
    });
  });
});

describe("nn.functional normalisation", () => {
  const F = nn.functional;

  it("layerNorm and groupNorm are the modules' computation", () => {
    tf.tidy(() => {
      manualSeed(4);
      const x = tf.randomNormal([2, 4, 3], 0, 1, "float32", 4);
      const ln = new nn.LayerNorm(3);
      expectClose(
        F.layerNorm(x, [3], { weight: ln.weight!.data, bias: ln.bias!.data }).dataSync(),
        ln.forward(x).dataSync(),
        0,
      );
      const gn = new nn.GroupNorm(2, 4);
      expectClose(
        F.groupNorm(x, 2, { weight: gn.weight!.data, bias: gn.bias!.data }).dataSync(),
        gn.forward(x).dataSync(),
        0,
      );
      // One group per channel is instance norm; one group for all is layer norm over (C, L).
      expectClose(F.groupNorm(x, 4).dataSync(), F.instanceNorm(x).dataSync(), 1e-6);
      expectClose(F.groupNorm(x, 1).dataSync(), F.layerNorm(x, [4, 3]).dataSync(), 1e-6);
      ln.dispose();
      gn.dispose();
    });
  });

  it("instanceNorm updates running statistics held in tf.Variables, as PyTorch's in place", () => {
    const mean = tf.variable(tf.zeros([2]));
    const variance = tf.variable(tf.ones([2]));
    tf.tidy(() => {
      // Channel 0: samples [1, 3] and [5, 7]; channel 1: constant 2s.
      const x = tf.tensor3d([
        [
          [1, 3],
          [2, 2],
        ],
        [
          [5, 7],
          [2, 2],
        ],
      ]);
      F.instanceNorm(x, { runningMean: mean, runningVar: variance, momentum: 0.5 });
      // Means 2 and 6 average to 4; unbiased variances 2 and 2.
      expectClose(mean.dataSync(), [2, 1]);
      expectClose(variance.dataSync(), [1.5, 0.5]);
      expect(() => F.instanceNorm(x, { runningMean: tf.zeros([2]), runningVar: tf.ones([2]) })).toThrow(
        /tf.Variables/,
      );
      const evalOut = F.instanceNorm(x, { runningMean: mean, runningVar: variance, useInputStats: false });
      expectClose(evalOut.dataSync().slice(0, 2), [
        (1 - 2) / Math.sqrt(1.5 + 1e-5),
        (3 - 2) / Math.sqrt(1.5 + 1e-5),
      ]);
    });
    tf.dispose([mean, variance]);
  });

  it("InstanceNorm eval mode uses the running statistics only when it tracks them", () => {
    tf.tidy(() => {
      const x = tf.tensor2d([
        [1, 3, 5],
        [0, 0, 3],
      ]);
      const untracked = new nn.InstanceNorm1d(2);
      untracked.eval();
      expectClose(
        untracked.forward(x).dataSync(),
        nn.functional.instanceNorm(tf.expandDims(x, 0)).dataSync(),
      );
      const tracked = new nn.InstanceNorm1d(2, { trackRunningStats: true });
      tracked.eval();
      expectClose(
        tracked.forward(x).dataSync(),
        Array.from(x.dataSync()).map((v) => v / Math.sqrt(1 + 1e-5)),
      );
      untracked.dispose();
      tracked.dispose();
    });
  });
});

describe("training through the normalisation and activation layers", () => {
  it("keeps tf.memory().numTensors flat and trains (GroupNorm, InstanceNorm with running stats, PReLU, RMSNorm)", () => {
    manualSeed(5);
    const model = new nn.Sequential(
      new nn.Conv2d(2, 4, 3, { padding: 1 }),
      new nn.GroupNorm(2, 4),
      new nn.PReLU(4),
      new nn.InstanceNorm2d(4, { affine: true, trackRunningStats: true }),
      new nn.Hardswish(),
      new nn.Flatten(),
      new nn.RMSNorm(4 * 5 * 5),
      new nn.Linear(4 * 5 * 5, 3),
      new nn.LogSoftmax(1),
    );
    const optimizer = new SGD(model, { lr: 0.05 });
    const x = tf.randomNormal([3, 2, 5, 5], 0, 1, "float32", 7);
    const y = tf.tensor1d([0, 2, 1], "int32");
    const losses: number[] = [];
    const step = () => {
      optimizer.zeroGrad();
      const loss = backward(() => {
        const logp = model.forward(x) as tf.Tensor;
        return tf.neg(tf.mean(tf.sum(tf.mul(logp, tf.oneHot(y, 3)), 1))) as tf.Scalar;
      }, model);
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
      optimizer.step();
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    for (const p of model.parameters()) expect(p.grad).not.toBeNull();
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    optimizer.disposeState();
    model.dispose();
    tf.dispose([x, y]);
  });
});
