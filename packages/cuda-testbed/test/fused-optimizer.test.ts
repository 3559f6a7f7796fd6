import { Adagrad, Adam, AdamW, type Optimizer, Parameter, RMSprop, SGD, tf } from "@fulmen/core";
import {
  ADAGRAD_UPDATE_KERNEL,
  ADAM_UPDATE_KERNEL,
  RMSPROP_UPDATE_KERNEL,
  SGD_UPDATE_KERNEL,
} from "@fulmen/core/plugin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineTargets, setUpTarget } from "./engine-targets";

/** Five optimizer steps on one backend; returns the parameter and moments, as plain numbers. */
async function steps(backend: string, make: (p: Parameter[]) => Optimizer): Promise<number[][]> {
  await tf.setBackend(backend);
  const param = new Parameter(tf.tidy(() => tf.mul(tf.randomNormal([257], 0, 1, "float32", 3), 2)));
  const optimizer = make([param]);
  for (let step = 0; step < 5; step++) {
    param.setGrad(
      tf.tidy(() => tf.add(tf.randomNormal([257], 0, 1, "float32", 10 + step), step === 2 ? 1e3 : 0)),
    );
    optimizer.step();
  }
  const state = optimizer.stateDict().state as Record<string, Record<string, unknown>>;
  const tensors = Object.values(state[0] ?? state["0"] ?? {}).filter(
    (v): v is tf.Tensor => v instanceof tf.Tensor,
  );
  const out = [Array.from(param.data.dataSync()), ...tensors.map((t) => Array.from(t.dataSync()))];
  optimizer.disposeState();
  param.dispose();
  return out;
}

describe.each(engineTargets())("the fused optimizer updates on %s", (_label, backendName) => {
  beforeAll(async () => {
    await setUpTarget(backendName);
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  it("is registered for the engine's backend (tfjs's own backends run the op-by-op update)", () => {
    for (const kernel of [
      ADAM_UPDATE_KERNEL,
      SGD_UPDATE_KERNEL,
      RMSPROP_UPDATE_KERNEL,
      ADAGRAD_UPDATE_KERNEL,
    ]) {
      expect(tf.getKernel(kernel, backendName)).toBeDefined();
      expect(tf.getKernel(kernel, "cpu")).toBeUndefined();
    }
  });

  const configs: Array<[string, (p: Parameter[]) => Optimizer]> = [
    ["SGD", (p) => new SGD(p, { lr: 0.1 })],
    [
      "SGD momentum weight decay",
      (p) => new SGD(p, { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }),
    ],
    ["SGD nesterov maximize", (p) => new SGD(p, { lr: 0.05, momentum: 0.8, nesterov: true, maximize: true })],
    ["AdamW", (p) => new AdamW(p, { lr: 3e-3, weightDecay: 0.1 })],
    [
      "AdamW amsgrad maximize",
      (p) => new AdamW(p, { lr: 1e-2, amsgrad: true, maximize: true, betas: [0.8, 0.95] }),
    ],
    ["Adam L2", (p) => new Adam(p, { lr: 5e-3, weightDecay: 0.05, eps: 1e-6 })],
    ["Adam without decay", (p) => new Adam(p, { lr: 1e-3 })],
    ["RMSprop", (p) => new RMSprop(p, { lr: 1e-2 })],
    [
      "RMSprop centered momentum weight decay",
      (p) => new RMSprop(p, { lr: 5e-3, alpha: 0.9, centered: true, momentum: 0.9, weightDecay: 0.01 }),
    ],
    [
      "RMSprop maximize momentum",
      (p) => new RMSprop(p, { lr: 1e-3, momentum: 0.5, maximize: true, eps: 1e-6 }),
    ],
    ["Adagrad", (p) => new Adagrad(p, { lr: 0.1 })],
    [
      "Adagrad lr decay, weight decay, initial accumulator, maximize",
      (p) =>
        new Adagrad(p, {
          lr: 0.05,
          lrDecay: 0.01,
          weightDecay: 0.02,
          initialAccumulatorValue: 0.1,
          maximize: true,
        }),
    ],
  ];
  for (const [label, make] of configs) {
    it(`${label}: bit for bit equal to the op-by-op update on tfjs's cpu backend`, async () => {
      const fused = await steps(backendName, make);
      const reference = await steps("cpu", make);
      expect(fused.length).toBe(reference.length);
      expect(fused.length).toBeGreaterThanOrEqual(label === "SGD" ? 1 : 2); // the parameter and the state
      for (const [i, values] of fused.entries()) expect(values).toEqual(reference[i]);
    });
  }
});
