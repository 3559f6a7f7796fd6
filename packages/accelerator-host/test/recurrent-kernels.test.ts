import { manualSeed, nn, tf } from "@fulmen/core";
import {
  backendHasKernels,
  GRU_CELL_GRAD_KERNEL,
  GRU_CELL_KERNEL,
  GRU_SEQUENCE_GRAD_KERNEL,
  GRU_SEQUENCE_KERNEL,
  LSTM_CELL_GRAD_KERNEL,
  LSTM_CELL_KERNEL,
  LSTM_SEQUENCE_GRAD_KERNEL,
  LSTM_SEQUENCE_KERNEL,
} from "@fulmen/core/plugin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOST_BACKEND, HostAccelerator } from "../src";
import { expectFlatTensorCount } from "./tensor-count";

/** The largest difference relative to 1 + |expected|. */
function worst(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let most = 0;
  for (let i = 0; i < actual.length; i++)
    most = Math.max(most, Math.abs(actual[i]! - expected[i]!) / (1 + Math.abs(expected[i]!)));
  return most;
}

/**
 * An LSTM's outputs, final states, and the gradients of a loss that reads the outputs and both final states
 * with respect to every weight, the input and the initial states, on `backend`.
 */
async function lstmRun(
  backend: string,
  options: ConstructorParameters<typeof nn.LSTM>[2],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  manualSeed(5);
  const lstm = new nn.LSTM(6, 8, options);
  const x = tf.randomNormal([5, 3, 6], 0, 1, "float32", 7);
  const layers = (options?.numLayers ?? 1) * (options?.bidirectional ? 2 : 1);
  const h0 = tf.randomNormal([layers, 3, options?.projSize ?? 8], 0, 1, "float32", 8);
  const c0 = tf.randomNormal([layers, 3, 8], 0, 1, "float32", 9);
  const params = lstm.parameters();
  const grads = tf.grads((input: tf.Tensor, h: tf.Tensor, c: tf.Tensor, ...weights: tf.Tensor[]) => {
    params.forEach((p, i) => {
      p.lend(weights[i]!);
    });
    const [out, [hn, cn]] = lstm.forward(input, [h, c]);
    return tf.addN([tf.sum(tf.sin(out)), tf.sum(tf.square(hn)), tf.sum(tf.mul(cn, 0.5))]);
  });
  const weights = params.map((p) => tf.clone(p.data));
  const [out, [hn, cn]] = lstm.forward(x, [h0, c0]);
  const all = [out, hn, cn, ...grads([x, h0, c0, ...weights])];
  const values = all.map((t) => Float32Array.from(t.dataSync() as Float32Array));
  tf.dispose([...all, x, h0, c0, ...weights]);
  lstm.dispose();
  return values;
}

/**
 * A GRU's outputs, final state, and the gradients of a loss reading both with respect to every weight, the
 * input and the initial state, on `backend`.
 */
async function gruRun(
  backend: string,
  options: ConstructorParameters<typeof nn.GRU>[2],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  manualSeed(6);
  const gru = new nn.GRU(5, 7, options);
  const x = tf.randomNormal([4, 3, 5], 0, 1, "float32", 17);
  const layers = (options?.numLayers ?? 1) * (options?.bidirectional ? 2 : 1);
  const h0 = tf.randomNormal([layers, 3, 7], 0, 1, "float32", 18);
  const params = gru.parameters();
  const grads = tf.grads((input: tf.Tensor, h: tf.Tensor, ...weights: tf.Tensor[]) => {
    params.forEach((p, i) => {
      p.lend(weights[i]!);
    });
    const [out, hn] = gru.forward(input, h);
    return tf.add(tf.sum(tf.cos(out)), tf.sum(tf.square(hn)));
  });
  const weights = params.map((p) => tf.clone(p.data));
  const [out, hn] = gru.forward(x, h0);
  const all = [out, hn, ...grads([x, h0, ...weights])];
  const values = all.map((t) => Float32Array.from(t.dataSync() as Float32Array));
  tf.dispose([...all, x, h0, ...weights]);
  gru.dispose();
  return values;
}

/** Runs `fn` with the host engine's `kernels` unregistered (the layers then take their step-by-step path). */
async function without<T>(kernels: string[], fn: () => Promise<T>): Promise<T> {
  const configs = kernels.map((name) => tf.getKernel(name, HOST_BACKEND)!);
  for (const name of kernels) tf.unregisterKernel(name, HOST_BACKEND);
  try {
    return await fn();
  } finally {
    for (const config of configs) tf.registerKernel(config);
  }
}

/** Whether two runs' results are bit-identical (`exact` of them) and the rest within `tolerance`. */
function expectClose(
  actual: Float32Array[],
  expected: Float32Array[],
  exact: number,
  tolerance: number,
): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((values, k) => {
    if (k < exact) expect(Array.from(values), `result ${k}`).toEqual(Array.from(expected[k]!));
    else expect(worst(values, expected[k]!), `result ${k}`).toBeLessThan(tolerance);
  });
}

