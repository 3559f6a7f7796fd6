import { FulmenError, tf } from "@fulmen/core";
import type { LogOptions } from "../lightning-module";

/** Where a metric was logged, which sets Lightning's defaults for `onStep`/`onEpoch`. */
export type LogContext = "train-step" | "eval-step" | "epoch-end";

/** A logged value accumulated over a step or an epoch (its sum, count and how it reduces). */
export interface Accumulator {
  /** The sum of the logged values: weighted by their batch sizes, except with `reduceFx: "sum"`. */
  sum: number;
  /** The sum of the batch sizes (the weights) of the logged values; the mean is `sum / weight`. */
  weight: number;
  /** The largest value logged (`-Infinity` before the first). */
  max: number;
  /** The smallest value logged (`Infinity` before the first). */
  min: number;
  /** How the epoch's values reduce to one: `"mean"` (the default), `"sum"`, `"max"` or `"min"`. */
  reduceFx: NonNullable<LogOptions["reduceFx"]>;
  /** Whether the epoch value is shown in the progress bar (the `progBar` log option). */
  progBar: boolean;
  /** Whether the epoch value is sent to the loggers (the `logger` log option). */
  logger: boolean;
  /** Whether the metric is logged both on step and on epoch, so its epoch value is named `name_epoch`. */
  forked: boolean;
}

/** A serialisable snapshot of the epoch's running aggregates, for mid-epoch checkpoints. */
export type MetricStoreState = Record<string, Accumulator>;

/**
 * Lightning's ResultCollection: turns `this.log` calls into step values (for the loggers and the progress bar)
 * and epoch aggregates (weighted mean, sum, max or min), with Lightning's naming: a metric logged both on step
 * and on epoch appears as `name_step` and `name_epoch`, and as `name` in the callback metrics. In an evaluation
 * store (`training` false) step values reach the loggers and the progress bar but not the callback metrics,
 * which hold only epoch values there (Lightning's `_ResultCollection.metrics`).
 */
export class MetricStore {
  /** `training`: whether this store collects the training loop's metrics (default true). */
  constructor(private readonly training = true) {}

  private stepValues = new Map<string, { value: number; progBar: boolean; logger: boolean }>();
  private epoch = new Map<string, Accumulator>();
  /** The latest value of every metric, as callbacks see them (`trainer.callbackMetrics`). */
  readonly callbackMetrics: Record<string, number> = {};
  /** The metrics shown in the progress bar. */
  readonly progressBarMetrics: Record<string, number> = {};

  /** Records one logged value. */
  record(
    name: string,
    value: number | tf.Tensor,
    options: LogOptions,
    context: LogContext,
    batchSize: number,
  ): void {
    const number = typeof value === "number" ? value : scalarOf(name, value);
    const onStep = options.onStep ?? context === "train-step";
    const onEpoch = options.onEpoch ?? context !== "train-step";
    if (!onStep && !onEpoch) return;
    const progBar = options.progBar ?? false;
    const logger = options.logger ?? true;
    const forked = onStep && onEpoch;
    if (onStep) {
      const key = forked ? `${name}_step` : name;
      this.stepValues.set(key, { value: number, progBar, logger });
      if (this.training) {
        this.callbackMetrics[key] = number;
        if (forked) this.callbackMetrics[name] = number;
      }
      if (progBar) this.progressBarMetrics[key] = number;
    }
    if (onEpoch) {
      const weight = options.batchSize ?? batchSize;
      const acc = this.epoch.get(name) ?? {
        sum: 0,
        weight: 0,
        max: Number.NEGATIVE_INFINITY,
        min: Number.POSITIVE_INFINITY,
        reduceFx: options.reduceFx ?? "mean",
        progBar,
        logger,
        forked,
      };
      acc.sum += options.reduceFx === "sum" ? number : number * weight;
      acc.weight += weight;
      acc.max = Math.max(acc.max, number);
      acc.min = Math.min(acc.min, number);
      this.epoch.set(name, acc);
    }
  }

  /** Takes the step values recorded since the last call: those meant for the loggers. */
  takeStepMetrics(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of this.stepValues) if (v.logger) out[k] = v.value;
    this.stepValues.clear();
    return out;
  }

  /** Whether step values are waiting to be logged. */
  get hasStepMetrics(): boolean {
    return this.stepValues.size > 0;
  }

  /** Reduces the epoch's aggregates, updates the callback and progress-bar metrics, and returns those for the loggers. */
  endEpoch(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, acc] of this.epoch) {
      const value =
        acc.reduceFx === "sum"
          ? acc.sum
          : acc.reduceFx === "max"
            ? acc.max
            : acc.reduceFx === "min"
              ? acc.min
              : acc.sum / acc.weight;
      const key = acc.forked ? `${name}_epoch` : name;
      this.callbackMetrics[key] = value;
      this.callbackMetrics[name] = value;
      if (acc.progBar) this.progressBarMetrics[key] = value;
      if (acc.logger) out[key] = value;
    }
    this.epoch.clear();
    return out;
  }

  /** Drops what was recorded without reducing it (the sanity check's metrics). */
  discard(): void {
    this.stepValues.clear();
    this.epoch.clear();
  }

  /** The running aggregates, for a mid-epoch checkpoint. */
  stateDict(): MetricStoreState {
    return Object.fromEntries([...this.epoch].map(([k, v]) => [k, { ...v }]));
  }

  /** Restores {@link MetricStore.stateDict}. */
  loadStateDict(state: MetricStoreState): void {
    this.epoch = new Map(Object.entries(state ?? {}).map(([k, v]) => [k, { ...v }]));
  }
}

function scalarOf(name: string, t: tf.Tensor): number {
  if (t.size !== 1)
    throw new FulmenError(
      `this.log('${name}'): a logged tensor must hold one value, got shape [${t.shape}].`,
    );
  return t.dataSync()[0]!;
}

/** The batch size of a batch (the first dimension of its first tensor), for weighted epoch means. */
export function batchSizeOf(batch: unknown): number {
  if (batch instanceof tf.Tensor) return batch.shape[0] ?? 1;
  if (Array.isArray(batch)) {
    for (const item of batch) {
      const n = batchSizeOf(item);
      if (n > 0) return n;
    }
    return 1;
  }
  if (batch !== null && typeof batch === "object") {
    for (const item of Object.values(batch)) {
      const n = batchSizeOf(item);
      if (n > 0) return n;
    }
  }
  return 1;
}
