import { afterEach, describe, expect, it } from "vitest";
import { backward, manualSeed, nn, tf } from "../src/index";
import { declareBackendFeatures } from "../src/plugin";

interface ConvSpec {
  stride: [number, number];
  dilation: [number, number];
  /** [top, bottom, left, right] */
  pad: [number, number, number, number];
  groups: number;
  mode: "zeros" | "reflect" | "replicate" | "circular";
}

/** The flat index of x[b][c][i][j] in an NCHW array, with PyTorch's padding modes outside the input. */
function at(shape: number[], b: number, c: number, i: number, j: number, mode: ConvSpec["mode"]) {
  const [, ch, h, w] = shape as [number, number, number, number];
  const fold = (v: number, n: number): number | null => {
    if (v >= 0 && v < n) return v;
    if (mode === "zeros") return null;
    if (mode === "replicate") return Math.min(Math.max(v, 0), n - 1);
    if (mode === "circular") return ((v % n) + n) % n;
    return v < 0 ? -v : 2 * (n - 1) - v; // reflect
  };
  const ii = fold(i, h);
  const jj = fold(j, w);
  return ii === null || jj === null ? null : ((b * ch + c) * h + ii) * w + jj;
}

/**
 * A direct convolution in loops, independent of tfjs: the output, and the gradients of sum(y · r) for the
 * input and the weight (each input element a tap reads gets r·w, each weight r·x).
 */
function reference(
  x: Float32Array,
  xShape: number[],
  w: Float32Array,
  wShape: number[],
  r: Float32Array | null,
  s: ConvSpec,
) {
  const [n, , h, wd] = xShape as [number, number, number, number];
  const [o, cg, kh, kw] = wShape as [number, number, number, number];
  const oh = Math.floor((h + s.pad[0] + s.pad[1] - s.dilation[0] * (kh - 1) - 1) / s.stride[0]) + 1;
  const ow = Math.floor((wd + s.pad[2] + s.pad[3] - s.dilation[1] * (kw - 1) - 1) / s.stride[1]) + 1;
  const y = new Float32Array(n * o * oh * ow);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  const perGroup = o / s.groups;
  for (let b = 0; b < n; b++)
    for (let oc = 0; oc < o; oc++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          const out = ((b * o + oc) * oh + i) * ow + j;
          let sum = 0;
          for (let ic = 0; ic < cg; ic++)
            for (let u = 0; u < kh; u++)
              for (let v = 0; v < kw; v++) {
                const c = Math.floor(oc / perGroup) * cg + ic;
                const xi = at(
                  xShape,
                  b,
                  c,
                  i * s.stride[0] + u * s.dilation[0] - s.pad[0],
                  j * s.stride[1] + v * s.dilation[1] - s.pad[2],
                  s.mode,
                );
                if (xi === null) continue;
                const wi = ((oc * cg + ic) * kh + u) * kw + v;
                sum += x[xi]! * w[wi]!;
                if (r !== null) {
                  dx[xi]! += r[out]! * w[wi]!;
                  dw[wi]! += r[out]! * x[xi]!;
                }
              }
          y[out] = sum;
        }
  return { y, shape: [n, o, oh, ow], dx, dw };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  expect(actual.length, label).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    expect(Math.abs(actual[i]! - expected[i]!), `${label}[${i}]`).toBeLessThan(1e-4);
}

afterEach(() => declareBackendFeatures("cpu", { channelsFirst: false }));

