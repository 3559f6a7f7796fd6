import { describe, expect, it } from "vitest";
import {
  AdamW,
  ChainedScheduler,
  ConstantLR,
  ExponentialLR,
  LambdaLR,
  LinearLR,
  OneCycleLR,
  Parameter,
  SequentialLR,
  SGD,
  StepLR,
  tf,
} from "../src/index";

function sgd(lr = 0.1) {
  return new SGD([new Parameter(tf.zeros([1]))], { lr, momentum: 0.9 });
}

function run(opt: SGD, scheduler: { step(): void }, steps: number): number[] {
  const lrs = [opt.paramGroups[0]!.lr];
  for (let i = 0; i < steps; i++) {
    scheduler.step();
    lrs.push(opt.paramGroups[0]!.lr);
  }
  return lrs;
}

function expectClose(a: number[], b: number[]): void {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => {
    expect(v).toBeCloseTo(b[i]!, 10);
  });
}

describe("LR schedulers", () => {
  it("SequentialLR runs a warm-up then hands over at the milestone, as PyTorch does", () => {
    const opt = sgd(0.1);
    const warm = new LinearLR(opt, { startFactor: 0.5, totalIters: 2 });
    const decay = new ExponentialLR(opt, { gamma: 0.9 });
    const seq = new SequentialLR(opt, { schedulers: [warm, decay], milestones: [2] });
    expectClose(run(opt, seq, 4), [0.05, 0.075, 0.1, 0.09, 0.081]);
  });

  it("ChainedScheduler multiplies the effects of its schedulers", () => {
    const opt = sgd(1);
    const chained = new ChainedScheduler([
      new ConstantLR(opt, { factor: 0.5, totalIters: 2 }),
      new ExponentialLR(opt, { gamma: 0.9 }),
    ]);
    expectClose(run(opt, chained, 3), [0.5, 0.45, 0.81, 0.729]);
  });

  it("LambdaLR sets base rate times the lambda", () => {
    const opt = sgd(0.2);
    const s = new LambdaLR(opt, { lrLambda: (e) => 1 / (e + 1) });
    expectClose(run(opt, s, 3), [0.2, 0.1, 0.2 / 3, 0.05]);
  });

  it("OneCycleLR cycles Adam's beta1 inversely to the rate", () => {
    const opt = new AdamW([new Parameter(tf.zeros([1]))], { lr: 0.1 });
    const s = new OneCycleLR(opt, { maxLr: 1, totalSteps: 10 });
    expect(opt.paramGroups[0]!.betas[0]).toBeCloseTo(0.95, 10);
    for (let i = 0; i < 2; i++) s.step();
    expect(opt.paramGroups[0]!.lr).toBeCloseTo(1, 10);
    expect(opt.paramGroups[0]!.betas[0]).toBeCloseTo(0.85, 10);
    expect(() => {
      for (let i = 0; i < 10; i++) s.step();
    }).toThrow(/total number of steps is 10/);
  });

  it("a scheduler resumes from its state dict", () => {
    const opt1 = sgd(1);
    const s1 = new StepLR(opt1, { stepSize: 2, gamma: 0.5 });
    run(opt1, s1, 3);
    const opt2 = sgd(1);
    const s2 = new StepLR(opt2, { stepSize: 2, gamma: 0.5 });
    s2.loadStateDict(s1.stateDict());
    opt2.paramGroups[0]!.lr = opt1.paramGroups[0]!.lr;
    expectClose(run(opt2, s2, 3).slice(1), run(opt1, s1, 3).slice(1));
  });

  it("names unknown scheduler options", () => {
    expect(() => new StepLR(sgd(), { stepSize: 2, step_size: 3 } as never)).toThrow(
      /did you mean 'stepSize'/,
    );
    expect(() => new StepLR(sgd(), { stepSize: 0 })).toThrow(/positive integer/);
  });
});
