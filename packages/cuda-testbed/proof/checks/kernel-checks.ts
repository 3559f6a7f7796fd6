import { tf } from "@fulmen/core";
import { KERNEL_CASES, sumsInAnotherOrder } from "../cases";
import { assert, type CheckRun, close } from "../harness";

/** Every kernel case of cases.ts on the backend against tfjs's cpu: no fallback, float32 precision (GEMMs 1e-4). */
export async function kernelChecks(run: CheckRun): Promise<void> {
  for (const [name, fn] of KERNEL_CASES) {
    await run.check(`kernel: ${name}`, async () => {
      run.device.resetFallbackStats();
      const result = tf.tidy(fn);
      const [values, dtype] = [result.dataSync(), result.dtype];
      result.dispose();
      const fallbacks = run.device.fallbackStats();
      const reference = await run.onCpu(() => {
        const t = tf.tidy(fn);
        const v = t.dataSync();
        t.dispose();
        return v;
      });
      assert(Object.keys(fallbacks).length === 0, () => `fell back to tfjs: ${JSON.stringify(fallbacks)}`);
      assert(dtype === "float32" || values.length === reference.length, () => "wrong length");
      const problem = close(values, reference, sumsInAnotherOrder(name) ? 1e-4 : 1e-6);
      assert(problem === null, () => problem!);
    });
  }
}
