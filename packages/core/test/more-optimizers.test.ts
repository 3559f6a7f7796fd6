import { describe, expect, it } from "vitest";
import {
  Adadelta,
  Adamax,
  backward,
  FulmenError,
  manualSeed,
  NAdam,
  nn,
  type Optimizer,
  Parameter,
  RAdam,
  tf,
} from "../src/index";

// Adadelta, Adamax, NAdam and RAdam: options, state dicts, memory. Their numbers are checked against
// PyTorch by the parity replay of test/fixtures/torch-optim.json (apps/parity).

function makeModel(): nn.Sequential {
  manualSeed(0);
  return new nn.Sequential(new nn.Linear(4, 8), new nn.Tanh(), new nn.Linear(8, 3));
}

function train(model: nn.Sequential, optimizer: Optimizer, steps: number, offset = 0): void {
  for (let i = 0; i < steps; i++) {
    tf.tidy(() => {
      const x = tf.randomNormal([8, 4], 0, 1, "float32", 200 + offset + i);
      const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], "int32");
      optimizer.zeroGrad();
      backward(() => nn.crossEntropy(model.forward(x), y) as tf.Scalar, model);
      optimizer.step();
    });
  }
}

const FACTORIES = {
  Adadelta: (m: nn.Sequential) => new Adadelta(m, { lr: 0.5, rho: 0.8, weightDecay: 0.01 }),
  Adamax: (m: nn.Sequential) => new Adamax(m, { lr: 0.01, betas: [0.8, 0.99], weightDecay: 0.01 }),
  NAdam: (m: nn.Sequential) => new NAdam(m, { lr: 0.01, momentumDecay: 0.01, weightDecay: 0.01 }),
  RAdam: (m: nn.Sequential) => new RAdam(m, { lr: 0.01, betas: [0.9, 0.9], weightDecay: 0.01 }),
} as const;

const STATE_KEYS: Record<keyof typeof FACTORIES, string[]> = {
  Adadelta: ["accDelta", "squareAvg", "step"],
  Adamax: ["expAvg", "expInf", "step"],
  NAdam: ["expAvg", "expAvgSq", "muProduct", "step"],
  RAdam: ["expAvg", "expAvgSq", "step"],
};

describe("Adadelta, Adamax, NAdam, RAdam", () => {
  for (const [name, make] of Object.entries(FACTORIES) as Array<
    [keyof typeof FACTORIES, (m: nn.Sequential) => Optimizer]
  >) {
    it(`${name} keeps PyTorch's state (camelCase) and resumes exactly from its state dict`, () => {
      const straight = makeModel();
      const straightOpt = make(straight);
      train(straight, straightOpt, 10);

      const first = makeModel();
      const firstOpt = make(first);
      train(first, firstOpt, 5);
      const optState = firstOpt.stateDict();
      expect(Object.keys(optState.state[0]!).sort()).toEqual(STATE_KEYS[name]);
      expect(optState.state[0]!.step).toBe(5);
      const modelState = Object.fromEntries(
        Object.entries(first.stateDict()).map(([k, v]) => [k, tf.clone(v)]),
      );

      const resumed = makeModel();
      const resumedOpt = make(resumed);
      resumed.loadStateDict(modelState);
      resumedOpt.loadStateDict(optState);
      train(resumed, resumedOpt, 5, 5);

      const a = straight.parameters().map((p) => Array.from(p.data.dataSync()));
      const b = resumed.parameters().map((p) => Array.from(p.data.dataSync()));
      expect(b).toEqual(a);
      for (const o of [straightOpt, firstOpt, resumedOpt]) o.disposeState();
    });

    it(`${name} holds a constant number of tensors across steps`, () => {
      const model = makeModel();
      const optimizer = make(model);
      train(model, optimizer, 2);
      const before = tf.memory().numTensors;
      train(model, optimizer, 5, 2);
      expect(tf.memory().numTensors).toBe(before);
      optimizer.disposeState();
    });
  }

  it("names unknown options with the camelCase spelling", () => {
    const p = [new Parameter([1])];
    expect(() => new NAdam(p, { momentum_decay: 0.1 } as never)).toThrow(
      /unknown option 'momentum_decay' \(did you mean 'momentumDecay'\?\)/,
    );
    expect(() => new Adadelta(p, { weight_decay: 0.1 } as never)).toThrow(/did you mean 'weightDecay'/);
    // PyTorch 1.13's NAdam and RAdam have no maximize; Fulmen refuses it rather than ignoring it.
    expect(() => new RAdam(p, { maximize: true } as never)).toThrow(/unknown option 'maximize'/);
    expect(() => new Adamax(p, { amsgrad: true } as never)).toThrow(/Valid options: lr, betas, eps/);
  });

  it("refuses out-of-range values as PyTorch does", () => {
    const p = [new Parameter([1])];
    expect(() => new Adadelta(p, { rho: 1.5 })).toThrow(/invalid rho 1.5; it must be in \[0, 1\]/);
    expect(() => new Adadelta(p, { lr: -1 })).toThrow(/invalid learning rate -1/);
    expect(() => new Adamax(p, { betas: [1, 0.9] })).toThrow(/invalid betas \[1,0.9\]/);
    expect(() => new Adamax(p, { eps: -1e-8 })).toThrow(/invalid eps/);
    expect(() => new NAdam(p, { momentumDecay: -0.1 })).toThrow(/invalid momentumDecay -0.1/);
    expect(() => new RAdam(p, { weightDecay: -0.1 })).toThrow(FulmenError);
    expect(() => new RAdam([{ params: p, betas: [0.9, -0.1] }])).toThrow(/invalid betas/);
  });

  it("applies each group's own hyperparameters", () => {
    const a = new Parameter([1]);
    const b = new Parameter([1]);
    const opt = new Adamax([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
    a.setGrad(tf.ones([1]));
    b.setGrad(tf.ones([1]));
    opt.step();
    // First Adamax step: lr / (1 - beta1) · (1 - beta1) · g / (|g| + eps) = lr.
    expect(a.data.dataSync()[0]).toBeCloseTo(0.9, 6);
    expect(b.data.dataSync()[0]).toBeCloseTo(0.5, 6);
    opt.disposeState();
  });
});