describe("the whole-sequence LSTM and GRU kernels on the host engine", () => {
  beforeAll(async () => {
    await new HostAccelerator().setup();
    expect(backendHasKernels(LSTM_SEQUENCE_KERNEL, LSTM_SEQUENCE_GRAD_KERNEL)).toBe(true);
    expect(backendHasKernels(GRU_SEQUENCE_KERNEL, GRU_SEQUENCE_GRAD_KERNEL)).toBe(true);
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });
  const cases = [{}, { numLayers: 2, bidirectional: true }, { bias: false }];

  for (const options of cases) {
    it(`give the step-by-step path's LSTM outputs bit for bit, and its gradients (${JSON.stringify(options)})`, async () => {
      const fused = await lstmRun(HOST_BACKEND, options);
      const stepwise = await without([LSTM_SEQUENCE_KERNEL], () => lstmRun(HOST_BACKEND, options));
      // Outputs and final states: the same GEMMs and roundings. Gradients: the weight gradient is summed over
      // all steps in one product instead of step by step.
      expectClose(fused, stepwise, 3, 1e-6);
      expectClose(fused, await lstmRun("cpu", options), 0, 1e-5);
    });

    it(`give the step-by-step path's GRU outputs bit for bit, and its gradients (${JSON.stringify(options)})`, async () => {
      const fused = await gruRun(HOST_BACKEND, options);
      const stepwise = await without([GRU_SEQUENCE_KERNEL], () => gruRun(HOST_BACKEND, options));
      expectClose(fused, stepwise, 2, 1e-6);
      expectClose(fused, await gruRun("cpu", options), 0, 1e-5);
    });
  }

  it("are what the layers run: one kernel per layer and direction each way, no per-step cells", async () => {
    await tf.setBackend(HOST_BACKEND);
    manualSeed(3);
    const lstm = new nn.LSTM(4, 8, { bidirectional: true });
    const gru = new nn.GRU(4, 8);
    const x = tf.randomNormal([6, 2, 4]);
    const profile = await tf.profile(() => {
      const dx = tf.grad((input: tf.Tensor) =>
        tf.add(tf.sum(lstm.forward(input)[0]), tf.sum(gru.forward(input)[0])),
      )(x);
      dx.dispose();
    });
    const count = (name: string) => profile.kernels.filter((k) => k.name === name).length;
    expect(count(LSTM_SEQUENCE_KERNEL)).toBe(2);
    expect(count(LSTM_SEQUENCE_GRAD_KERNEL)).toBe(2);
    expect(count(GRU_SEQUENCE_KERNEL)).toBe(1);
    expect(count(GRU_SEQUENCE_GRAD_KERNEL)).toBe(1);
    expect(count(LSTM_CELL_KERNEL) + count(GRU_CELL_KERNEL)).toBe(0);
    tf.dispose(x);
    lstm.dispose();
    gru.dispose();
  });

  it("keep the tensor count flat across training steps (LSTM and GRU, both directions)", async () => {
    await tf.setBackend(HOST_BACKEND);
    manualSeed(2);
    const lstm = new nn.LSTM(4, 8, { batchFirst: true, bidirectional: true });
    const gru = new nn.GRU(4, 8, { batchFirst: true, bidirectional: true });
    const x = tf.randomNormal([2, 6, 4]);
    expectFlatTensorCount(() => tf.add(tf.sum(lstm.forward(x)[0]), tf.sum(gru.forward(x)[1])) as tf.Scalar);
    x.dispose();
    lstm.dispose();
    gru.dispose();
  });
});

