/** @fulmen/trainer: Lightning's Trainer, LightningModule and LightningDataModule, built on Fabric. */

export { Callback, type HookName, type Stage } from "./callbacks/callback";
export { EarlyStopping, type EarlyStoppingOptions } from "./callbacks/early-stopping";
export { GradientAccumulationScheduler } from "./callbacks/gradient-accumulation-scheduler";
export { LearningRateMonitor } from "./callbacks/learning-rate-monitor";
export {
  formatCheckpointName,
  ModelCheckpoint,
  type ModelCheckpointOptions,
} from "./callbacks/model-checkpoint";
export {
  ModelSummary,
  type ModelSummaryOptions,
  type SummaryRow,
  summarize,
} from "./callbacks/model-summary";
export { ProgressBar } from "./callbacks/progress-bar";
export { Timer } from "./callbacks/timer";
export {
  type ClassConfig,
  type CliCommand,
  type CliConfig,
  CliUsageError,
  mergeConfig,
  parseCli,
  runCli,
} from "./cli/lightning-cli";
export { LightningDataModule } from "./datamodule";
export {
  LightningModule,
  type LogOptions,
  type LRSchedulerConfig,
  type OptimizerConfig,
  type TrainingStepOutput,
} from "./lightning-module";
export { LoggerConnector, type MetricStage } from "./logging/logger-connector";
export {
  type Accumulator,
  type LogContext,
  MetricStore,
  type MetricStoreState,
} from "./logging/metric-store";
export { FitLoop, type FitLoopProgress, type FitLoopState } from "./loops/fit-loop";
export type { NormalizedSchedulerConfig } from "./optimizer-config";
export { SimpleProfiler } from "./profiler/simple-profiler";
export { type EvaluateOptions, type FitOptions, Trainer, type TrainerState } from "./trainer";
export type { ResolvedTrainerOptions, TrainerOptions } from "./trainer-options";
export { type LrFindOptions, type LrFindResult, lrFind, writeLrPlot } from "./tuner/lr-finder";
