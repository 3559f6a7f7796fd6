import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Adam, backward, FulmenError, manualSeed, nn, tf } from "../src/index";

interface Flat {
  shape: number[];
  dtype: string;
  data: Array<number | boolean | string>;
}

function decode(t: Flat): tf.Tensor {
  if (t.dtype === "bool") return tf.tensor(t.data as boolean[], t.shape, "bool");
  const values = t.data.map((v) =>
    v === "-inf" ? Number.NEGATIVE_INFINITY : v === "inf" ? Infinity : Number(v),
  );
  return tf.tensor(values, t.shape, "float32");
}

function maxDiff(a: tf.Tensor, b: tf.Tensor | ArrayLike<number>): number {
  const x = a.dataSync();
  const y = b instanceof tf.Tensor ? b.dataSync() : b;
  expect(x.length).toBe(y.length);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  return worst;
}

const sdpaFile = JSON.parse(
  readFileSync(join(__dirname, "fixtures/attention-sdpa-float64.json"), "utf8"),
) as {
  cases: Array<{
    name: string;
    inputs: Flat[];
    kwargs: Record<string, unknown>;
    output: Flat;
    R: Flat;
    input_grads: Flat[];
  }>;
};

describe("nn.functional.scaledDotProductAttention (today's PyTorch; float64 formula as the reference)", () => {
  for (const c of sdpaFile.cases) {
    it(`matches the float64 formula and its gradients: ${c.name}`, () => {
      tf.tidy(() => {
        const [q, k, v] = c.inputs.map(decode) as [tf.Tensor, tf.Tensor, tf.Tensor];
        const options = {
          attnMask: c.kwargs.attn_mask !== undefined ? decode(c.kwargs.attn_mask as Flat) : null,
          isCausal: c.kwargs.is_causal as boolean | undefined,
          scale: c.kwargs.scale as number | undefined,
        };
        const out = nn.functional.scaledDotProductAttention(q, k, v, options);
        expect(out.shape).toEqual(c.output.shape);
        expect(maxDiff(out, decode(c.output))).toBeLessThan(1e-5);
        const r = decode(c.R);
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) =>
          tf.sum(tf.mul(nn.functional.scaledDotProductAttention(a, b, d, options), r)),
        )([q, k, v]);
        grads.forEach((g, i) => {
          expect(maxDiff(g, decode(c.input_grads[i]!))).toBeLessThan(1e-5);
        });
      });
    });
  }

  it("reads a boolean mask as PyTorch's function does (true = attend) and refuses isCausal with a mask", () => {
    tf.tidy(() => {
      const q = tf.randomNormal([2, 3, 4]);
      const k = tf.randomNormal([2, 5, 4]);
      const v = tf.randomNormal([2, 5, 6]);
      const onlyFirst = tf.tensor([[true, false, false, false, false]], [1, 5], "bool");
      const out = nn.functional.scaledDotProductAttention(q, k, v, { attnMask: onlyFirst });
      const first = tf.broadcastTo(tf.slice(v, [0, 0, 0], [2, 1, 6]), [2, 3, 6]);
      expect(maxDiff(out, first)).toBeLessThan(1e-6);
      expect(() =>
        nn.functional.scaledDotProductAttention(q, k, v, { attnMask: onlyFirst, isCausal: true }),
      ).toThrow(/isCausal and attnMask cannot be given together/);
      expect(() =>
        nn.functional.scaledDotProductAttention(q, k, v, { is_causal: true } as unknown as object),
      ).toThrow(/unknown option 'is_causal' \(did you mean 'isCausal'\?\)/);
      expect(() => nn.functional.scaledDotProductAttention(q, tf.randomNormal([2, 5, 3]), v)).toThrow(
        FulmenError,
      );
    });
  });

  it("applies dropout from the seeded core generator: repeatable, and off at dropoutP 0", () => {
    tf.tidy(() => {
      const [q, k, v] = [tf.randomNormal([2, 4, 4]), tf.randomNormal([2, 4, 4]), tf.randomNormal([2, 4, 4])];
      manualSeed(11);
      const a = nn.functional.scaledDotProductAttention(q, k, v, { dropoutP: 0.5 });
      manualSeed(11);
      const b = nn.functional.scaledDotProductAttention(q, k, v, { dropoutP: 0.5 });
      const plain = nn.functional.scaledDotProductAttention(q, k, v);
      expect(maxDiff(a, b)).toBe(0);
      expect(maxDiff(a, plain)).toBeGreaterThan(1e-3);
    });
  });
});

