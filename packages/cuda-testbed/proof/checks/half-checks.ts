import {
  AdamW,
  backward,
  type HalfFormat,
  manualSeed,
  nn,
  roundBfloat16Array,
  roundFloat16Array,
  tf,
} from "@fulmen/core";
import { ROUND_BFLOAT16_KERNEL, ROUND_FLOAT16_KERNEL, withAutocast } from "@fulmen/core/plugin";
import { assert, type CheckRun, close, labels } from "../harness";

/** A half format rounding through the backend's kernel, or (on tfjs's cpu, the reference) through core's. */
function halfFormat(dtype: "float16" | "bfloat16", reference: boolean): HalfFormat {
  const kernel = dtype === "float16" ? ROUND_FLOAT16_KERNEL : ROUND_BFLOAT16_KERNEL;
  const round = dtype === "float16" ? roundFloat16Array : roundBfloat16Array;
  return {
    dtype,
    round: (t) =>
      reference
        ? tf.tensor(round(t.dataSync() as Float32Array), t.shape)
        : (tf.engine().runKernel(kernel, { x: t }) as tf.Tensor),
  };
}

/** Half storage: rounded tensors in 2 bytes a value, GEMMs on them (tensor cores), mixed-precision training. */
export async function halfChecks(run: CheckRun): Promise<void> {
  let halfGemms = 0;
  const engine = run.device.device;
  const original = engine.batchMatMulHalf;
  Object.defineProperty(engine, "batchMatMulHalf", {
    configurable: true,
    value: (...args: Parameters<typeof original>) => {
      halfGemms++;
      return original.apply(engine, args);
    },
  });
  for (const dtype of ["float16", "bfloat16"] as const) {
    await run.check(`half storage: ${dtype} GEMM`, async () => {
      const before = halfGemms;
      const make = (reference: boolean) =>
        tf.tidy(() => {
          const format = halfFormat(dtype, reference);
          const a = format.round(tf.randomNormal([4, 65, 130], 0, 1, "float32", 50));
          const b = format.round(tf.randomNormal([130, 33], 0, 1, "float32", 51));
          return tf.matMul(a, b).dataSync();
        });
      const got = make(false);
      const want = await run.onCpu(() => make(true));
      assert(halfGemms === before + 1, () => "the GEMM did not run on half storage");
      const problem = close(got, want, 1e-4);
      assert(problem === null, () => problem!);
    });
  }
  await run.check("half storage: bfloat16 mixed-precision training", async () => {
    const train = (reference: boolean) => {
      manualSeed(21);
      const model = new nn.Sequential(new nn.Linear(64, 128), new nn.ReLU(), new nn.Linear(128, 10));
      const optimizer = new AdamW(model, { lr: 1e-2 });
      const x = tf.randomNormal([32, 64], 0, 1, "float32", 52);
      const y = labels(32, 10);
      const autocast = { format: halfFormat("bfloat16", reference), mode: "mixed" as const };
      const losses: number[] = [];
      for (let step = 0; step < 6; step++)
        tf.tidy(() => {
          optimizer.zeroGrad();
          const loss = backward(
            () => withAutocast(autocast, () => nn.crossEntropy(model.forward(x), y) as tf.Scalar),
            model,
          );
          losses.push(loss.dataSync()[0]!);
          optimizer.step();
        });
      model.dispose();
      optimizer.disposeState();
      tf.dispose([x, y]);
      return losses;
    };
    const before = halfGemms;
    const got = train(false);
    const want = await run.onCpu(() => train(true));
    assert(halfGemms - before >= 6 * 5, () => `only ${halfGemms - before} GEMMs ran on half storage`);
    // bfloat16 keeps 8 bits: a GEMM summed in another order can round an output to the neighbouring value.
    const problem = close(got, want, 1e-2);
    assert(problem === null, () => `losses ${got} vs cpu ${want}: ${problem}`);
  });
  delete (engine as unknown as Record<string, unknown>).batchMatMulHalf;
}
