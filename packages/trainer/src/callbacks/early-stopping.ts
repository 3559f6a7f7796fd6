import { FulmenError } from "@fulmen/core";
import type { Trainer } from "../trainer";
import { Callback } from "./callback";

/** Options of {@link EarlyStopping}, as Lightning's. */
export interface EarlyStoppingOptions {
  /** The name of the logged metric to watch (required), as logged with `this.log`, e.g. `"val_loss"`. */
  monitor: string;
  /** An improvement smaller than this does not count (default 0). */
  minDelta?: number;
  /** Checks without improvement before stopping (default 3). */
  patience?: number;
  /** `"min"`: stop when the metric stops decreasing; `"max"`: when it stops increasing (default `"min"`). */
  mode?: "min" | "max";
  /** Fail when the metric is missing (default true). */
  strict?: boolean;
  /** Stop when the metric becomes NaN or infinite (default true). */
  checkFinite?: boolean;
  /** Stop as soon as the metric reaches this value. */
  stoppingThreshold?: number | null;
  /** Stop as soon as the metric is worse than this value. */
  divergenceThreshold?: number | null;
  /** Check at the end of training epochs instead of after validation. */
  checkOnTrainEpochEnd?: boolean | null;
}

/** Stops training when a monitored metric has stopped improving (Lightning's EarlyStopping). */
export class EarlyStopping extends Callback {
  /** The name of the metric watched. */
  readonly monitor: string;
  /**
   * The smallest change that counts as an improvement, signed as in Lightning: the given `minDelta`'s
   * absolute value, negated in `"min"` mode (default 0).
   */
  readonly minDelta: number;
  /** The number of checks without improvement after which training stops (default 3). */
  readonly patience: number;
  /** Whether lower (`"min"`, the default) or higher (`"max"`) values of the metric are better. */
  readonly mode: "min" | "max";
  /** Whether a missing metric is an error (default true); when false, a check without it is skipped. */
  readonly strict: boolean;
  /** Whether training stops when the metric becomes NaN or infinite (default true). */
  readonly checkFinite: boolean;
  /** Training stops as soon as the metric is better than this value; null (the default) for no threshold. */
  readonly stoppingThreshold: number | null;
  /** Training stops as soon as the metric is worse than this value; null (the default) for no threshold. */
  readonly divergenceThreshold: number | null;
  private readonly checkOnTrainEpochEnd: boolean | null;
  /** Checks since the last improvement. */
  waitCount = 0;
  /** The best value so far. */
  bestScore: number;
  /** The epoch training was stopped at, if it was. */
  stoppedEpoch = 0;
  /** Why it stopped. */
  reason: string | null = null;

  constructor(options: EarlyStoppingOptions) {
    super();
    if (typeof options?.monitor !== "string")
      throw new FulmenError("EarlyStopping needs a monitor (the name of a logged metric).");
    this.monitor = options.monitor;
    this.mode = options.mode ?? "min";
    if (this.mode !== "min" && this.mode !== "max")
      throw new FulmenError(`EarlyStopping: mode must be "min" or "max".`);
    this.minDelta = Math.abs(options.minDelta ?? 0) * (this.mode === "min" ? -1 : 1);
    this.patience = options.patience ?? 3;
    this.strict = options.strict ?? true;
    this.checkFinite = options.checkFinite ?? true;
    this.stoppingThreshold = options.stoppingThreshold ?? null;
    this.divergenceThreshold = options.divergenceThreshold ?? null;
    this.checkOnTrainEpochEnd = options.checkOnTrainEpochEnd ?? null;
    this.bestScore = this.mode === "min" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  private checksOnTrainEpochEnd(trainer: Trainer): boolean {
    if (this.checkOnTrainEpochEnd !== null) return this.checkOnTrainEpochEnd;
    return trainer.numValBatches === 0;
  }

  override onTrainEpochEnd(trainer: Trainer): void {
    if (this.checksOnTrainEpochEnd(trainer)) this.check(trainer);
  }

  override onValidationEnd(trainer: Trainer): void {
    if (trainer.state.stage === "sanity_check" || trainer.state.fn !== "fit") return;
    if (!this.checksOnTrainEpochEnd(trainer)) this.check(trainer);
  }

  private improved(current: number): boolean {
    return this.mode === "min"
      ? current - this.minDelta < this.bestScore
      : current - this.minDelta > this.bestScore;
  }

  private check(trainer: Trainer): void {
    const current = trainer.callbackMetrics[this.monitor];
    if (current === undefined) {
      if (this.strict) {
        throw new FulmenError(
          `EarlyStopping conditioned on metric '${this.monitor}', which is not available. Available metrics are: ${Object.keys(trainer.callbackMetrics).join(", ") || "none"}. Log it with this.log, or pass strict: false.`,
        );
      }
      return;
    }
    let stop = false;
    if (this.checkFinite && !Number.isFinite(current)) {
      stop = true;
      this.reason = `Monitored metric ${this.monitor} = ${current} is not finite.`;
    } else if (
      this.stoppingThreshold !== null &&
      (this.mode === "min" ? current < this.stoppingThreshold : current > this.stoppingThreshold)
    ) {
      stop = true;
      this.reason = `Stopping threshold reached: ${this.monitor} = ${current}.`;
    } else if (
      this.divergenceThreshold !== null &&
      (this.mode === "min" ? current > this.divergenceThreshold : current < this.divergenceThreshold)
    ) {
      stop = true;
      this.reason = `Divergence threshold reached: ${this.monitor} = ${current}.`;
    } else if (this.improved(current)) {
      this.bestScore = current;
      this.waitCount = 0;
    } else {
      this.waitCount += 1;
      if (this.waitCount >= this.patience) {
        stop = true;
        this.reason = `Monitored metric ${this.monitor} did not improve in the last ${this.waitCount} records. Best score: ${this.bestScore}.`;
      }
    }
    if (stop) {
      this.stoppedEpoch = trainer.currentEpoch;
      trainer.shouldStop = true;
    }
  }

  override stateDict(): Record<string, unknown> {
    return {
      waitCount: this.waitCount,
      stoppedEpoch: this.stoppedEpoch,
      bestScore: this.bestScore,
      patience: this.patience,
    };
  }

  override loadStateDict(state: Record<string, unknown>): void {
    this.waitCount = Number(state.waitCount ?? 0);
    this.stoppedEpoch = Number(state.stoppedEpoch ?? 0);
    this.bestScore = Number(state.bestScore ?? this.bestScore);
  }
}
