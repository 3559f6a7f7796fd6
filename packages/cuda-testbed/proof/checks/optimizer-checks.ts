import { Adagrad, Adam, AdamW, type Optimizer, Parameter, RMSprop, SGD, tf } from "@fulmen/core";
import { assert, type CheckRun } from "../harness";

/** Fused optimizer updates: bit for bit the op-by-op update on tfjs's cpu backend. */
export async function optimizerChecks(run: CheckRun): Promise<void> {
  const configs: Array<[string, (p: Parameter[]) => Optimizer]> = [
    [
      "SGD momentum nesterov",
      (p) => new SGD(p, { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.01 }),
    ],
    ["AdamW amsgrad", (p) => new AdamW(p, { lr: 1e-2, amsgrad: true, betas: [0.8, 0.95] })],
    ["Adam L2", (p) => new Adam(p, { lr: 5e-3, weightDecay: 0.05, eps: 1e-6 })],
    ["RMSprop centered momentum", (p) => new RMSprop(p, { lr: 5e-3, centered: true, momentum: 0.9 })],
    ["Adagrad lr decay", (p) => new Adagrad(p, { lr: 0.05, lrDecay: 0.01, weightDecay: 0.02 })],
  ];
  const steps = (make: (p: Parameter[]) => Optimizer) => {
    const param = new Parameter(tf.tidy(() => tf.mul(tf.randomNormal([4097], 0, 1, "float32", 3), 2)));
    const optimizer = make([param]);
    for (let step = 0; step < 5; step++) {
      param.setGrad(
        tf.tidy(() => tf.add(tf.randomNormal([4097], 0, 1, "float32", 10 + step), step === 2 ? 1e3 : 0)),
      );
      optimizer.step();
    }
    const values = Array.from(param.data.dataSync());
    optimizer.disposeState();
    param.dispose();
    return values;
  };
  for (const [name, make] of configs) {
    await run.check(`optimizer: ${name}`, async () => {
      const got = steps(make);
      const want = await run.onCpu(() => steps(make));
      const first = got.findIndex((v, i) => !Object.is(v, want[i]));
      assert(first < 0, () => `element ${first}: ${got[first]}, op by op ${want[first]}`);
    });
  }
}
