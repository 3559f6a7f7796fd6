import { nn, tf } from "@fulmen/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WasmAccelerator } from "../src/index";

beforeAll(async () => {
  await new WasmAccelerator().setup();
});

afterAll(async () => {
  await tf.setBackend("cpu");
});

/** The input gradient of `sum(maxPool(x) · r)` through nn.MaxPool2d on the named backend. */
async function poolGrad(
  backend: string,
  x: number[],
  shape: number[],
  make: () => nn.MaxPool2d,
): Promise<number[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const pool = make();
    const input = tf.tensor(x, shape);
    const r = tf.tensor(
      Array.from({ length: pool.forward(input).size }, (_, i) => ((i * 7) % 5) - 2),
      pool.forward(input).shape,
    );
    return Array.from(
      tf
        .grad((v: tf.Tensor) => tf.sum(tf.mul(pool.forward(v), r)))(input)
        .dataSync(),
    );
  });
}

describe("wasm MaxPoolGrad", () => {
  it("routes each window's gradient to its first maximum, as PyTorch and the cpu backend (ties included)", async () => {
    // Post-ReLU-like values: many equal maxima in overlapping windows.
    const x = [0, 0, 1, 1, 0, 2, 0, 0, 1, 0, 0, 1, 0, 2, 2, 0];
    const make = () => new nn.MaxPool2d(2, { stride: 1 });
    const wasm = await poolGrad("wasm", x, [1, 1, 4, 4], make);
    const cpu = await poolGrad("cpu", x, [1, 1, 4, 4], make);
    expect(wasm).toEqual(cpu);
  });

  it("gives the cpu backend's gradients for several channels, padding and ceil mode", async () => {
    const shape = [2, 3, 7, 6];
    const x = Array.from({ length: 2 * 3 * 7 * 6 }, (_, i) => Math.sin(i * 1.3) * 3);
    for (const make of [
      () => new nn.MaxPool2d(3, { stride: 2, padding: 1 }),
      () => new nn.MaxPool2d(2, { ceilMode: true }),
      () => new nn.MaxPool2d([3, 2], { stride: [1, 2] }),
    ]) {
      const wasm = await poolGrad("wasm", x, shape, make);
      const cpu = await poolGrad("cpu", x, shape, make);
      expect(wasm).toEqual(cpu);
    }
  });
});
