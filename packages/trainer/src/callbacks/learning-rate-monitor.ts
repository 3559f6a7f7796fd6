import { FulmenError } from "@fulmen/core";
import type { Trainer } from "../trainer";
import { Callback } from "./callback";

/**
 * Logs each optimizer group's learning rate (and momentum, optionally) every step or every epoch, as Lightning's
 * LearningRateMonitor: names are `lr-<Optimizer>` (with `/pg<i>` for several groups, `-<i>` for several optimizers
 * of one class), or the scheduler config's `name`.
 */
export class LearningRateMonitor extends Callback {
  constructor(
    private readonly options: { loggingInterval?: "step" | "epoch" | null; logMomentum?: boolean } = {},
  ) {
    super();
    const interval = options.loggingInterval ?? null;
    if (interval !== null && interval !== "step" && interval !== "epoch") {
      throw new FulmenError(
        `LearningRateMonitor: loggingInterval must be "step", "epoch" or null, got '${String(interval)}'.`,
      );
    }
  }

  override onTrainStart(trainer: Trainer): void {
    if (trainer.loggers.length === 0) {
      throw new FulmenError("Cannot use LearningRateMonitor callback with a Trainer that has no logger.");
    }
  }

  /** The learning rates now, by metric name. */
  currentRates(trainer: Trainer): Record<string, number> {
    const out: Record<string, number> = {};
    const counts = new Map<string, number>();
    trainer.optimizers.forEach((optimizer, i) => {
      const config = trainer.lrSchedulerConfigs.find((c) => c.optimizerIndex === i);
      const className = optimizer.constructor.name;
      const seen = counts.get(className) ?? 0;
      counts.set(className, seen + 1);
      const base = config?.name ?? `lr-${className}${seen > 0 ? `-${seen}` : ""}`;
      optimizer.paramGroups.forEach((group, g) => {
        const name = optimizer.paramGroups.length > 1 ? `${base}/pg${g + 1}` : base;
        out[name] = group.lr;
        if (this.options.logMomentum) {
          const record = group as unknown as { momentum?: number; betas?: [number, number] };
          const momentum = record.betas?.[0] ?? record.momentum;
          if (momentum !== undefined) out[`${name}-momentum`] = momentum;
        }
      });
    });
    return out;
  }

  private log(trainer: Trainer, step: number): void {
    if (!trainer.isGlobalZero) return;
    for (const logger of trainer.loggers) logger.logMetrics(this.currentRates(trainer), step);
  }

  override onTrainBatchStart(trainer: Trainer): void {
    const interval = this.options.loggingInterval ?? null;
    const stepScheduled = trainer.lrSchedulerConfigs.some((c) => c.interval === "step");
    if (interval === "step" || (interval === null && stepScheduled)) {
      if (trainer.globalStep % trainer.options.logEveryNSteps === 0) this.log(trainer, trainer.globalStep);
    }
  }

  override onTrainEpochStart(trainer: Trainer): void {
    const interval = this.options.loggingInterval ?? null;
    const stepScheduled = trainer.lrSchedulerConfigs.some((c) => c.interval === "step");
    if (interval === "epoch" || (interval === null && !stepScheduled)) this.log(trainer, trainer.globalStep);
  }
}
