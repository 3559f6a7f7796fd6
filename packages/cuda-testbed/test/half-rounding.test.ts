import type { DeviceBackend } from "@fulmen/accelerator-cuda";
import type { HostEngineBackend } from "@fulmen/accelerator-host";
import { roundBfloat16Array, roundFloat16Array, tf } from "@fulmen/core";
import { ROUND_BFLOAT16_KERNEL, ROUND_FLOAT16_KERNEL } from "@fulmen/core/plugin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineTargets, setUpTarget } from "./engine-targets";

/** Edge cases of both formats, then a sweep of random magnitudes from subnormal to overflow. */
function samples(): Float32Array {
  const edges = [
    0,
    -0,
    1,
    -1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    65504,
    65519.99,
    65520,
    -65520,
    65536,
    2 ** -14,
    2 ** -24,
    2 ** -25,
    3 * 2 ** -26,
    2 ** -25 + 2 ** -40,
    1 + 2 ** -11,
    1 + 3 * 2 ** -11,
    1 + 2 ** -8,
    1 + 3 * 2 ** -8,
    3.4e38,
    -1.17e-38,
    1e-45,
    0.1,
    -2.7182817,
  ];
  const values = new Float32Array(edges.length + 200_000);
  values.set(edges);
  let seed = 12345;
  for (let i = edges.length; i < values.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const magnitude = 2 ** ((seed % 80) - 40);
    values[i] = ((seed / 2 ** 32) * 2 - 1) * magnitude;
  }
  return values;
}

describe.each(engineTargets())("rounding to float16 and bfloat16 on %s", (_label, backendName) => {
  beforeAll(async () => {
    await setUpTarget(backendName);
    await tf.setBackend(backendName);
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  for (const [kernelName, reference] of [
    [ROUND_FLOAT16_KERNEL, roundFloat16Array],
    [ROUND_BFLOAT16_KERNEL, roundBfloat16Array],
  ] as const) {
    it(`${kernelName} equals core's rounding bit for bit over 200k values, natively`, () => {
      const backend = tf.backend() as HostEngineBackend | DeviceBackend;
      backend.resetFallbackStats();
      const values = samples();
      const x = tf.tensor1d(values);
      const rounded = tf.engine().runKernel(kernelName, { x }) as tf.Tensor;
      const got = new Uint32Array((rounded.dataSync() as Float32Array).buffer.slice(0));
      const want = new Uint32Array(reference(values).buffer);
      let mismatches = 0;
      for (let i = 0; i < want.length; i++) if (got[i] !== want[i] && !Number.isNaN(values[i]!)) mismatches++;
      expect(mismatches).toBe(0);
      // NaN stays NaN (its payload is whatever the format's rule gives; core passes it through).
      expect(Number.isNaN(rounded.dataSync()[4]!)).toBe(true);
      expect(backend.fallbackStats()).toEqual({});
      tf.dispose([x, rounded]);
    });
  }
});
