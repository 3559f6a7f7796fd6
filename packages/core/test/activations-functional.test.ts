import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FulmenError, nn, tf } from "../src/index";
import { halfFormatOf, markHalf, toCamelCase, withAutocast } from "../src/plugin";

/** A tensor as the golden files store it. */
interface Flat {
  shape: number[];
  dtype: string;
  data: Array<number | string>;
}

interface ActivationCase {
  name: string;
  inputs: Flat[];
  R: Flat;
  output: Flat;
  input_grads: Flat[];
  functional?: { fn: string; kwargs: Record<string, unknown>; tensors: Flat[] };
}

const golden = JSON.parse(
  readFileSync(join(__dirname, "fixtures/torch-layers-activations.json"), "utf8"),
) as { cases: ActivationCase[] };

function decode(t: Flat): tf.Tensor {
  return tf.tensor(t.data.map(Number), t.shape, "float32");
}

function expectClose(actual: ArrayLike<number>, expected: Array<number | string>, tol = 2e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const e = Number(expected[i]);
    const err = Math.abs(actual[i]! - e) / Math.max(1, Math.abs(e));
    expect(err, `element ${i}: ${actual[i]} vs ${e}`).toBeLessThanOrEqual(tol);
  }
}

type Fn = (...args: unknown[]) => tf.Tensor;

/** `nn.functional.<camelName>(input, ...tensors, options)` as a PyTorch call `F.<fn>(input, *tensors, **kwargs)`. */
function callFunctional(
  fn: string,
  x: tf.Tensor,
  tensors: tf.Tensor[],
  kwargs: Record<string, unknown>,
): tf.Tensor {
  const f = (nn.functional as unknown as Record<string, Fn>)[toCamelCase(fn)];
  expect(typeof f, `nn.functional.${toCamelCase(fn)}`).toBe("function");
  const options = Object.fromEntries(Object.entries(kwargs).map(([k, v]) => [toCamelCase(k), v]));
  return Object.keys(options).length > 0 ? f!(x, ...tensors, options) : f!(x, ...tensors);
}

describe("nn.functional activations against PyTorch's torch.nn.functional", () => {
  const cases = golden.cases.filter((c) => c.functional !== undefined);

  it("covers every functional form the golden file records", () => {
    const fns = new Set(cases.map((c) => c.functional!.fn));
    for (const fn of [
      "relu",
      "gelu",
      "silu",
      "tanh",
      "sigmoid",
      "selu",
      "mish",
      "hardswish",
      "hardsigmoid",
      "leaky_relu",
      "elu",
      "softplus",
      "hardtanh",
      "softmax",
      "log_softmax",
      "glu",
      "prelu",
      "relu6",
      "logsigmoid",
      "softsign",
      "tanhshrink",
      "celu",
      "threshold",
      "hardshrink",
      "softshrink",
      "softmin",
      "rrelu",
    ])
      expect(fns.has(fn), fn).toBe(true);
  });

  for (const c of cases) {
    it(`${c.name}: F.${c.functional!.fn} output and input gradient`, () => {
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const x = decode(c.inputs[0]!);
        const tensors = c.functional!.tensors.map(decode);
        const R = decode(c.R);
        const f = (v: tf.Tensor) => callFunctional(c.functional!.fn, v, tensors, c.functional!.kwargs);
        expectClose(f(x).dataSync(), c.output.data);
        const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v), R)))(x);
        expectClose(grad.dataSync(), c.input_grads[0]!.data);
      });
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

/** d/dx of `fn` at each of `points`. */
function gradAt(fn: (x: tf.Tensor) => tf.Tensor, points: number[]): number[] {
  return tf.tidy(() =>
    Array.from(
      tf
        .grad((x: tf.Tensor) => tf.sum(fn(x)))(tf.tensor1d(points))
        .dataSync(),
    ),
  );
}