describe("nn.MultiheadAttention", () => {
  it("has PyTorch's state-dict names, order and initialisation", () => {
    const packed = new nn.MultiheadAttention(8, 2, { addBiasKv: true });
    expect(Object.keys(packed.stateDict())).toEqual([
      "in_proj_weight",
      "in_proj_bias",
      "bias_k",
      "bias_v",
      "out_proj.weight",
      "out_proj.bias",
    ]);
    const sd = packed.stateDict();
    expect(sd.in_proj_weight!.shape).toEqual([24, 8]);
    const bound = Math.sqrt(6 / (8 + 24)); // xavier_uniform_ on [3E, E]
    expect(tf.max(tf.abs(sd.in_proj_weight!)).dataSync()[0]).toBeLessThanOrEqual(bound);
    expect(tf.max(tf.abs(sd.in_proj_weight!)).dataSync()[0]).toBeGreaterThan(bound * 0.8);
    expect(tf.sum(tf.abs(sd.in_proj_bias!)).dataSync()[0]).toBe(0);
    expect(tf.sum(tf.abs(sd["out_proj.bias"]!)).dataSync()[0]).toBe(0);
    expect(sd.bias_k!.shape).toEqual([1, 1, 8]);
    const separate = new nn.MultiheadAttention(8, 2, { kdim: 3, bias: false });
    expect(Object.keys(separate.stateDict())).toEqual([
      "q_proj_weight",
      "k_proj_weight",
      "v_proj_weight",
      "out_proj.weight",
    ]);
    expect(separate.stateDict().k_proj_weight!.shape).toEqual([8, 3]);
    expect(separate.stateDict().v_proj_weight!.shape).toEqual([8, 8]);
    packed.dispose();
    separate.dispose();
  });

  it("returns [output, weights]: weights averaged or per head, null without needWeights", () => {
    const mha = new nn.MultiheadAttention(8, 2, { batchFirst: true });
    tf.tidy(() => {
      const q = tf.randomNormal([3, 4, 8]);
      const kv = tf.randomNormal([3, 5, 8]);
      const [out, w] = mha.forward(q, kv, kv);
      expect(out.shape).toEqual([3, 4, 8]);
      expect(w!.shape).toEqual([3, 4, 5]);
      expect(maxDiff(tf.sum(w!, -1), tf.ones([3, 4]))).toBeLessThan(1e-6);
      const [, perHead] = mha.forward(q, kv, kv, { averageAttnWeights: false });
      expect(perHead!.shape).toEqual([3, 2, 4, 5]);
      expect(maxDiff(tf.mean(perHead!, 1), w!)).toBeLessThan(1e-6);
      const [again, none] = mha.forward(q, kv, kv, { needWeights: false });
      expect(none).toBeNull();
      expect(maxDiff(again, out)).toBe(0);
    });
    mha.dispose();
  });

  it("is deterministic in eval mode with dropout, and draws its training dropout from the core generator", () => {
    const mha = new nn.MultiheadAttention(8, 2, { dropout: 0.4 });
    tf.tidy(() => {
      const x = tf.randomNormal([4, 2, 8]);
      mha.eval();
      const [a] = mha.forward(x, x, x);
      const [b] = mha.forward(x, x, x);
      expect(maxDiff(a, b)).toBe(0);
      mha.train();
      manualSeed(5);
      const [c] = mha.forward(x, x, x);
      manualSeed(5);
      const [d] = mha.forward(x, x, x);
      expect(maxDiff(c, d)).toBe(0);
      expect(maxDiff(c, a)).toBeGreaterThan(1e-4);
    });
    mha.dispose();
  });

  it("treats isCausal as PyTorch's hint: it needs attnMask, which is what applies", () => {
    const mha = new nn.MultiheadAttention(8, 2);
    tf.tidy(() => {
      const x = tf.randomNormal([5, 2, 8]);
      expect(() => mha.forward(x, x, x, { isCausal: true })).toThrow(
        /needs attnMask.*generateSquareSubsequentMask/,
      );
      const mask = nn.generateSquareSubsequentMask(5);
      expect(Array.from(mask.dataSync().slice(0, 5))).toEqual([
        0,
        -Infinity,
        -Infinity,
        -Infinity,
        -Infinity,
      ]);
      const [hinted] = mha.forward(x, x, x, { attnMask: mask, isCausal: true });
      const [plain] = mha.forward(x, x, x, { attnMask: mask });
      const boolMask = tf.cast(tf.less(mask, 0), "bool");
      const [asBool] = mha.forward(x, x, x, { attnMask: boolMask });
      expect(maxDiff(hinted, plain)).toBe(0);
      expect(maxDiff(asBool, plain)).toBeLessThan(1e-6);
    });
    mha.dispose();
  });

  it("refuses bad sizes, options and masks with errors that say the fix", () => {
    expect(() => new nn.MultiheadAttention(8, 3)).toThrow(/not divisible by numHeads/);
    expect(() => new nn.MultiheadAttention(8, 2, { batch_first: true } as object)).toThrow(
      /unknown option 'batch_first' \(did you mean 'batchFirst'\?\)/,
    );
    const mha = new nn.MultiheadAttention(8, 2);
    tf.tidy(() => {
      const x = tf.randomNormal([4, 2, 8]);
      expect(() => mha.forward(x, x, x, { attnMask: tf.zeros([4, 3]) })).toThrow(
        /attnMask has shape \[4,3\]/,
      );
      expect(() => mha.forward(x, x, x, { keyPaddingMask: tf.zeros([4, 2], "bool") })).toThrow(
        /keyPaddingMask has shape \[4,2\] but must be \[2,4\]/,
      );
      expect(() => mha.forward(x, tf.randomNormal([4, 2, 6]), x)).toThrow(/key's last dimension is 6/);
      expect(() => mha.forward(x, x, x, { attnMask: tf.zeros([4, 4], "int32") })).toThrow(
        /boolean or float32/,
      );
    });
    mha.dispose();
  });
});

describe("nn.TransformerEncoder / nn.TransformerDecoder", () => {
  it("stacks deep copies of the layer, as PyTorch does, under layers.N", () => {
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
    const encoder = new nn.TransformerEncoder(layer, 2, { norm: new nn.LayerNorm(8) });
    const keys = Object.keys(encoder.stateDict());
    expect(keys[0]).toBe("layers.0.self_attn.in_proj_weight");
    expect(keys).toContain("layers.1.linear2.bias");
    expect(keys.slice(-2)).toEqual(["norm.weight", "norm.bias"]);
    expect(keys).toHaveLength(2 * 12 + 2);
    const first = encoder.layers.at(0);
    const second = encoder.layers.at(1);
    expect(first).not.toBe(layer);
    expect(first.selfAttn.inProjWeight).not.toBe(second.selfAttn.inProjWeight);
    expect(maxDiff(first.linear1.weight.data, layer.linear1.weight.data)).toBe(0);
    // Changing one copy changes neither the other nor the original.
    first.linear1.weight.assign(tf.zerosLike(first.linear1.weight.data));
    expect(tf.sum(tf.abs(second.linear1.weight.data)).dataSync()[0]).toBeGreaterThan(0);
    expect(tf.sum(tf.abs(layer.linear1.weight.data)).dataSync()[0]).toBeGreaterThan(0);
    expect(first.dropout.p).toBe(0.1);
    encoder.dispose();
    layer.dispose();
  });

  it("takes the activation as a name, a function or a module", () => {
    manualSeed(1);
    const named = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 6, activation: "gelu" });
    const asModule = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 6, activation: new nn.GELU() });
    const asFunction = new nn.TransformerEncoderLayer(8, 2, {
      dimFeedforward: 6,
      activation: (x) => tf.tanh(x),
    });
    const reluLayer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 6, activation: "relu" });
    for (const m of [asModule, asFunction, reluLayer]) m.loadStateDict(named.stateDict());
    for (const m of [named, asModule, asFunction, reluLayer]) m.eval();
    tf.tidy(() => {
      const x = tf.randomNormal([3, 2, 8]);
      expect(maxDiff(asModule.forward(x), named.forward(x))).toBeLessThan(1e-6);
      expect(maxDiff(asFunction.forward(x), reluLayer.forward(x))).toBeGreaterThan(1e-4);
    });
    expect(() => new nn.TransformerEncoderLayer(8, 2, { activation: "tanh" as "relu" })).toThrow(
      /activation must be "relu", "gelu", a function/,
    );
    for (const m of [named, asModule, asFunction, reluLayer]) m.dispose();
  });

  it("runs the decoder with causal masks and refuses tgtIsCausal without tgtMask", () => {
    const layer = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 8, batchFirst: true });
    const decoder = new nn.TransformerDecoder(layer, 2);
    decoder.eval();
    tf.tidy(() => {
      const tgt = tf.randomNormal([2, 4, 8]);
      const memory = tf.randomNormal([2, 6, 8]);
      const tgtMask = nn.generateSquareSubsequentMask(4);
      const y = decoder.forward(tgt, memory, { tgtMask, tgtIsCausal: true });
      expect(y.shape).toEqual([2, 4, 8]);
      // Causal: the first target position does not see the later ones.
      const changed = tf.concat([tf.slice(tgt, [0, 0, 0], [2, 1, 8]), tf.randomNormal([2, 3, 8])], 1);
      const y2 = decoder.forward(changed, memory, { tgtMask });
      expect(maxDiff(tf.slice(y2, [0, 0, 0], [2, 1, 8]), tf.slice(y, [0, 0, 0], [2, 1, 8]))).toBeLessThan(
        1e-5,
      );
      expect(() => decoder.forward(tgt, memory, { tgtIsCausal: true })).toThrow(/needs attnMask/);
      expect(() => decoder.forward(tgt, memory, { tgt_mask: tgtMask } as object)).toThrow(
        /did you mean 'tgtMask'/,
      );
    });
    decoder.dispose();
    layer.dispose();
  });

  it("trains without leaking tensors (dropout on, masks, encoder and decoder)", () => {
    manualSeed(2);
    const encoder = new nn.TransformerEncoder(new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 8 }), 2);
    const decoder = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 8, normFirst: true });
    const params = [...encoder.parameters(), ...decoder.parameters()];
    const optimizer = new Adam(params, { lr: 1e-2 });
    const src = tf.randomNormal([5, 2, 8]);
    const tgt = tf.randomNormal([3, 2, 8]);
    const kpm = tf.tensor(
      [
        [false, false, false, true, true],
        [false, false, false, false, false],
      ],
      [2, 5],
      "bool",
    );
    const tgtMask = nn.generateSquareSubsequentMask(3);
    const losses: number[] = [];
    const step = () =>
      tf.tidy(() => {
        optimizer.zeroGrad();
        const loss = backward(() => {
          const memory = encoder.forward(src, { srcKeyPaddingMask: kpm });
          const y = decoder.forward(tgt, memory, { tgtMask, memoryKeyPaddingMask: kpm });
          return tf.mean(tf.square(y)) as tf.Scalar;
        }, params);
        losses.push(loss.dataSync()[0]!);
        optimizer.step();
      });
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    encoder.dispose();
    decoder.dispose();
  });
});
