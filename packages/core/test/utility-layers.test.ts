import { describe, expect, it } from "vitest";
import { FulmenError, Generator, nn, tf } from "../src/index";

/**
 * The utility layers whose numbers PyTorch cannot pin down (random masks and slopes in training) or that must
 * refuse bad input; their deterministic numbers are in torch-layers-utility.json and
 * torch-layers-activations.json (replayed by apps/parity).
 */

const F = nn.functional;

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

describe("channel-wise dropout (Dropout1d/2d/3d)", () => {
  it("zeroes whole channels in training and scales the kept ones by 1/(1-p)", () => {
    tf.tidy(() => {
      const x = tf.ones([6, 8, 3, 3]);
      const y = new nn.Dropout2d(0.5, new Generator(3)).forward(x);
      const perChannel = tf.reshape(y, [48, 9]).arraySync() as number[][];
      let kept = 0;
      for (const channel of perChannel) {
        expect(new Set(channel).size, `channel ${channel}`).toBe(1);
        expect([0, 2]).toContain(channel[0]);
        if (channel[0] === 2) kept++;
      }
      expect(kept).toBeGreaterThan(10);
      expect(kept).toBeLessThan(38);
    });
  });

  it("reads (C, L) and (C, D, H, W) as unbatched, and a 3D input to dropout2d as (N, C, L) as PyTorch does", () => {
    tf.tidy(() => {
      const one = new Generator(5);
      const y1 = F.dropout1d(tf.ones([16, 5]), { p: 0.5, generator: one });
      for (const row of y1.arraySync() as number[][]) expect(new Set(row).size).toBe(1);
      const y3 = F.dropout3d(tf.ones([16, 2, 2, 2]), { p: 0.5, generator: one });
      for (const channel of tf.reshape(y3, [16, 8]).arraySync() as number[][])
        expect(new Set(channel).size).toBe(1);
      const y2 = F.dropout2d(tf.ones([2, 16, 4]), { p: 0.5, generator: one });
      for (const channel of tf.reshape(y2, [32, 4]).arraySync() as number[][])
        expect(new Set(channel).size).toBe(1);
    });
  });

  it("is the identity in eval mode or with p 0, repeats with the same seed, and refuses a 4D input to dropout1d", () => {
    tf.tidy(() => {
      const x = tf.randomNormal([2, 3, 4]);
      const layer = new nn.Dropout1d(0.4);
      layer.eval();
      expect(layer.forward(x)).toBe(x);
      expect(F.dropout2d(x, { p: 0 })).toBe(x);
      const a = F.dropout1d(x, { p: 0.4, generator: new Generator(9) });
      const b = F.dropout1d(x, { p: 0.4, generator: new Generator(9) });
      expect(values(a)).toEqual(values(b));
      expect(() => F.dropout1d(tf.ones([1, 2, 3, 4]))).toThrow(/dropout1d: expects a 2D \(C, L\) or 3D/);
      expect(() => new nn.Dropout3d(1.5)).toThrow(FulmenError);
    });
  });
});

describe("alpha dropout", () => {
  it("keeps a standard normal input's mean and variance, dropped elements at SELU's scaled saturation", () => {
    tf.tidy(() => {
      const p = 0.2;
      const x = tf.randomNormal([40000], 0, 1, "float32", 11);
      const y = F.alphaDropout(x, { p, generator: new Generator(2) });
      const { mean, variance } = tf.moments(y);
      expect(Math.abs(mean.dataSync()[0]!)).toBeLessThan(0.03);
      expect(Math.abs(variance.dataSync()[0]! - 1)).toBeLessThan(0.05);
      const alpha = 1.7580993408473766;
      const a = 1 / Math.sqrt((alpha * alpha * p + 1) * (1 - p));
      const dropped = alpha * a * (p - 1);
      const xs = values(x);
      const ys = values(y);
      let droppedCount = 0;
      ys.forEach((v, i) => {
        if (Math.abs(v - dropped) < 1e-6) droppedCount++;
        else expect(v).toBeCloseTo(a * xs[i]! + alpha * a * p, 5);
      });
      expect(droppedCount / ys.length).toBeGreaterThan(0.18);
      expect(droppedCount / ys.length).toBeLessThan(0.22);
    });
  });

  it("FeatureAlphaDropout drops whole channels to the same value", () => {
    tf.tidy(() => {
      const y = new nn.FeatureAlphaDropout(0.5, new Generator(4)).forward(tf.zeros([4, 8, 5]));
      for (const channel of tf.reshape(y, [32, 5]).arraySync() as number[][])
        expect(new Set(channel).size).toBe(1);
    });
  });
});

