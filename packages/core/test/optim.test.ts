import { describe, expect, it } from "vitest";
import {
  Adam,
  AdamW,
  backward,
  FulmenError,
  manualSeed,
  nn,
  Parameter,
  RMSprop,
  SGD,
  tf,
} from "../src/index";

function train(
  model: nn.Sequential,
  optimizer: { zeroGrad(): void; step(): unknown },
  steps: number,
  offset = 0,
): void {
  for (let i = 0; i < steps; i++) {
    tf.tidy(() => {
      const x = tf.randomNormal([8, 4], 0, 1, "float32", 100 + offset + i);
      const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], "int32");
      optimizer.zeroGrad();
      backward(() => nn.crossEntropy(model.forward(x), y) as tf.Scalar, model);
      optimizer.step();
    });
  }
}

function makeModel(): nn.Sequential {
  manualSeed(0);
  return new nn.Sequential(new nn.Linear(4, 8), new nn.Tanh(), new nn.Linear(8, 3));
}

describe("optimizers", () => {
  it("names unknown options and suggests the camelCase spelling", () => {
    const p = [new Parameter([1])];
    expect(() => new AdamW(p, { weight_decay: 0.1 } as never)).toThrow(
      /unknown option 'weight_decay' \(did you mean 'weightDecay'\?\)/,
    );
    expect(() => new SGD(p, { lr: 0.1, mom: 0.9 } as never)).toThrow(/Valid options: lr, momentum/);
  });

  it("rejects a negative learning rate and other invalid values", () => {
    const p = [new Parameter([1])];
    expect(() => new SGD(p, { lr: -1 })).toThrow(/invalid learning rate -1; it must be >= 0/);
    expect(() => new Adam(p, { betas: [1.2, 0.9] })).toThrow(/betas/);
    expect(() => new SGD(p, { lr: 0.1, nesterov: true })).toThrow(/Nesterov/);
    expect(() => new SGD([], { lr: 0.1 })).toThrow(FulmenError);
  });

  it("applies per-group hyperparameters", () => {
    const a = new Parameter([1]);
    const b = new Parameter([1]);
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 1 }], { lr: 0.1 });
    a.setGrad(tf.ones([1]));
    b.setGrad(tf.ones([1]));
    opt.step();
    expect(a.data.dataSync()[0]).toBeCloseTo(0.9, 6);
    expect(b.data.dataSync()[0]).toBeCloseTo(0, 6);
    expect(() => new SGD([{ params: [a] }, { params: [a] }], { lr: 0.1 })).toThrow(
      /more than one parameter group/,
    );
  });

  it("zeroGrad clears gradients to null by default and to zeros on request", () => {
    const p = new Parameter([1, 2]);
    const opt = new SGD([p], { lr: 0.1 });
    p.setGrad(tf.ones([2]));
    opt.zeroGrad(false);
    expect(Array.from(p.grad!.dataSync())).toEqual([0, 0]);
    opt.zeroGrad();
    expect(p.grad).toBeNull();
  });

  for (const [name, make] of [
    ["AdamW", (m: nn.Sequential) => new AdamW(m, { lr: 0.01, amsgrad: true })],
    ["SGD", (m: nn.Sequential) => new SGD(m, { lr: 0.1, momentum: 0.9, nesterov: true })],
    ["RMSprop", (m: nn.Sequential) => new RMSprop(m, { lr: 0.01, momentum: 0.5, centered: true })],
  ] as const) {
    it(`${name} resumes exactly from its state dict`, () => {
      const straight = makeModel();
      train(straight, make(straight), 10);

      const first = makeModel();
      const firstOpt = make(first);
      train(first, firstOpt, 5);
      const modelState = Object.fromEntries(
        Object.entries(first.stateDict()).map(([k, v]) => [k, tf.clone(v)]),
      );
      const optState = firstOpt.stateDict();

      const resumed = makeModel();
      const resumedOpt = make(resumed);
      resumed.loadStateDict(modelState);
      resumedOpt.loadStateDict(optState);
      train(resumed, resumedOpt, 5, 5);

      const a = straight.parameters().map((p) => Array.from(p.data.dataSync()));
      const b = resumed.parameters().map((p) => Array.from(p.data.dataSync()));
      expect(b).toEqual(a);
    });
  }

  it("refuses an optimizer state of the wrong shape", () => {
    const m = makeModel();
    const opt = new Adam(m);
    train(m, opt, 1);
    const other = new Adam(new nn.Sequential(new nn.Linear(4, 8)));
    expect(() => other.loadStateDict(opt.stateDict())).toThrow(
      /parameter group 0 has 4 parameters in the state but 2/,
    );
  });
});
