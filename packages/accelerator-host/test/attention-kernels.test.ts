import { manualSeed, nn, tf } from "@fulmen/core";
import { ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL, backendHasKernels } from "@fulmen/core/plugin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOST_BACKEND, HostAccelerator } from "../src";
import { expectFlatTensorCount } from "./tensor-count";

/** The largest difference relative to 1 + |expected|. */
function worst(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let most = 0;
  for (let i = 0; i < actual.length; i++) {
    const [a, b] = [actual[i]!, expected[i]!];
    if (Number.isNaN(b) || !Number.isFinite(b))
      expect(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))).toBe(true);
    else most = Math.max(most, Math.abs(a - b) / (1 + Math.abs(b)));
  }
  return most;
}

/** Runs `fn` with the host engine's attention kernels unregistered (attention then runs op by op). */
async function withoutKernels<T>(fn: () => Promise<T>): Promise<T> {
  const configs = [ATTENTION_KERNEL, ATTENTION_GRAD_KERNEL].map((name) => tf.getKernel(name, HOST_BACKEND)!);
  for (const config of configs) tf.unregisterKernel(config.kernelName, HOST_BACKEND);
  try {
    return await fn();
  } finally {
    for (const config of configs) tf.registerKernel(config);
  }
}

type MaskKind =
  | "none"
  | "causal"
  | "bool [L, S]"
  | "float [N, H, L, S]"
  | "float [N, 1, 1, S]"
  | "float [H, L, S]";

/**
 * scaledDotProductAttention's output and the gradients of a loss reading it with respect to q, k, v (and a float
 * mask), for q `[2, 3, 5, 4]`, k and v `[2, 3, 6, 4|7]`, on `backend`.
 */
async function sdpaRun(backend: string, mask: MaskKind): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const q = tf.randomNormal([2, 3, 5, 4], 0, 1, "float32", 1);
  const k = tf.randomNormal([2, 3, 6, 4], 0, 1, "float32", 2);
  const v = tf.randomNormal([2, 3, 6, 7], 0, 1, "float32", 3);
  const maskShape: Record<string, number[]> = {
    "float [N, H, L, S]": [2, 3, 5, 6],
    "float [N, 1, 1, S]": [2, 1, 1, 6],
    "float [H, L, S]": [3, 5, 6],
  };
  const floatMask = maskShape[mask] ? tf.randomNormal(maskShape[mask]!, 0, 1, "float32", 4) : null;
  const boolMask =
    mask === "bool [L, S]" ? tf.greater(tf.randomNormal([5, 6], 0.5, 1, "float32", 5), 0) : null;
  const options = (m: tf.Tensor | null) =>
    mask === "causal"
      ? { isCausal: true }
      : m !== null
        ? { attnMask: m }
        : boolMask !== null
          ? { attnMask: boolMask }
          : {};
  const r = tf.randomNormal([2, 3, 5, 7], 0, 1, "float32", 6);
  const loss = (...t: tf.Tensor[]) =>
    tf.sum(tf.mul(nn.functional.scaledDotProductAttention(t[0]!, t[1]!, t[2]!, options(t[3] ?? null)), r));
  const inputs = floatMask === null ? [q, k, v] : [q, k, v, floatMask];
  const output = nn.functional.scaledDotProductAttention(q, k, v, options(floatMask));
  const all = [output, ...tf.grads(loss)(inputs)];
  const values = all.map((t) => Float32Array.from(t.dataSync() as Float32Array));
  tf.dispose([...all, ...inputs, r, ...(boolMask ? [boolMask] : [])]);
  return values;
}

