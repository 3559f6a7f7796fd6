import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { nn, tf } from "../src/index";
import { declareBackendFeatures } from "../src/plugin";

interface Flat {
  shape: number[];
  dtype: string;
  data: number[];
}
interface FunctionalCase {
  name: string;
  fn: string;
  tensors: Array<Flat | null>;
  args: unknown[];
  options: Record<string, unknown>;
  output: Flat;
  R: Flat;
  scalar: number;
  grads: Array<Flat | null>;
}

const golden = JSON.parse(
  readFileSync(join(__dirname, "fixtures/torch-layers-convolution.json"), "utf8"),
) as { functional: FunctionalCase[] };

/** The parity replay's error: absolute below 1, relative above. */
function maxError(actual: tf.Tensor, expected: Flat): number {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  return expected.data.reduce((worst, e, i) => {
    const err = Math.abs(a[i]! - e) / Math.max(1, Math.abs(e));
    return Math.max(worst, Number.isNaN(err) ? Number.POSITIVE_INFINITY : err);
  }, 0);
}

const decode = (t: Flat) => tf.tensor(t.data, t.shape, "float32");
type Functional = (...args: unknown[]) => tf.Tensor;

afterEach(() => declareBackendFeatures("cpu", { channelsFirst: false }));

// Both layouts: tfjs's NHWC (transposes) and PyTorch's NCHW (a backend declaring channelsFirst).
for (const channelsFirst of [false, true]) {
  describe(`nn.functional's convolution family against PyTorch 1.13 (channelsFirst ${channelsFirst})`, () => {
    it.each(golden.functional.map((c) => [c.name, c] as const))("%s", (_, c) => {
      declareBackendFeatures("cpu", { channelsFirst });
      const fn = (nn.functional as unknown as Record<string, Functional>)[c.fn];
      expect(fn, `nn.functional.${c.fn}`).toBeTypeOf("function");
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const tensors = c.tensors.map((t) => (t === null ? null : decode(t)));
        const call = (...ts: Array<tf.Tensor | null>) => fn!(...ts, ...c.args, c.options);
        const withGrad = tensors.filter((t, i): t is tf.Tensor => t !== null && c.grads[i] !== null);
        const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => {
          let k = 0;
          const ts = tensors.map((t, i) => (t !== null && c.grads[i] !== null ? xs[k++]! : t));
          return tf.sum(tf.mul(call(...ts), decode(c.R))) as tf.Scalar;
        })(withGrad);
        expect(maxError(call(...tensors), c.output)).toBeLessThan(2e-5);
        expect(Math.abs(value.dataSync()[0]! - c.scalar) / Math.max(1, Math.abs(c.scalar))).toBeLessThan(
          2e-5,
        );
        let k = 0;
        c.grads.forEach((g) => {
          if (g !== null) expect(maxError(grads[k++]!, g)).toBeLessThan(2e-5);
        });
      });
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe("convolution family: PyTorch's errors and edge behaviour", () => {
  const F = nn.functional;

  it("pad takes PyTorch's last-dimension-first order and crops with negative constant padding", () => {
    const x = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    // [left, right] of the last dimension, then [top, bottom] of the first.
    expect(F.pad(x, [1, 0, 0, 1], { value: 9 }).arraySync()).toEqual([
      [9, 1, 2, 3],
      [9, 4, 5, 6],
      [9, 9, 9, 9],
    ]);
    expect(F.pad(x, [-1, -1]).arraySync()).toEqual([[2], [5]]);
    const row = tf.tensor3d([[[1, 2, 3]]]);
    expect(F.pad(row, [2, 1], { mode: "reflect" }).arraySync()).toEqual([[[3, 2, 1, 2, 3, 2]]]);
    expect(F.pad(row, [1, 2], { mode: "circular" }).arraySync()).toEqual([[[3, 1, 2, 3, 1, 2]]]);
    expect(F.pad(row, [2, 1], { mode: "replicate" }).arraySync()).toEqual([[[1, 1, 1, 2, 3, 3]]]);
  });

  it("refuses what PyTorch refuses, saying how to fix it", () => {
    const x = tf.zeros([1, 2, 3]);
    expect(() => F.pad(x, [3, 0], { mode: "reflect" })).toThrow(
      /reflect padding of 3 is too large .* at most 2/,
    );
    expect(() => F.pad(x, [1, 1, 1, 1, 1, 1], { mode: "replicate" })).toThrow(/last 1 to 3 dimensions/);
    expect(() => F.pad(x, [1])).toThrow(/even number of integers/);
    expect(() => new nn.ConvTranspose2d(2, 2, 3, { stride: 2, outputPadding: 2 })).toThrow(
      /outputPadding \[2,2\] must be smaller than either the stride/,
    );
    expect(() => new nn.ConvTranspose1d(2, 2, 3, { paddingMode: "reflect" as never })).toThrow(
      /only paddingMode "zeros"/,
    );
    expect(() => new nn.Conv1d(2, 2, 3, { stride: 2, padding: "same" })).toThrow(/not supported for strided/);
    expect(() => new nn.Conv1d(3, 2, 3, { groups: 2 })).toThrow(/divisible by groups/);
    expect(() => new nn.Conv1d(2, 2, 3).forward(tf.zeros([1, 3, 5]))).toThrow(/input has 3 channels/);
    expect(() => new nn.AvgPool1d(2, { divisorOverride: 2 } as never)).toThrow(
      /unknown option 'divisorOverride'/,
    );
    expect(() => new nn.MaxPool1d(2, { padding: 2 })).toThrow(
      /padding \[2\] must be at most half the kernel size \[2\]/,
    );
    expect(() => new nn.AdaptiveAvgPool2d([2, 0])).toThrow(/outputSize must be a positive integer/);
    expect(() => F.interpolate(tf.zeros([1, 1, 2, 2]), { size: 3, scaleFactor: 2 })).toThrow(
      /exactly one of size and scaleFactor/,
    );
    expect(() => F.interpolate(tf.zeros([1, 1, 2]), { size: 3, mode: "bilinear" })).toThrow(
      /bilinear mode needs 4-D input/,
    );
    expect(() => F.interpolate(tf.zeros([1, 1, 2]), { size: 3, alignCorners: true })).toThrow(
      /alignCorners applies/,
    );
    expect(() => F.conv2d(tf.zeros([1, 3, 4, 4]), tf.zeros([2, 2, 3, 3]))).toThrow(/expects 2/);
    expect(() => new nn.Unflatten(1, [4, -1]).forward(tf.zeros([2, 6]))).toThrow(/do not multiply/);
    expect(() => new nn.Upsample({ scaleFactor: 2, mode: "bogus" as never })).toThrow(/unknown mode 'bogus'/);
    expect(() => F.interpolate(tf.zeros([1, 1, 2, 2]), { size: 3, mode: "trilinear" })).toThrow(
      /trilinear mode needs 5-D input/,
    );
    expect(() => F.interpolate(tf.zeros([1, 1, 2]), { size: 3, mode: "bicubic" })).toThrow(
      /bicubic mode needs 4-D input/,
    );
    expect(() => new nn.Upsample({})).toThrow(/exactly one of size and scaleFactor/);
    // PyTorch's later positional arguments go by name in the options object, never silently dropped.
    expect(() => F.maxPool2d(tf.zeros([1, 1, 4, 4]), 2, 1 as never)).toThrow(/expected an options object/);
    expect(() => F.conv2d(tf.zeros([1, 1, 4, 4]), tf.zeros([1, 1, 2, 2]), { stride: 2 } as never)).toThrow(
      /the third argument is the bias/,
    );
    expect(() =>
      new nn.ConvTranspose2d(1, 1, 3, { stride: 2 }).forward(tf.zeros([1, 1, 3, 3]), { outputSize: [9, 9] }),
    ).toThrow(/dimension 0 must be between 7 and 8/);
    x.dispose();
  });

  it("matches the modules: nn.Conv2d is nn.functional.conv2d with its parameters", () => {
    const conv = new nn.Conv2d(4, 6, [3, 2], { stride: 2, padding: [1, 0], dilation: [2, 1], groups: 2 });
    const x = tf.randomNormal([2, 4, 9, 7]);
    const viaModule = conv.forward(x);
    const viaFunction = F.conv2d(x, conv.weight.data, conv.bias!.data, {
      stride: 2,
      padding: [1, 0],
      dilation: [2, 1],
      groups: 2,
    });
    expect(
      maxError(viaModule, {
        shape: viaFunction.shape,
        dtype: "float32",
        data: Array.from(viaFunction.dataSync()),
      }),
    ).toBe(0);
    tf.dispose([x, viaModule, viaFunction]);
    conv.dispose();
  });

  it("initialises like PyTorch: ConvTranspose's fan-in is out/groups · kernel, bias within 1/√fanIn", () => {
    const ct = new nn.ConvTranspose2d(4, 6, 3, { groups: 2 });
    expect(ct.weight.shape).toEqual([4, 3, 3, 3]);
    const bound = 1 / Math.sqrt(3 * 9);
    const w = ct.weight.data.dataSync();
    expect(Math.max(...Array.from(w, Math.abs))).toBeLessThanOrEqual(bound + 1e-7);
    expect(Math.max(...Array.from(w, Math.abs))).toBeGreaterThan(bound * 0.5);
    expect(Math.max(...Array.from(ct.bias!.data.dataSync(), Math.abs))).toBeLessThanOrEqual(bound + 1e-7);
    expect(Object.keys(ct.stateDict())).toEqual(["weight", "bias"]);
    ct.dispose();
  });

  it("trains without leaking tensors: a 1-D/2-D encoder-decoder through every new layer", () => {
    const model = new nn.Sequential(
      new nn.Conv1d(2, 4, 3, { padding: 1, paddingMode: "circular" }),
      new nn.MaxPool1d(2),
      new nn.AvgPool1d(3, { stride: 1, padding: 1 }),
      new nn.AdaptiveAvgPool1d(6),
      new nn.Unflatten(2, [2, 3]),
      new nn.ConvTranspose2d(4, 3, 3, { stride: 2, padding: 1, outputPadding: 1 }),
      new nn.Upsample({ scaleFactor: 2, mode: "bilinear" }),
      new nn.AdaptiveMaxPool2d([3, 4]),
      new nn.AdaptiveAvgPool2d(1),
    );
    const x = tf.randomNormal([2, 2, 8]);
    const params = model.parameters();
    const step = () => {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tf.square(model.forward(x) as tf.Tensor)) as tf.Scalar,
        params.map((p) => p.data as tf.Variable),
      );
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    expect((model.forward(x) as tf.Tensor).shape).toEqual([2, 3, 1, 1]);
    x.dispose();
    model.dispose();
  });
});