describe("activation gradients at the kinks follow PyTorch's derivatives.yaml", () => {
  const F = nn.functional;

  it("relu is 0 at 0; leakyRelu takes the slope at 0; elu takes alpha at 0", () => {
    expect(gradAt(F.relu, [0, 1, -1])).toEqual([0, 1, 0]);
    expectClose(
      gradAt((x) => F.leakyRelu(x, { negativeSlope: 0.2 }), [0, 1, -1]),
      [0.2, 1, 0.2],
    );
    expectClose(
      gradAt((x) => F.elu(x, { alpha: 0.7 }), [0, 1]),
      [0.7, 1],
    );
  });

  it("hardtanh is 0 at its bounds, hardsigmoid 0 at ±3, hardswish -0.5 at -3 and 1.5 at 3 in a short tensor", () => {
    expect(gradAt((x) => F.hardtanh(x, { minVal: -2, maxVal: 2 }), [-2, 2, 0, -3, 3])).toEqual([
      0, 0, 1, 0, 0,
    ]);
    expectClose(gradAt(F.hardsigmoid, [-3, 3, 0]), [0, 0, 1 / 6]);
    // five elements: all in PyTorch's scalar CPU loop, whose middle branch includes 3 (torch 1.13 gives 1.5)
    expectClose(gradAt(F.hardswish, [-3, 3, 0, -4, 4]), [-0.5, 1.5, 0.5, 0, 1]);
  });

  it("hardswish at exactly 3 is 1 in PyTorch's vectorised steps of 16 and 1.5 in the scalar tail after them", () => {
    // torch 1.13 on 17 threes: sixteen 1s (one vectorised step), then 1.5 for the last element
    expectClose(gradAt(F.hardswish, new Array<number>(17).fill(3)), [...new Array<number>(16).fill(1), 1.5]);
    expectClose(gradAt(F.hardswish, new Array<number>(32).fill(3)), new Array<number>(32).fill(1));
  });

  it("softplus is the identity above the threshold and stays finite where exp overflows; so does mish", () => {
    const big = [100, -100, 200];
    expectClose(
      gradAt((x) => F.softplus(x), big),
      [1, 0, 1],
    );
    const y = tf.tidy(() => Array.from(F.softplus(tf.tensor1d(big)).dataSync()));
    expect(y[0]).toBe(100);
    expect(Number.isFinite(y[1]!)).toBe(true);
    expectClose(gradAt(F.mish, big), [1, 0, 1]);
    expectClose(
      gradAt((x) => F.elu(x), [-200]),
      [0],
    );
  });

  it("prelu gives the slope at 0 and no weight gradient from x = 0", () => {
    tf.tidy(() => {
      const w = tf.tensor1d([0.3]);
      const x = tf.tensor1d([0, -2, 1]);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(F.prelu(a, b)))([x, w]);
      expectClose(dx!.dataSync(), [0.3, 0.3, 1]);
      expectClose(dw!.dataSync(), [-2]);
    });
  });
});

describe("activation modules and functions refuse what PyTorch refuses", () => {
  const F = nn.functional;

  it("names the problem and the fix", () => {
    const x = tf.zeros([2, 3]);
    expect(() => F.glu(x)).toThrow(/even size/);
    expect(() => F.softmax(x, { dim: 2 })).toThrow(/out of range/);
    expect(() => F.softmax(x, {})).toThrow(/pass the dimension/);
    expect(() => F.leakyRelu(x, { negative_slope: 0.1 } as never)).toThrow(/did you mean 'negativeSlope'/);
    expect(() => F.hardtanh(x, { minVal: 1, maxVal: 0 })).toThrow(FulmenError);
    expect(() => F.prelu(x, tf.ones([2]))).toThrow(/3 channels/);
    expect(() => new nn.PReLU(0)).toThrow(/positive integer/);
    expect(() => new nn.GELU({ approximate: "erf" as "tanh" })).toThrow(/'none' or 'tanh'/);
    x.dispose();
  });

  it("Softmax without a dim uses PyTorch's legacy dimension (0 for 1-D and 3-D, 1 for 2-D)", () => {
    tf.tidy(() => {
      const x = tf.tensor2d([
        [1, 2],
        [3, 5],
      ]);
      expectClose(new nn.Softmax().forward(x).dataSync(), Array.from(F.softmax(x, 1).dataSync()));
      const x3 = tf.reshape(x, [2, 1, 2]);
      expectClose(new nn.LogSoftmax().forward(x3).dataSync(), Array.from(F.logSoftmax(x3, 0).dataSync()));
    });
  });

  it("PReLU is PyTorch's module: weight [numParameters] filled with init, trainable", () => {
    const m = new nn.PReLU(3, 0.1);
    expect(Object.keys(m.stateDict())).toEqual(["weight"]);
    expectClose(m.weight.data.dataSync(), [0.1, 0.1, 0.1]);
    m.dispose();
  });
});

