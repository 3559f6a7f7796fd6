import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { manualSeed, nn, tf } from "../src/index";
import { backendFeatures, declareBackendFeatures } from "../src/plugin";

/** Runs `fn` with tfjs's cpu backend declaring (or not) channels-first layers: its kernels run NCHW too. */
async function withChannelsFirst<T>(on: boolean, fn: () => T | Promise<T>): Promise<T> {
  declareBackendFeatures("cpu", { channelsFirst: on });
  try {
    return await fn();
  } finally {
    declareBackendFeatures("cpu", { channelsFirst: false });
  }
}

/** A layer of one tensor in and one out. */
type Layer = nn.Module & { forward(x: tf.Tensor): tf.Tensor };

/** The layer's output and the gradients of a weighted sum of it for the input and every parameter. */
function outputAndGradients(layer: Layer, x: tf.Tensor): number[][] {
  return tf.tidy(() => {
    const params = layer.parameters().map((p) => p.data as tf.Variable);
    const weights = tf.randomNormal(tf.tidy(() => layer.forward(x)).shape, 0, 1, "float32", 3);
    const loss = (input: tf.Tensor) => tf.sum(tf.mul(layer.forward(input), weights)) as tf.Scalar;
    const paramGrads = params.length > 0 ? tf.variableGrads(() => loss(x), params).grads : {};
    return [layer.forward(x), tf.grad(loss)(x), ...params.map((p) => paramGrads[p.name]!)].map((t) =>
      Array.from(t.dataSync()),
    );
  });
}

/** The input shapes of the Transpose kernels that a forward and backward pass of `layer` runs. */
async function transposedShapes(layer: Layer, x: tf.Tensor): Promise<number[][]> {
  const profile = await tf.profile(() =>
    tf.tidy(() => tf.grad((v: tf.Tensor) => tf.sum(layer.forward(v)))(x)),
  );
  return profile.kernels.filter((k) => k.name === "Transpose").map((k) => k.inputShapes[0]!);
}

describe("backend features", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });
  afterEach(() => declareBackendFeatures("cpu", { channelsFirst: false }));

  it("are none for a backend no plugin described, and declarations merge", () => {
    expect(backendFeatures("no-such-backend")).toEqual({ channelsFirst: false });
    declareBackendFeatures("cpu", { channelsFirst: true });
    declareBackendFeatures("cpu", {});
    expect(backendFeatures()).toEqual({ channelsFirst: true });
  });

  const layers: Array<[string, () => Layer, number[]]> = [
    ["3×3, padding 1", () => new nn.Conv2d(3, 4, 3, { padding: 1 }), [2, 3, 6, 5]],
    ["stride 2, no bias", () => new nn.Conv2d(2, 3, 3, { stride: 2, bias: false }), [2, 2, 7, 7]],
    [
      "groups 2, padding [1, 2]",
      () => new nn.Conv2d(4, 6, [3, 2], { groups: 2, padding: [1, 2] }),
      [1, 4, 5, 6],
    ],
    ["padding same", () => new nn.Conv2d(2, 2, 4, { padding: "same" }), [3, 2, 5, 5]],
    ["max pooling, padded", () => new nn.MaxPool2d(3, { stride: 2, padding: 1 }), [2, 3, 7, 6]],
    ["average pooling", () => new nn.AvgPool2d([2, 3]), [2, 3, 6, 7]],
  ];
  for (const [label, make, shape] of layers) {
    it(`NCHW layers give the same values and gradients, with no transposes where the backend runs them: ${label}`, async () => {
      manualSeed(1);
      const layer = make();
      const x = tf.randomNormal(shape, 0, 1, "float32", 2);
      const channelsLast = outputAndGradients(layer, x);
      const channelsFirst = await withChannelsFirst(true, () => outputAndGradients(layer, x));
      expect(channelsFirst.length).toBe(channelsLast.length);
      channelsFirst.forEach((values, k) => {
        expect(values.length).toBe(channelsLast[k]!.length);
        for (const [i, v] of values.entries())
          expect(Math.abs(v - channelsLast[k]![i]!), `tensor ${k}[${i}]`).toBeLessThan(1e-4);
      });
      // Activations (batch first) go to NHWC and back only without the feature; a filter is transposed to
      // tfjs's [kH, kW, in, out] either way.
      const isActivation = (s: number[]) => s.length === 4 && s[0] === shape[0];
      expect((await transposedShapes(layer, x)).some(isActivation)).toBe(true);
      expect((await withChannelsFirst(true, () => transposedShapes(layer, x))).filter(isActivation)).toEqual(
        [],
      );
      layer.dispose();
      x.dispose();
    });
  }
});
