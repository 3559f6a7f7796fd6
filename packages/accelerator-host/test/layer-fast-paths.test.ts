import { manualSeed, nn, tf } from "@fulmen/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOST_BACKEND, HostAccelerator, type HostEngineBackend } from "../src";

interface Case {
  name: string;
  make: () => nn.Module;
  input: number[];
  run: (m: nn.Module, x: tf.Tensor) => tf.Tensor;
}

const unary = (m: nn.Module, x: tf.Tensor) =>
  (m as unknown as { forward(x: tf.Tensor): tf.Tensor }).forward(x);

// The layers whose cost issue 17 asks to keep on the engine: recurrent steps, attention, group and instance
// norm, (transposed) convolution.
const CASES: Case[] = [
  {
    name: "LSTM",
    make: () => new nn.LSTM(6, 8, { batchFirst: true }),
    input: [3, 5, 6],
    run: (m, x) => (m as nn.LSTM).forward(x)[0],
  },
  {
    name: "GRU",
    make: () => new nn.GRU(6, 8, { bidirectional: true }),
    input: [5, 3, 6],
    run: (m, x) => (m as nn.GRU).forward(x)[0],
  },
  {
    name: "MultiheadAttention",
    make: () => new nn.MultiheadAttention(16, 4, { batchFirst: true }),
    input: [3, 7, 16],
    run: (m, x) => (m as nn.MultiheadAttention).forward(x, x, x)[0],
  },
  {
    name: "TransformerEncoderLayer",
    make: () => new nn.TransformerEncoderLayer(16, 4, { dimFeedforward: 32, dropout: 0, batchFirst: true }),
    input: [3, 7, 16],
    run: unary,
  },
  { name: "GroupNorm", make: () => new nn.GroupNorm(2, 8), input: [3, 8, 5, 5], run: unary },
  {
    name: "InstanceNorm2d",
    make: () => new nn.InstanceNorm2d(8, { affine: true }),
    input: [3, 8, 5, 5],
    run: unary,
  },
  { name: "Conv1d", make: () => new nn.Conv1d(4, 6, 3, { padding: 1 }), input: [3, 4, 9], run: unary },
  {
    name: "ConvTranspose1d",
    make: () => new nn.ConvTranspose1d(4, 6, 3, { stride: 2, padding: 1 }),
    input: [3, 4, 9],
    run: unary,
  },
  {
    name: "ConvTranspose2d",
    make: () => new nn.ConvTranspose2d(4, 6, 3, { stride: 2, padding: 1, outputPadding: 1 }),
    input: [2, 4, 6, 6],
    run: unary,
  },
];

/** The output and the gradients of a loss of it for the input and every parameter, on `backend`. */
async function train(backend: string, c: Case): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  manualSeed(3);
  const m = c.make();
  const x = tf.randomNormal(c.input, 0, 1, "float32", 4);
  const params = m.parameters();
  const weights = params.map((p) => tf.clone(p.data));
  const grads = tf.grads((input: tf.Tensor, ...w: tf.Tensor[]) => {
    params.forEach((p, i) => {
      p.lend(w[i]!);
    });
    return tf.sum(tf.square(c.run(m, input)));
  });
  const y = c.run(m, x);
  const all = [y, ...grads([x, ...weights])];
  const values = all.map((t) => Float32Array.from(t.dataSync() as Float32Array));
  tf.dispose([...all, x, ...weights]);
  return values;
}

describe("layers on the host engine: every kernel native, results as tfjs's cpu backend's", () => {
  beforeAll(async () => {
    await new HostAccelerator().setup();
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  for (const c of CASES) {
    it(`${c.name}: forward and backward with no fallback to tfjs's cpu kernels, within 1e-5 of them`, async () => {
      await tf.setBackend(HOST_BACKEND);
      const backend = tf.backend() as unknown as HostEngineBackend;
      backend.resetFallbackStats();
      const host = await train(HOST_BACKEND, c);
      // tfjs's gradient of rsqrt is a Pow: on instance norm's statistics ([N, C] values), not the activations;
      // GroupNorm runs as the fused layer norm kernel over its groups.
      expect(backend.fallbackStats()).toEqual(c.name.startsWith("InstanceNorm") ? { Pow: 1 } : {});
      const cpu = await train("cpu", c);
      host.forEach((values, k) => {
        let worst = 0;
        for (let i = 0; i < values.length; i++)
          worst = Math.max(worst, Math.abs(values[i]! - cpu[k]![i]!) / (1 + Math.abs(cpu[k]![i]!)));
        expect(worst, `result ${k}`).toBeLessThan(1e-5);
      });
    });
  }

  it("Reverse, ExpandDims and PadV2 as tfjs's: any axes, negative ones, other constants, empty inputs", async () => {
    const x = () => tf.reshape(tf.range(0, 24), [2, 3, 4]);
    const runs = async (backend: string) => {
      await tf.setBackend(backend);
      return tf.tidy(() =>
        [
          tf.reverse(x(), [0]),
          tf.reverse(x(), [2]),
          tf.reverse(x(), [-1, 1]),
          tf.reverse(tf.cast(x(), "int32"), [0, 1, 2]),
          tf.expandDims(x(), -1),
          tf.expandDims(x(), 1),
          tf.pad(x(), [
            [1, 0],
            [0, 2],
            [3, 1],
          ]),
          tf.pad(
            tf.cast(x(), "int32"),
            [
              [0, 0],
              [1, 1],
              [0, 0],
            ],
            7,
          ),
          tf.pad(
            tf.zeros([2, 0, 3]),
            [
              [1, 0],
              [1, 1],
              [0, 1],
            ],
            -1,
          ),
        ].map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) })),
      );
    };
    expect(await runs(HOST_BACKEND)).toEqual(await runs("cpu"));
  });
});