describe("RReLU", () => {
  it("draws a slope in [lower, upper] per negative element in training; its gradient is the slope used", () => {
    tf.tidy(() => {
      const x = tf.tensor1d([-1, -2, -3, -4, -5, -6, -7, -8, 1, 2, 0]);
      const layer = new nn.RReLU(0.1, 0.3, new Generator(7));
      const y = values(layer.forward(x));
      const slopes = y.slice(0, 8).map((v, i) => v / -(i + 1));
      for (const s of slopes) {
        expect(s).toBeGreaterThanOrEqual(0.1 - 1e-6);
        expect(s).toBeLessThanOrEqual(0.3 + 1e-6);
      }
      expect(new Set(slopes.map((s) => s.toFixed(5))).size).toBeGreaterThan(4);
      expect(y.slice(8, 10)).toEqual([1, 2]);
      const again = new nn.RReLU(0.1, 0.3, new Generator(7));
      const grad = values(tf.grad((v: tf.Tensor) => tf.sum(again.forward(v)))(x));
      grad.slice(0, 8).forEach((g, i) => {
        expect(g).toBeCloseTo(slopes[i]!, 5);
      });
      expect(grad.slice(8, 10)).toEqual([1, 1]);
      layer.eval();
      expect(values(layer.forward(tf.tensor1d([-2])))[0]).toBeCloseTo(-0.4, 6);
    });
  });
});

describe("bad input is refused with a message naming the fix", () => {
  it.each([
    ["threshold without a value", () => F.threshold(tf.ones([2]), { threshold: 1 } as never), /give both/],
    ["a negative softshrink lambd", () => new nn.Softshrink(-1), /lambd/],
    ["CELU alpha 0", () => new nn.CELU(0), /alpha/],
    ["rrelu upper below lower", () => new nn.RReLU(0.5, 0.1), /upper/],
    [
      "pixelShuffle channels not divisible",
      () => F.pixelShuffle(tf.ones([1, 6, 2, 2]), 2),
      /divisible by upscaleFactor²/,
    ],
    [
      "pixelUnshuffle size not divisible",
      () => F.pixelUnshuffle(tf.ones([1, 1, 3, 4]), 2),
      /divisible by downscaleFactor/,
    ],
    ["a non-integer factor", () => new nn.PixelShuffle(1.5), /positive integer/],
    [
      "channelShuffle of a 2D input",
      () => F.channelShuffle(tf.ones([2, 4]), 2),
      /at least one dimension after C/,
    ],
    [
      "cosineSimilarity of shapes that do not broadcast",
      () => F.cosineSimilarity(tf.ones([2, 3]), tf.ones([4, 3])),
      /do not broadcast/,
    ],
    ["normalize with a negative p", () => F.normalize(tf.ones([2, 3]), { p: -1 }), /p -1/],
    ["a dim out of range", () => F.normalize(tf.ones([2, 3]), { dim: 2 }), /dim 2 is out of range/],
    ["a padding tuple of the wrong length", () => new nn.ReflectionPad2d([1, 2, 3]), /4 integers/],
    ["Softmax2d of a 2D input", () => new nn.Softmax2d().forward(tf.ones([2, 3])), /3D \(C, H, W\) or 4D/],
    ["an unknown option", () => F.softshrink(tf.ones([2]), { lamda: 1 } as never), /unknown option 'lamda'/],
  ])("%s", (_, run, message) => {
    expect(run).toThrow(FulmenError);
    expect(run).toThrow(message);
  });
});

