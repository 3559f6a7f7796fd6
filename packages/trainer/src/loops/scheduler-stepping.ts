import { FulmenError, ReduceLROnPlateau } from "@fulmen/core";
import type { NormalizedSchedulerConfig } from "../optimizer-config";

/** Steps one scheduler; ReduceLROnPlateau reads its monitored metric from `metrics` (the callback metrics). */
export function stepScheduler(config: NormalizedSchedulerConfig, metrics: Record<string, number>): void {
  if (!(config.scheduler instanceof ReduceLROnPlateau)) {
    config.scheduler.step();
    return;
  }
  const metric = metrics[config.monitor!];
  if (metric !== undefined) {
    config.scheduler.step(metric);
    return;
  }
  if (config.strict) {
    throw new FulmenError(
      `ReduceLROnPlateau conditioned on metric '${config.monitor}', which is not available. Available metrics are: ${Object.keys(metrics).join(", ") || "none"}. Log it with this.log, or set strict: false.`,
    );
  }
}
