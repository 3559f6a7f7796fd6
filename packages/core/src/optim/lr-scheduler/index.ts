export { ChainedScheduler } from "./chained-scheduler";
export { ConstantLR, type ConstantLROptions } from "./constant-lr";
export { CosineAnnealingLR, type CosineAnnealingLROptions } from "./cosine-annealing-lr";
export {
  CosineAnnealingWarmRestarts,
  type CosineAnnealingWarmRestartsOptions,
} from "./cosine-annealing-warm-restarts";
export { ExponentialLR, type ExponentialLROptions } from "./exponential-lr";
export { LambdaLR, type LrLambda, MultiplicativeLR } from "./lambda-lr";
export { LinearLR, type LinearLROptions } from "./linear-lr";
export { type AnyOptimizer, LRScheduler, type SchedulerStateDict } from "./lr-scheduler";
export { MultiStepLR, type MultiStepLROptions } from "./multi-step-lr";
export {
  OneCycleLR,
  type OneCycleLROptions,
  type OneCyclePhase,
  type OneCycleValue,
} from "./one-cycle-lr";
export { PolynomialLR, type PolynomialLROptions } from "./polynomial-lr";
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from "./reduce-lr-on-plateau";
export { SequentialLR } from "./sequential-lr";
export { StepLR, type StepLROptions } from "./step-lr";
