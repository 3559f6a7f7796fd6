import { readFileSync } from "node:fs";
import { join } from "node:path";
import { manualSeed, nn, tf } from "@fulmen/core";
import { backendHasKernels, GELU_KERNEL, LAYER_NORM_KERNEL } from "@fulmen/core/plugin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOST_BACKEND, HostAccelerator } from "../src";

/** Runs `fn` on the host engine (fused kernels) and on tfjs's cpu backend (op by op); returns both results. */
async function onBoth(fn: () => tf.Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const results: Float32Array[][] = [];
  for (const backend of [HOST_BACKEND, "cpu"]) {
    await tf.setBackend(backend);
    const outs = tf.tidy(fn);
    results.push(outs.map((t) => t.dataSync() as Float32Array));
    tf.dispose(outs);
  }
  return [results[0]!, results[1]!];
}

function expectClose(actual: Float32Array, expected: Float32Array, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++)
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / (1 + Math.abs(expected[i]!)));
  expect(worst).toBeLessThan(tolerance);
}

describe("fused GELU and layer norm on the host engine", () => {
  beforeAll(async () => {
    await new HostAccelerator().setup();
    expect(backendHasKernels(GELU_KERNEL, LAYER_NORM_KERNEL)).toBe(true);
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  it("GELU and its gradient are PyTorch's (float32, its formula): within 2.5e-7 of its values, NaN where it has NaN", async () => {
    // PyTorch's CPU results (fixtures/gen_gelu.py), non-finite values as strings.
    const golden = JSON.parse(readFileSync(join(__dirname, "fixtures/torch-gelu.json"), "utf8")) as Record<
      "x" | "dy" | "y" | "dx",
      Array<number | string>
    >;
    const floats = (list: Array<number | string>) => Float32Array.from(list, Number);
    const gelu = new nn.GELU();
    const [host, cpu] = await onBoth(() => {
      const x = tf.tensor1d(floats(golden.x));
      const y = gelu.forward(x);
      const dx = tf.grad((input: tf.Tensor) => gelu.forward(input))(x, tf.tensor1d(floats(golden.dy)));
      return [y, dx];
    });
    for (const [k, name] of [
      [0, "y"],
      [1, "dx"],
    ] as const) {
      const torch = floats(golden[name]);
      let equal = 0;
      for (let i = 0; i < torch.length; i++) {
        const [h, t] = [host[k]![i]!, torch[i]!];
        if (Number.isNaN(t)) expect(h, `${name} at x = ${golden.x[i]}`).toBeNaN();
        else if (!Number.isFinite(t)) expect(h).toBe(t);
        else
          expect(Math.abs(h - t), `${name} at x = ${golden.x[i]}`).toBeLessThanOrEqual(
            2.5e-7 * (1 + Math.abs(t)),
          );
        if (h === t || (Number.isNaN(h) && Number.isNaN(t))) equal++;
      }
      // The same formula in the same precision: most values are PyTorch's to the bit (its exp is Sleef's).
      expect(equal / torch.length, name).toBeGreaterThan(name === "y" ? 0.8 : 0.35);
      // tfjs's op-by-op GELU evaluates the same formula in double: float32 rounding apart.
      expectClose(host[k]!.filter(Number.isFinite), cpu[k]!.filter(Number.isFinite), 5e-7);
    }
  });

  for (const [name, shape, normalized, affine] of [
    ["rows of 64 with weight and bias", [4, 8, 64], [64], true],
    ["a two-dimensional normalized shape", [6, 4, 16], [4, 16], true],
    ["no affine parameters", [5, 33], [33], false],
  ] as const) {
    it(`layer norm (${name}): values and gradients agree with the op-by-op layer to float precision`, async () => {
      manualSeed(3);
      const layer = new nn.LayerNorm([...normalized], { elementwiseAffine: affine });
      if (affine) {
        layer.weight!.assign(tf.randomNormal([...normalized], 1, 0.3, "float32", 8));
        layer.bias!.assign(tf.randomNormal([...normalized], 0, 0.3, "float32", 9));
      }
      const params = layer.parameters().map((p) => p.data);
      const [host, cpu] = await onBoth(() => {
        const x = tf.randomNormal([...shape], 0.5, 2, "float32", 10);
        const dy = tf.randomNormal([...shape], 0, 1, "float32", 11);
        const y = layer.forward(x);
        const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(layer.forward(input), dy)))(x);
        if (params.length === 0) return [y, dx];
        const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.forward(x), dy)) as tf.Scalar, params);
        return [y, dx, ...params.map((p) => grads[p.name]!)];
      });
      expect(host.length).toBe(affine ? 4 : 2);
      for (let k = 0; k < host.length; k++) expectClose(host[k]!, cpu[k]!, 2e-5);
      layer.dispose();
    });
  }

  it("a transformer block trains on the fused layers like op by op, without leaking tensors", async () => {
    const block = () => {
      manualSeed(5);
      return new nn.Sequential(
        new nn.LayerNorm(32),
        new nn.Linear(32, 128),
        new nn.GELU(),
        new nn.Linear(128, 32),
        new nn.LayerNorm(32),
      );
    };
    const losses: number[][] = [];
    for (const backend of [HOST_BACKEND, "cpu"]) {
      await tf.setBackend(backend);
      const model = block();
      const x = tf.randomNormal([16, 8, 32], 0, 1, "float32", 12);
      const target = tf.randomNormal([16, 8, 32], 0, 1, "float32", 13);
      const run: number[] = [];
      let tensorsAfterFirst = 0;
      for (let step = 0; step < 4; step++) {
        const loss = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(
            () => tf.mean(tf.square(tf.sub(model.forward(x), target))) as tf.Scalar,
            model.parameters().map((p) => p.data),
          );
          for (const p of model.parameters()) p.assign(tf.sub(p.data, tf.mul(grads[p.data.name]!, 0.1)));
          return value.dataSync()[0]!;
        });
        run.push(loss);
        if (step === 0) tensorsAfterFirst = tf.memory().numTensors;
        else expect(tf.memory().numTensors).toBe(tensorsAfterFirst);
      }
      losses.push(run);
      tf.dispose([x, target]);
      model.dispose();
    }
    expect(losses[0]![3]!).toBeLessThan(losses[0]![0]!);
    losses[0]!.forEach((loss, i) => {
      expect(Math.abs(loss - losses[1]![i]!)).toBeLessThan(1e-5 * (1 + Math.abs(losses[1]![i]!)));
    });
  });
});