describe("the new functions' call forms", () => {
  it("threshold, pixelShuffle and softmin take PyTorch's positional arguments or an options object alike", () => {
    tf.tidy(() => {
      const x = tf.tensor2d([
        [-1, 0.5, 2, 0.25],
        [3, -0.5, 0.75, 1],
      ]);
      expect(values(F.threshold(x, 0.5, -2))).toEqual(values(F.threshold(x, { threshold: 0.5, value: -2 })));
      const image = tf.randomNormal([1, 4, 2, 2]);
      expect(values(F.pixelShuffle(image, 2))).toEqual(values(F.pixelShuffle(image, { upscaleFactor: 2 })));
      expect(values(F.pixelUnshuffle(F.pixelShuffle(image, 2), 2))).toEqual(values(image));
      expect(values(F.softmin(x, 1))).toEqual(values(F.softmin(x, { dim: 1 })));
    });
  });
});

describe("Unfold/Fold, EmbeddingBag, Bilinear and LocalResponseNorm", () => {
  it("fold inverts unfold where windows do not overlap, and counts overlaps where they do", () => {
    tf.tidy(() => {
      const image = tf.randomNormal([2, 3, 4, 6]);
      const cols = F.unfold(image, [2, 3], { stride: [2, 3] });
      expect(cols.shape).toEqual([2, 18, 4]);
      expect(values(F.fold(cols, [4, 6], [2, 3], { stride: [2, 3] }))).toEqual(values(image));
      // overlapping 2×2 windows with stride 1: each pixel is counted once per window covering it
      const ones = F.fold(F.unfold(tf.ones([1, 1, 3, 3]), 2), 3, 2);
      expect(values(ones)).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1]);
    });
  });

  it("EmbeddingBag matches its bags summed by hand and refuses what it does not implement", () => {
    tf.tidy(() => {
      const bag = new nn.EmbeddingBag(5, 2, { mode: "sum" });
      const w = bag.weight.data;
      const y = bag.forward(tf.tensor1d([0, 3, 3, 4], "int32"), [0, 1]);
      const expected = tf.stack([
        tf.gather(w, 0),
        tf.add(tf.add(tf.gather(w, 3), tf.gather(w, 3)), tf.gather(w, 4)),
      ]);
      expect(values(y)).toEqual(values(expected));
      expect(() => new nn.EmbeddingBag(5, 2, { maxNorm: 1 } as never)).toThrow(
        /maxNorm is not implemented yet/,
      );
      expect(() => bag.forward(tf.tensor1d([0, 7], "int32"), [0])).toThrow(/index 7 is out of range/);
      expect(() => bag.forward(tf.tensor1d([0, 1], "int32"))).toThrow(/without offsets/);
      expect(() => bag.forward(tf.tensor1d([0, 1], "int32"), [1])).toThrow(/starting at 0/);
      expect(() =>
        new nn.EmbeddingBag(5, 2).forward(tf.tensor2d([[0, 1]], [1, 2], "int32"), null, tf.ones([1, 2])),
      ).toThrow(/perSampleWeights go with mode 'sum' only/);
      bag.dispose();
    });
  });

  it("Bilinear and LocalResponseNorm refuse mismatched shapes", () => {
    const bilinear = new nn.Bilinear(3, 4, 2);
    expect(() => bilinear.forward(tf.ones([2, 3]), tf.ones([2, 5]))).toThrow(
      /expected inputs \[\*, 3\] and \[\*, 4\]/,
    );
    expect(() => new nn.LocalResponseNorm(2).forward(tf.ones([2, 3]))).toThrow(/3 or more dimensions/);
    expect(() => F.unfold(tf.ones([1, 1, 2, 2]), 3)).toThrow(/does not fit/);
    expect(() => F.fold(tf.ones([1, 5, 4]), 3, 2)).toThrow(/expected \(N, C·4, 4\) columns/);
    bilinear.dispose();
  });
});