describe("fused attention on the host engine", () => {
  beforeAll(async () => {
    await new HostAccelerator().setup();
    expect(backendHasKernels(ATTENTION_KERNEL, ATTENTION_GRAD_KERNEL)).toBe(true);
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  for (const mask of [
    "none",
    "causal",
    "bool [L, S]",
    "float [N, H, L, S]",
    "float [N, 1, 1, S]",
    "float [H, L, S]",
  ] as const) {
    it(`scaledDotProductAttention (mask ${mask}): the op-by-op output bit for bit, its gradients within 1e-6`, async () => {
      const fused = await sdpaRun(HOST_BACKEND, mask);
      const opByOp = await withoutKernels(() => sdpaRun(HOST_BACKEND, mask));
      expect(Array.from(fused[0]!)).toEqual(Array.from(opByOp[0]!));
      fused.slice(1).forEach((values, i) => {
        expect(worst(values, opByOp[i + 1]!), `gradient ${i}`).toBeLessThan(1e-6);
      });
      const cpu = await sdpaRun("cpu", mask);
      fused.forEach((values, i) => {
        expect(worst(values, cpu[i]!), `result ${i} against tfjs's cpu backend`).toBeLessThan(1e-5);
      });
    });
  }

  /** A MultiheadAttention's output, averaged weights and every gradient of a loss reading both. */
  async function mhaRun(backend: string): Promise<Float32Array[]> {
    await tf.setBackend(backend);
    manualSeed(11);
    const mha = new nn.MultiheadAttention(8, 2, { batchFirst: true });
    const x = tf.randomNormal([3, 5, 8], 0, 1, "float32", 12);
    const keyPaddingMask = tf.tensor2d(
      [
        [false, false, false, true, true],
        [false, false, false, false, false],
        [false, true, false, false, false],
      ],
      undefined,
      "bool",
    );
    const attnMask = tf.randomNormal([5, 5], 0, 1, "float32", 13);
    const params = mha.parameters();
    const grads = tf.grads((input: tf.Tensor, ...weights: tf.Tensor[]) => {
      params.forEach((p, i) => {
        p.lend(weights[i]!);
      });
      const [out, w] = mha.forward(input, input, input, { keyPaddingMask, attnMask });
      return tf.add(tf.sum(tf.sin(out)), tf.sum(tf.square(w!)));
    });
    const weights = params.map((p) => tf.clone(p.data));
    const [out, w] = mha.forward(x, x, x, { keyPaddingMask, attnMask });
    const all = [out, w!, ...grads([x, ...weights])];
    const values = all.map((t) => Float32Array.from(t.dataSync() as Float32Array));
    tf.dispose([...all, x, keyPaddingMask, attnMask, ...weights]);
    mha.dispose();
    return values;
  }

  it("MultiheadAttention with both masks and its weights in the loss: the op-by-op values and gradients", async () => {
    const fused = await mhaRun(HOST_BACKEND);
    const opByOp = await withoutKernels(() => mhaRun(HOST_BACKEND));
    const cpu = await mhaRun("cpu");
    fused.forEach((values, i) => {
      expect(worst(values, opByOp[i]!), `result ${i}`).toBeLessThan(1e-6);
      expect(worst(values, cpu[i]!), `result ${i} against tfjs's cpu backend`).toBeLessThan(1e-5);
    });
  });

  it("is what attention runs, one kernel each way; dropout and masks it cannot read run op by op", async () => {
    await tf.setBackend(HOST_BACKEND);
    /** How many attention and attention-gradient kernels a gradient through attention on q `shape` runs. */
    const count = async (shape: number[], options: nn.functional.ScaledDotProductAttentionOptions) => {
      const q = tf.randomNormal(shape);
      const profile = await tf.profile(() => {
        const dq = tf.grad((input: tf.Tensor) =>
          tf.sum(nn.functional.scaledDotProductAttention(input, input, input, options)),
        )(q);
        dq.dispose();
      });
      q.dispose();
      const names = profile.kernels.map((kernel) => kernel.name);
      return [ATTENTION_KERNEL, ATTENTION_GRAD_KERNEL, "Softmax"].map(
        (n) => names.filter((name) => name === n).length,
      );
    };
    expect(await count([2, 3, 5, 4], { isCausal: true })).toEqual([1, 1, 0]);
    const perBatch = tf.zeros([2, 1, 5, 5]);
    expect(await count([2, 3, 5, 4], { attnMask: perBatch })).toEqual([1, 1, 0]);
    expect(await count([2, 3, 5, 4], { dropoutP: 0.5 })).toEqual([0, 0, 1]);
    // Broadcast in the middle of three leading dimensions: no split point gives the kernel's layout.
    const middle = tf.zeros([2, 1, 2, 5, 5]);
    expect(await count([2, 3, 2, 5, 4], { attnMask: middle })).toEqual([0, 0, 1]);
    tf.dispose([perBatch, middle]);
  });

  it("gives the op-by-op values where its temporaries outgrow the kept scratch arrays (8M scores)", async () => {
    await tf.setBackend(HOST_BACKEND);
    const q = tf.randomNormal([4, 8, 512, 8], 0, 1, "float32", 21);
    const run = () =>
      tf.tidy(() => {
        const [dq] = tf.grads((input: tf.Tensor) =>
          tf.sum(tf.square(nn.functional.scaledDotProductAttention(input, q, q, { isCausal: true }))),
        )([q]);
        const output = nn.functional.scaledDotProductAttention(q, q, q, { isCausal: true });
        return [output.dataSync(), dq!.dataSync()].map((values) => Float32Array.from(values));
      });
    const fused = run();
    const opByOp = await withoutKernels(async () => run());
    expect(Array.from(fused[0]!)).toEqual(Array.from(opByOp[0]!));
    expect(worst(fused[1]!, opByOp[1]!)).toBeLessThan(1e-6);
    q.dispose();
  });

  it("keeps the tensor count flat across training steps", async () => {
    await tf.setBackend(HOST_BACKEND);
    manualSeed(3);
    const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, batchFirst: true });
    const x = tf.randomNormal([2, 5, 8]);
    expectFlatTensorCount(() => tf.sum(layer.forward(x)) as tf.Scalar);
    x.dispose();
    layer.dispose();
  });
});