describe("the fused GRU cell on the host engine", () => {
  beforeAll(async () => {
    await new HostAccelerator().setup();
    expect(backendHasKernels(GRU_CELL_KERNEL, GRU_CELL_GRAD_KERNEL)).toBe(true);
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  for (const options of [{}, { numLayers: 2, bidirectional: true, batchFirst: false }]) {
    it(`gives tfjs's op-by-op GRU's outputs, state and gradients (${JSON.stringify(options)})`, async () => {
      const host = await without([GRU_SEQUENCE_KERNEL], () => gruRun(HOST_BACKEND, options));
      const cpu = await gruRun("cpu", options);
      expect(host.length).toBe(cpu.length);
      host.forEach((values, k) => {
        expect(worst(values, cpu[k]!), `result ${k}`).toBeLessThan(1e-5);
      });
    });
  }
});

describe("the fused LSTM cell on the host engine", () => {
  beforeAll(async () => {
    await new HostAccelerator().setup();
    expect(backendHasKernels(LSTM_CELL_KERNEL, LSTM_CELL_GRAD_KERNEL)).toBe(true);
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  for (const options of [{}, { numLayers: 2, bidirectional: true }, { projSize: 4 }]) {
    it(`gives tfjs's op-by-op LSTM's outputs, states and gradients (${JSON.stringify(options)})`, async () => {
      const host = await without([LSTM_SEQUENCE_KERNEL], () => lstmRun(HOST_BACKEND, options));
      const cpu = await lstmRun("cpu", options);
      expect(host.length).toBe(cpu.length);
      host.forEach((values, k) => {
        expect(worst(values, cpu[k]!), `result ${k}`).toBeLessThan(1e-5);
      });
    });
  }

  it("keeps the tensor count flat across training steps", async () => {
    await tf.setBackend(HOST_BACKEND);
    manualSeed(1);
    const lstm = new nn.LSTM(4, 8, { batchFirst: true });
    const x = tf.randomNormal([2, 6, 4]);
    expectFlatTensorCount(() => tf.sum(lstm.forward(x)[0]) as tf.Scalar);
    x.dispose();
    lstm.dispose();
  });
});

/**
 * A packed batch (lengths 5, 2, 4, 1: four stretches of running sequences) through a bidirectional LSTM and a
 * GRU: the packed outputs, final states and the gradients of a loss reading them with respect to the padded
 * input, the initial states and every weight, on `backend`.
 */
async function packedRun(backend: string): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  manualSeed(9);
  const lstm = new nn.LSTM(3, 5, { bidirectional: true, numLayers: 2 });
  const gru = new nn.GRU(3, 4, { bidirectional: true });
  const x = tf.randomNormal([5, 4, 3], 0, 1, "float32", 21);
  const h0 = tf.randomNormal([4, 4, 5], 0, 1, "float32", 22);
  const c0 = tf.randomNormal([4, 4, 5], 0, 1, "float32", 23);
  const params = [...lstm.parameters(), ...gru.parameters()];
  const R = nn.utils.rnn;
  const loss = (input: tf.Tensor, h: tf.Tensor, c: tf.Tensor) => {
    const packed = R.packPaddedSequence(input, [5, 2, 4, 1], { enforceSorted: false });
    const [out, [hn, cn]] = lstm.forward(packed, [h, c]);
    const [gout, gh] = gru.forward(packed);
    return tf.addN([
      tf.sum(tf.sin(out.data)),
      tf.sum(tf.square(hn)),
      tf.sum(tf.mul(cn, 0.5)),
      tf.sum(tf.cos(gout.data)),
      tf.sum(gh),
    ]);
  };
  const grads = tf.grads((input: tf.Tensor, h: tf.Tensor, c: tf.Tensor, ...weights: tf.Tensor[]) => {
    params.forEach((p, i) => {
      p.lend(weights[i]!);
    });
    return loss(input, h, c);
  });
  const weights = params.map((p) => tf.clone(p.data));
  const value = loss(x, h0, c0);
  const all = [value, ...grads([x, h0, c0, ...weights])];
  const values = all.map((t) => Float32Array.from(t.dataSync() as Float32Array));
  tf.dispose([...all, x, h0, c0, ...weights]);
  lstm.dispose();
  gru.dispose();
  return values;
}

describe("packed sequences on the host engine", () => {
  beforeAll(async () => {
    await new HostAccelerator().setup();
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  it("run each stretch of equally many running sequences as one whole-sequence kernel call", async () => {
    await tf.setBackend(HOST_BACKEND);
    manualSeed(4);
    const lstm = new nn.LSTM(3, 5, { bidirectional: true });
    const x = tf.randomNormal([5, 4, 3]);
    const profile = await tf.profile(() => {
      const dx = tf.grad((input: tf.Tensor) => {
        const packed = nn.utils.rnn.packPaddedSequence(input, [5, 2, 4, 1], { enforceSorted: false });
        return tf.sum(lstm.forward(packed)[0].data);
      })(x);
      dx.dispose();
    });
    const count = (name: string) => profile.kernels.filter((k) => k.name === name).length;
    // four stretches (4, 3, 2 and 1 sequences running) in each direction, no per-step cells
    expect(count(LSTM_SEQUENCE_KERNEL)).toBe(8);
    expect(count(LSTM_SEQUENCE_GRAD_KERNEL)).toBe(8);
    expect(count(LSTM_CELL_KERNEL)).toBe(0);
    x.dispose();
    lstm.dispose();
  });

  it("give the step-by-step path's values and gradients, and tfjs's cpu backend's", async () => {
    const fused = await packedRun(HOST_BACKEND);
    const stepwise = await without([LSTM_SEQUENCE_KERNEL, GRU_SEQUENCE_KERNEL], () =>
      packedRun(HOST_BACKEND),
    );
    expectClose(fused, stepwise, 0, 1e-6);
    expectClose(fused, await packedRun("cpu"), 0, 1e-5);
  });
});
