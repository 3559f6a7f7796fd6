import {
  ConstantLR,
  CosineAnnealingLR,
  CosineAnnealingWarmRestarts,
  ExponentialLR,
  LinearLR,
  type LRScheduler,
  MultiStepLR,
  OneCycleLR,
  type Optimizer,
  Parameter,
  PolynomialLR,
  ReduceLROnPlateau,
  SGD,
  StepLR,
} from "@fulmen/core";
import { type CaseOutcome, field, type GoldenCase, maxAbsDiff } from "../golden";
import { describe, toFulmenOptions } from "../hparams";

// biome-ignore lint/suspicious/noExplicitAny: scheduler options are validated by each scheduler itself.
type SchedulerFactory = (optimizer: Optimizer, options: any) => LRScheduler;

/** PyTorch scheduler names and the Fulmen schedulers that replay them. */
export const SCHEDULERS: Record<string, SchedulerFactory> = {
  StepLR: (o, h) => new StepLR(o, h),
  MultiStepLR: (o, h) => new MultiStepLR(o, h),
  ExponentialLR: (o, h) => new ExponentialLR(o, h),
  CosineAnnealingLR: (o, h) => new CosineAnnealingLR(o, h),
  CosineAnnealingWarmRestarts: (o, h) => new CosineAnnealingWarmRestarts(o, h),
  LinearLR: (o, h) => new LinearLR(o, h),
  OneCycleLR: (o, h) => new OneCycleLR(o, h),
  PolynomialLR: (o, h) => new PolynomialLR(o, h),
  ConstantLR: (o, h) => new ConstantLR(o, h),
};

function withOptimizer<T>(baseLr: number, run: (optimizer: Optimizer) => T): T {
  const p = Parameter.full([1], 0);
  try {
    // Momentum is there so that OneCycleLR can cycle it, as in the generator; it does not affect the rates.
    return run(new SGD([p], { lr: baseLr, momentum: 0.9 }));
  } finally {
    p.dispose();
  }
}

/** Replays a scheduler case: the rate after construction, then after each `step()`. */
export function runSchedulerCase(c: GoldenCase): CaseOutcome {
  const name = field<string>(c, "scheduler");
  const hparams = field<Record<string, unknown>>(c, "hparams");
  const expected = field<number[]>(c, "lrs");
  const factory = SCHEDULERS[name];
  if (factory === undefined)
    throw new Error(`unknown scheduler '${name}'; known: ${Object.keys(SCHEDULERS).join(", ")}`);
  const lrs = withOptimizer(field<number>(c, "base_lr"), (optimizer) => {
    const scheduler = factory(optimizer, toFulmenOptions(hparams));
    const out = [optimizer.paramGroups[0]!.lr];
    for (let i = 1; i < expected.length; i++) {
      optimizer.step();
      scheduler.step();
      out.push(optimizer.paramGroups[0]!.lr);
    }
    return out;
  });
  return {
    label: `scheduler ${name} ${describe(hparams)}`,
    maxError: maxAbsDiff(lrs, expected),
    tolerance: 1e-6,
    results: { lrs },
  };
}

/** Replays a ReduceLROnPlateau case: the rate after each `step(metric)`. */
export function runPlateauCase(c: GoldenCase): CaseOutcome {
  const hparams = field<Record<string, unknown>>(c, "hparams");
  const metrics = field<number[]>(c, "metrics");
  const lrs = withOptimizer(field<number>(c, "base_lr"), (optimizer) => {
    const scheduler = new ReduceLROnPlateau(optimizer, toFulmenOptions(hparams));
    return metrics.map((m) => {
      scheduler.step(m);
      return optimizer.paramGroups[0]!.lr;
    });
  });
  return {
    label: `plateau ReduceLROnPlateau ${describe(hparams)}`,
    maxError: maxAbsDiff(lrs, field(c, "lrs")),
    tolerance: 1e-6,
    results: { lrs },
  };
}
