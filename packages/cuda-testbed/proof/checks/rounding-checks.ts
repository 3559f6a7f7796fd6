import { roundBfloat16Array, roundFloat16Array, tf } from "@fulmen/core";
import { ROUND_BFLOAT16_KERNEL, ROUND_FLOAT16_KERNEL } from "@fulmen/core/plugin";
import { assert, type CheckRun } from "../harness";

/** The backend's float16/bfloat16 rounding kernels: bit for bit core's, over 100k values of every magnitude. */
export async function roundingChecks(run: CheckRun): Promise<void> {
  const values = new Float32Array(100_003);
  let seed = 99;
  for (let i = 0; i < values.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    values[i] = ((seed / 2 ** 32) * 2 - 1) * 2 ** ((seed % 80) - 40);
  }
  for (const [kernel, reference] of [
    [ROUND_FLOAT16_KERNEL, roundFloat16Array],
    [ROUND_BFLOAT16_KERNEL, roundBfloat16Array],
  ] as const) {
    await run.check(`rounding: ${kernel}`, () => {
      const x = tf.tensor1d(values);
      const rounded = tf.engine().runKernel(kernel, { x }) as tf.Tensor;
      const got = new Uint32Array((rounded.dataSync() as Float32Array).slice().buffer);
      const want = new Uint32Array(reference(values).buffer);
      tf.dispose([x, rounded]);
      const first = got.findIndex((v, i) => v !== want[i]);
      assert(first < 0, () => `element ${first} (${values[first]}): bits ${got[first]}, core ${want[first]}`);
    });
  }
}