describe("affineGrid and gridSample", () => {
  it("the identity map samples the input back, and nearest sampling has a zero gradient to the grid", () => {
    tf.tidy(() => {
      const image = tf.randomNormal([2, 3, 4, 5]);
      const identity = tf.tensor3d([
        [
          [1, 0, 0],
          [0, 1, 0],
        ],
        [
          [1, 0, 0],
          [0, 1, 0],
        ],
      ]);
      for (const alignCorners of [false, true]) {
        const grid = F.affineGrid(identity, [2, 3, 4, 5], { alignCorners });
        const back = F.gridSample(image, grid, { alignCorners });
        expect(tf.max(tf.abs(tf.sub(back, image))).dataSync()[0]).toBeLessThan(1e-5);
      }
      const grid = F.affineGrid(identity, [2, 3, 4, 5]);
      const dGrid = tf.grad((g: tf.Tensor) => tf.sum(F.gridSample(image, g, { mode: "nearest" })))(grid);
      expect(Array.from(dGrid.dataSync()).every((v) => v === 0)).toBe(true);
    });
  });

  it("refuses what it does not implement, naming it", () => {
    const image = tf.zeros([1, 1, 2, 2]);
    const grid = tf.zeros([1, 2, 2, 2]);
    expect(() => F.gridSample(image, grid, { mode: "bicubic" as never })).toThrow(
      /mode 'bicubic' is not implemented yet/,
    );
    expect(() => F.gridSample(tf.zeros([1, 1, 2, 2, 2]), grid)).toThrow(/5-D volumes are not implemented/);
    expect(() => F.affineGrid(tf.zeros([1, 2, 3]), [1, 1, 2, 2, 2])).toThrow(
      /5-D volumes are not implemented/,
    );
    expect(() => F.affineGrid(tf.zeros([2, 2, 3]), [1, 1, 2, 2])).toThrow(/theta must be \[1, 2, 3\]/);
    tf.dispose([image, grid]);
  });
});