const cases: Array<[string, ConstructorParameters<typeof nn.Conv2d>, number[], ConvSpec]> = [
  [
    "dilation 2, groups 2, padding 1, no bias",
    [4, 6, 3, { dilation: 2, groups: 2, padding: 1, bias: false }],
    [1, 4, 8, 9],
    { stride: [1, 1], dilation: [2, 2], pad: [1, 1, 1, 1], groups: 2, mode: "zeros" },
  ],
  [
    "stride 2 with dilation 2 (tfjs refuses the pair)",
    [2, 3, 3, { stride: 2, dilation: 2, padding: 2 }],
    [2, 2, 9, 9],
    { stride: [2, 2], dilation: [2, 2], pad: [2, 2, 2, 2], groups: 1, mode: "zeros" },
  ],
  [
    "padding same with an even kernel and dilation [1, 2]",
    [2, 3, [4, 3], { padding: "same", dilation: [1, 2] }],
    [1, 2, 7, 8],
    { stride: [1, 1], dilation: [1, 2], pad: [1, 2, 2, 2], groups: 1, mode: "zeros" },
  ],
  [
    "reflect padding",
    [2, 2, 3, { padding: [1, 2], paddingMode: "reflect" }],
    [1, 2, 5, 6],
    { stride: [1, 1], dilation: [1, 1], pad: [1, 1, 2, 2], groups: 1, mode: "reflect" },
  ],
  [
    "replicate padding with dilation",
    [2, 2, 2, { padding: 2, dilation: 2, paddingMode: "replicate" }],
    [1, 2, 5, 5],
    { stride: [1, 1], dilation: [2, 2], pad: [2, 2, 2, 2], groups: 1, mode: "replicate" },
  ],
  [
    "circular padding, stride 2",
    [1, 2, 3, { padding: 1, stride: 2, paddingMode: "circular" }],
    [2, 1, 6, 5],
    { stride: [2, 2], dilation: [1, 1], pad: [1, 1, 1, 1], groups: 1, mode: "circular" },
  ],
];

for (const channelsFirst of [false, true]) {
  describe(`Conv2d trains dilated and padded convolutions as PyTorch (${channelsFirst ? "NCHW" : "NHWC"} path)`, () => {
    for (const [label, args, xShape, spec] of cases) {
      it(label, () => {
        declareBackendFeatures("cpu", { channelsFirst });
        manualSeed(4);
        const conv = new nn.Conv2d(...args);
        const x = tf.randomNormal(xShape, 0, 1, "float32", 5);
        const y = conv.forward(x);
        const r = tf.randomNormal(y.shape, 0, 1, "float32", 6);
        const ref = reference(
          x.dataSync() as Float32Array,
          xShape,
          conv.weight.data.dataSync() as Float32Array,
          conv.weight.shape,
          r.dataSync() as Float32Array,
          spec,
        );
        expect(y.shape).toEqual(ref.shape);
        const bias = conv.bias === null ? null : conv.bias.data.dataSync();
        const perMap = ref.shape[2]! * ref.shape[3]!;
        const expected = ref.y.map(
          (v, i) => v + (bias === null ? 0 : bias[Math.floor(i / perMap) % ref.shape[1]!]!),
        );
        expectClose(y.dataSync(), expected, "output");
        // The weight's gradient through Fulmen's backward(), the input's through tf.grad.
        backward(() => tf.sum(tf.mul(conv.forward(x), r)) as tf.Scalar, conv).dispose();
        expectClose(conv.weight.grad!.dataSync(), ref.dw, "weight grad");
        const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(conv.forward(v), r)))(x);
        expectClose(dx.dataSync(), ref.dx, "input grad");
        if (conv.bias !== null) {
          const rs = r.dataSync();
          const db = new Float64Array(ref.shape[1]!);
          rs.forEach((v, i) => {
            db[Math.floor(i / perMap) % ref.shape[1]!]! += v;
          });
          expectClose(conv.bias.grad!.dataSync(), db, "bias grad");
        }
        conv.dispose();
        tf.dispose([x, y, r, dx]);
      });
    }
  });
}

describe("Conv2d padding modes", () => {
  it("refuses an unknown mode and reflect padding as large as the input", () => {
    expect(() => new nn.Conv2d(1, 1, 3, { paddingMode: "mirror" as never })).toThrow(
      /unknown paddingMode 'mirror'/,
    );
    expect(() =>
      new nn.Conv2d(1, 1, 5, { padding: 3, paddingMode: "reflect" }).forward(tf.zeros([1, 1, 3, 3])),
    ).toThrow(/reflect padding of 3 is too large for a dimension of size 3/);
  });
});