describe("functional forms of the existing layers share the modules' code", () => {
  const F = nn.functional;

  it("linear, dropout, embedding and oneHot", () => {
    tf.tidy(() => {
      const lin = new nn.Linear(3, 2);
      const x = tf.tensor3d([[[1, 2, 3]], [[-1, 0, 4]]]);
      expectClose(
        F.linear(x, lin.weight.data, lin.bias!.data).dataSync(),
        Array.from(lin.forward(x).dataSync()),
        0,
      );
      // A 1-D weight: one output, its dimension dropped (PyTorch's matmul semantics).
      expect(F.linear(x, tf.tensor1d([1, 1, 1])).shape).toEqual([2, 1]);
      expect(() => F.linear(x, tf.ones([2, 4]))).toThrow(/takes 4 features/);
      lin.dispose();

      expect(F.dropout(x, { p: 0.5, training: false })).toBe(x);
      expect(Array.from(F.dropout(x, { p: 1 }).dataSync())).toEqual([0, 0, 0, 0, 0, 0]);

      const w = tf.tensor2d([
        [1, 2],
        [3, 4],
        [5, 6],
      ]);
      const idx = tf.tensor1d([2, 0, 2], "int32");
      expect(Array.from(F.embedding(idx, w).dataSync())).toEqual([5, 6, 1, 2, 5, 6]);
      const g = tf.grad((t: tf.Tensor) => tf.sum(F.embedding(idx, t, { paddingIdx: 2 })))(w);
      expect(Array.from(g.dataSync())).toEqual([1, 1, 0, 0, 0, 0]);
      expect(() => F.embedding(idx, w, { maxNorm: 1 })).toThrow(/tf.Variable/);
      const v = tf.variable(w);
      F.embedding(idx, v, { maxNorm: 1 });
      expect(v.arraySync()[1]).toEqual([3, 4]); // rows not looked up are left alone
      expect(Math.hypot(...(v.arraySync()[0] as number[]))).toBeLessThanOrEqual(1);
      v.dispose();

      const labels = tf.tensor2d(
        [
          [0, 2],
          [1, 3],
        ],
        undefined,
        "int32",
      );
      const hot = F.oneHot(labels);
      expect(hot.shape).toEqual([2, 2, 4]);
      expect(hot.dtype).toBe("int32");
      expect(hot.arraySync()).toEqual([
        [
          [1, 0, 0, 0],
          [0, 0, 1, 0],
        ],
        [
          [0, 1, 0, 0],
          [0, 0, 0, 1],
        ],
      ]);
      expect(F.oneHot(labels, { numClasses: 6 }).shape).toEqual([2, 2, 6]);
      expect(() => F.oneHot(labels, { numClasses: 3 })).toThrow(/raise numClasses/);
    });
  });
});

describe("activations under autocast", () => {
  it("softmax, logSoftmax and softplus run in float32 in a mixed region, as PyTorch's autocast; relu keeps half", () => {
    const format = { dtype: "float16" as const, round: (t: tf.Tensor) => tf.tidy(() => t) };
    tf.tidy(() => {
      const x = markHalf(tf.tensor2d([[1, 2, 3]]), format);
      withAutocast({ format, mode: "mixed" }, () => {
        for (const y of [
          nn.functional.softmax(x, 1),
          nn.functional.logSoftmax(x, -1),
          nn.functional.softplus(x),
        ])
          expect(halfFormatOf(y)).toBeUndefined();
        expect(halfFormatOf(nn.functional.relu(x))).toBe(format);
      });
      expect(halfFormatOf(nn.functional.softmax(x, 1))).toBe(format);
    });
  });
});