describe("no tensor leaks", () => {
  it("keeps the tensor count flat across training steps through every new layer", () => {
    const model = new nn.Sequential(
      new nn.ReflectionPad2d(1),
      new nn.ReplicationPad2d([1, 0, 0, 1]),
      new nn.CircularPad2d([1, 0, 1, 0]),
      new nn.ConstantPad2d(1, 0.5),
      new nn.PixelUnshuffle(2),
      new nn.ChannelShuffle(2),
      new nn.PixelShuffle(2),
      new nn.Dropout2d(0.2),
      new nn.AlphaDropout(0.1),
      new nn.ReLU6(),
      new nn.CELU(0.5),
      new nn.RReLU(),
      new nn.Softshrink(0.1),
      new nn.Hardshrink(0.05),
      new nn.Threshold(-0.5, 0),
      new nn.LogSigmoid(),
      new nn.Softsign(),
      new nn.Tanhshrink(),
      new nn.Softmax2d(),
      new nn.LocalResponseNorm(3),
      new nn.Unfold(2, { padding: 1 }),
      new nn.Fold(12, 2),
    );
    const x = tf.randomNormal([2, 4, 4, 4]);
    const distance = new nn.PairwiseDistance(3);
    const cosine = new nn.CosineSimilarity(-1);
    const step = () =>
      tf.tidy(() => {
        const grad = tf.grad((v: tf.Tensor) => {
          const y = model.forward(v);
          const flat = tf.reshape(y, [2, -1]);
          const pair = tf.sum(distance.forward(flat, tf.reverse(flat, 0)));
          return tf.add(pair, tf.sum(cosine.forward(flat, F.normalize(flat, { p: 1 }))));
        })(x);
        return grad.dataSync()[0];
      });
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe("F.batchNorm", () => {
  it("matches BatchNorm2d in training (output and the running statistics updated in place) and in eval", () => {
    const layer = new nn.BatchNorm2d(3, { momentum: 0.3 });
    const runningMean = tf.variable(tf.zeros([3]));
    const runningVar = tf.variable(tf.ones([3]));
    tf.tidy(() => {
      const x = tf.randomNormal([4, 3, 2, 2], 1, 2);
      const options = { weight: layer.weight!.data, bias: layer.bias!.data, momentum: 0.3 };
      const y = F.batchNorm(x, runningMean, runningVar, { ...options, training: true });
      expect(values(y)).toEqual(values(layer.forward(x)));
      expect(values(runningMean)).toEqual(values(layer.runningMean!));
      expect(values(runningVar)).toEqual(values(layer.runningVar!));
      layer.eval();
      const evalOut = F.batchNorm(x, runningMean, runningVar, options);
      const max = tf.max(tf.abs(tf.sub(evalOut, layer.forward(x)))).dataSync()[0]!;
      expect(max).toBeLessThan(1e-6);
      expect(() => F.batchNorm(x, null, null)).toThrow(/pass runningMean and runningVar, or training: true/);
      expect(() => F.batchNorm(x, tf.zeros([3]), tf.ones([3]), { training: true })).toThrow(
        /must be tf.Variables/,
      );
      expect(values(F.batchNorm(x, null, null, { training: true })).length).toBe(48);
    });
    tf.dispose([runningMean, runningVar]);
    layer.dispose();
  });
});

describe("max pooling's indices and max unpooling", () => {
  it("returns [output, indices] with returnIndices, typed, and unpooling puts the maxima back", () => {
    tf.tidy(() => {
      const pool = new nn.MaxPool2d(2, { returnIndices: true });
      const unpool = new nn.MaxUnpool2d(2);
      const x = tf.tensor4d([1, 5, 2, 0, 3, 4, 8, 1, 0, 0, 7, 9, 2, 6, 1, 1], [1, 1, 4, 4]);
      const [y, indices] = pool.forward(x);
      expect(values(y)).toEqual([5, 8, 6, 9]);
      expect(indices.dtype).toBe("int32");
      expect(values(indices)).toEqual([1, 6, 13, 11]);
      const back = unpool.forward(y, indices);
      expect(values(back)).toEqual([0, 5, 0, 0, 0, 0, 8, 0, 0, 0, 0, 9, 0, 6, 0, 0]);
      const plain: tf.Tensor = new nn.MaxPool2d(2).forward(x);
      expect(values(plain)).toEqual([5, 8, 6, 9]);
      const [ya, ia] = new nn.AdaptiveMaxPool2d(1, true).forward(x);
      expect([values(ya), values(ia)]).toEqual([[9], [11]]);
      const [y1, i1] = F.maxPool1d(tf.tensor2d([[3, 1, 3, 2]]), 2, { returnIndices: true });
      expect([values(y1), values(i1)]).toEqual([
        [3, 3],
        [0, 2],
      ]);
    });
  });

  it("refuses indices of another shape or beyond the output, naming the fix", () => {
    tf.tidy(() => {
      const unpool = new nn.MaxUnpool2d(2);
      const y = tf.ones([1, 1, 2, 2]);
      expect(() => unpool.forward(y, tf.zeros([1, 1, 2, 2]))).toThrow(/int32 tensor of the input's shape/);
      expect(() => unpool.forward(y, tf.fill([1, 1, 2, 2], 99, "int32"))).toThrow(/index 99 is outside/);
      expect(() => unpool.forward(y, tf.zeros([1, 1, 2, 2], "int32"), [9, 9])).toThrow(
        /within a stride of the default/,
      );
    });
  });

  it("keeps the tensor count flat through pooling with indices, unpooling and their gradients", () => {
    const pool = new nn.MaxPool2d(2, { returnIndices: true });
    const unpool = new nn.MaxUnpool2d(2);
    const x = tf.randomNormal([2, 3, 4, 4]);
    const step = () =>
      tf.tidy(
        () =>
          tf
            .grad((v: tf.Tensor) => {
              const [y, indices] = pool.forward(v);
              return tf.sum(tf.square(unpool.forward(y, indices)));
            })(x)
            .dataSync()[0],
      );
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
