import type { Logger, tf } from "@fulmen/core";
import type { LogOptions } from "../lightning-module";
import { type LogContext, MetricStore } from "./metric-store";

/** The stages that keep metrics of their own. */
export type MetricStage = "train" | "validate" | "test";

/**
 * Lightning's logger connector: sends `this.log` calls to the metric store of the stage that runs, with the
 * defaults of where they are made, and the reduced metrics to the loggers (on rank 0 only).
 */
export class LoggerConnector {
  /** One store per stage, so that validation inside an epoch does not mix with the training aggregates. */
  readonly stores: Record<MetricStage, MetricStore> = {
    train: new MetricStore(true),
    validate: new MetricStore(false),
    test: new MetricStore(false),
  };
  /**
   * Evaluation batches whose step metrics were logged, per stage: the step of the next one (Lightning's
   * `_seen_batches_per_dataloader`, which counts on across the validation runs of one fit).
   */
  private readonly evalSteps: Record<"validate" | "test", number> = { validate: 0, test: 0 };
  /** Every metric the loggers received last, by name. */
  readonly loggedMetrics: Record<string, number> = {};
  /** The latest training loss, shown in the progress bar as `loss`. */
  lastLoss: number | null = null;
  private store: MetricStore = this.stores.train;
  private context: LogContext = "train-step";
  private batchSize = 1;

  constructor(
    private readonly loggers: readonly Logger[],
    private readonly isGlobalZero: () => boolean,
  ) {}

  /** Sends the following `this.log` calls to `stage`'s store. */
  useStore(stage: MetricStage): void {
    this.store = this.stores[stage];
  }

  /** Sets where the following `this.log` calls are made and, for steps, the batch size that weights epoch means. */
  setContext(context: LogContext, batchSize?: number): void {
    this.context = context;
    if (batchSize !== undefined) this.batchSize = batchSize;
  }

  /** Records one `this.log` call (its value already reduced across ranks when asked). */
  record(name: string, value: number | tf.Tensor, options: LogOptions): void {
    this.store.record(name, value, options, this.context, this.batchSize);
  }

  /** Sends metrics to every logger on rank 0, with the epoch unless it is null. */
  logMetrics(metrics: Record<string, number>, step: number, epoch: number | null): void {
    if (Object.keys(metrics).length === 0 || !this.isGlobalZero()) return;
    const withEpoch = epoch === null ? { ...metrics } : { ...metrics, epoch };
    Object.assign(this.loggedMetrics, withEpoch);
    for (const logger of this.loggers) logger.logMetrics(withEpoch, step);
  }

  /** Starts counting evaluation steps afresh (at the start of fit, validate and test, as Lightning's loops). */
  resetEvalSteps(): void {
    this.evalSteps.validate = 0;
    this.evalSteps.test = 0;
  }

  /**
   * After an evaluation batch: sends the metrics it logged with `onStep` (`name_step`, or `name` without
   * `onEpoch`) to the loggers, at the count of evaluation batches seen so far, without an epoch column
   * (Lightning's `update_eval_step_metrics`).
   */
  logEvalStepMetrics(stage: "validate" | "test"): void {
    const store = this.stores[stage];
    const step = this.evalSteps[stage];
    this.evalSteps[stage] += 1;
    if (store.hasStepMetrics) this.logMetrics(store.takeStepMetrics(), step, null);
  }

  /** The latest value of every metric, as callbacks see them. */
  get callbackMetrics(): Record<string, number> {
    return {
      ...this.stores.train.callbackMetrics,
      ...this.stores.validate.callbackMetrics,
      ...this.stores.test.callbackMetrics,
    };
  }

  /** The metrics shown in the progress bar, with the running training loss as `loss`. */
  get progressBarMetrics(): Record<string, number> {
    const loss: Record<string, number> = this.lastLoss === null ? {} : { loss: this.lastLoss };
    return { ...loss, ...this.stores.train.progressBarMetrics, ...this.stores.validate.progressBarMetrics };
  }
}
