import { FulmenError, LRScheduler, Optimizer, ReduceLROnPlateau } from "@fulmen/core";
import type { LRSchedulerConfig, OptimizerConfig } from "./lightning-module";

/** A scheduler configuration with every field filled in. */
export interface NormalizedSchedulerConfig {
  /** The scheduler to step. */
  scheduler: LRScheduler | ReduceLROnPlateau;
  /** Whether it is stepped every `"epoch"` (the default) or every optimizer `"step"`. */
  interval: "epoch" | "step";
  /** It is stepped every this many intervals (default 1). */
  frequency: number;
  /** The metric a ReduceLROnPlateau reads; null when none was given (other schedulers need none). */
  monitor: string | null;
  /** Whether a missing monitored metric is an error (default true); when false, that step is skipped. */
  strict: boolean;
  /** The name LearningRateMonitor logs its learning rate under; null for the default `lr-<Optimizer>`. */
  name: string | null;
  /** Index of the optimizer it drives. */
  optimizerIndex: number;
}

function isScheduler(value: unknown): value is LRScheduler | ReduceLROnPlateau {
  return value instanceof LRScheduler || value instanceof ReduceLROnPlateau;
}

function normalizeScheduler(
  value: LRScheduler | ReduceLROnPlateau | LRSchedulerConfig,
  optimizers: Optimizer[],
): NormalizedSchedulerConfig {
  const config: LRSchedulerConfig = isScheduler(value) ? { scheduler: value } : value;
  if (!isScheduler(config.scheduler)) {
    throw new FulmenError(
      "configureOptimizers: an lrScheduler entry must be a scheduler or { scheduler, interval, ... }.",
    );
  }
  const interval = config.interval ?? "epoch";
  if (interval !== "epoch" && interval !== "step") {
    throw new FulmenError(
      `configureOptimizers: interval must be "epoch" or "step", got '${String(interval)}'.`,
    );
  }
  if (config.scheduler instanceof ReduceLROnPlateau && config.monitor === undefined) {
    throw new FulmenError(
      "configureOptimizers: ReduceLROnPlateau needs a metric to watch: return { optimizer, lrScheduler: { scheduler, monitor: 'val_loss' } }.",
    );
  }
  const optimizerIndex = optimizers.indexOf(config.scheduler.optimizer as Optimizer);
  return {
    scheduler: config.scheduler,
    interval,
    frequency: config.frequency ?? 1,
    monitor: config.monitor ?? null,
    strict: config.strict ?? true,
    name: config.name ?? null,
    optimizerIndex,
  };
}

/** Reads every form Lightning's `configure_optimizers` may return. */
export function normalizeOptimizerConfig(config: OptimizerConfig | undefined): {
  optimizers: Optimizer[];
  schedulers: NormalizedSchedulerConfig[];
} {
  if (config === undefined || config === null) {
    throw new FulmenError(
      "configureOptimizers returned nothing; return an optimizer (or set automaticOptimization = false and return one too).",
    );
  }
  if (config instanceof Optimizer) return { optimizers: [config], schedulers: [] };
  if (Array.isArray(config)) {
    if (config.length === 2 && Array.isArray(config[0]) && Array.isArray(config[1])) {
      const optimizers = config[0] as Optimizer[];
      return {
        optimizers,
        schedulers: (config[1] as Array<LRScheduler | LRSchedulerConfig>).map((s) =>
          normalizeScheduler(s, optimizers),
        ),
      };
    }
    if (config.every((c) => c instanceof Optimizer))
      return { optimizers: config as Optimizer[], schedulers: [] };
    const entries = config as Array<{
      optimizer: Optimizer;
      lrScheduler?: LRScheduler | ReduceLROnPlateau | LRSchedulerConfig;
    }>;
    const optimizers = entries.map((e) => e.optimizer);
    const schedulers = entries.flatMap((e) =>
      e.lrScheduler === undefined ? [] : [normalizeScheduler(e.lrScheduler, optimizers)],
    );
    return { optimizers, schedulers };
  }
  if (typeof config === "object" && "optimizer" in config) {
    const optimizers = [config.optimizer];
    return {
      optimizers,
      schedulers:
        config.lrScheduler === undefined ? [] : [normalizeScheduler(config.lrScheduler, optimizers)],
    };
  }
  throw new FulmenError(
    "configureOptimizers returned something Fulmen cannot read; see OptimizerConfig for the accepted forms.",
  );
}
