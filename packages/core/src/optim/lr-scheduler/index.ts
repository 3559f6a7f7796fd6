export { LRScheduler, type AnyOptimizer, type SchedulerStateDict } from "./lr-scheduler";
export { StepLR, type StepLROptions } from "./step-lr";
export { MultiStepLR, type MultiStepLROptions } from "./multi-step-lr";
export { ExponentialLR, type ExponentialLROptions } from "./exponential-lr";
export { ConstantLR, type ConstantLROptions } from "./constant-lr";
export { LinearLR, type LinearLROptions } from "./linear-lr";
export { PolynomialLR, type PolynomialLROptions } from "./polynomial-lr";
export { CosineAnnealingLR, type CosineAnnealingLROptions } from "./cosine-annealing-lr";
export {
  CosineAnnealingWarmRestarts,
  type CosineAnnealingWarmRestartsOptions,
} from "./cosine-annealing-warm-restarts";
export { OneCycleLR, type OneCycleLROptions } from "./one-cycle-lr";
export { LambdaLR, MultiplicativeLR, type LrLambda } from "./lambda-lr";
export { SequentialLR } from "./sequential-lr";
export { ChainedScheduler } from "./chained-scheduler";
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from "./reduce-lr-on-plateau";
