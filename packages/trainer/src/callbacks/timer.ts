import { FulmenError } from "@fulmen/core";
import type { Trainer } from "../trainer";
import { Callback } from "./callback";

/**
 * Measures time spent in each stage and stops training once `duration` has passed (Lightning's Timer; checked
 * after every batch, or at epoch ends with interval "epoch").
 */
export class Timer extends Callback {
  private readonly durationMs: number | null;
  private readonly interval: "step" | "epoch";
  private readonly starts = new Map<string, number>();
  private readonly ends = new Map<string, number>();
  private offsetMs = 0;

  constructor(
    options: {
      duration?: { days?: number; hours?: number; minutes?: number; seconds?: number } | null;
      interval?: "step" | "epoch";
    } = {},
  ) {
    super();
    const d = options.duration;
    this.durationMs =
      d == null
        ? null
        : ((((d.days ?? 0) * 24 + (d.hours ?? 0)) * 60 + (d.minutes ?? 0)) * 60 + (d.seconds ?? 0)) * 1000;
    this.interval = options.interval ?? "step";
    if (this.interval !== "step" && this.interval !== "epoch")
      throw new FulmenError(`Timer: interval must be "step" or "epoch".`);
  }

  /** Seconds spent in a stage so far ("train", "validate", "test"). */
  timeElapsed(stage: "train" | "validate" | "test" = "train"): number {
    const start = this.starts.get(stage);
    if (start === undefined) return stage === "train" ? this.offsetMs / 1000 : 0;
    const end = this.ends.get(stage) ?? Date.now();
    return (end - start + (stage === "train" ? this.offsetMs : 0)) / 1000;
  }

  /** Seconds left of the duration, or null without one. */
  timeRemaining(): number | null {
    return this.durationMs === null ? null : this.durationMs / 1000 - this.timeElapsed("train");
  }

  override onTrainStart(): void {
    this.starts.set("train", Date.now());
    this.ends.delete("train");
  }
  override onTrainEnd(): void {
    this.ends.set("train", Date.now());
  }
  override onValidationStart(): void {
    this.starts.set("validate", Date.now());
  }
  override onValidationEnd(): void {
    this.ends.set("validate", Date.now());
  }
  override onTestStart(): void {
    this.starts.set("test", Date.now());
  }
  override onTestEnd(): void {
    this.ends.set("test", Date.now());
  }

  private check(trainer: Trainer): void {
    const remaining = this.timeRemaining();
    if (remaining !== null && remaining <= 0) trainer.shouldStop = true;
  }

  override onTrainBatchEnd(trainer: Trainer): void {
    if (this.interval === "step") this.check(trainer);
  }
  override onTrainEpochEnd(trainer: Trainer): void {
    if (this.interval === "epoch") this.check(trainer);
  }

  override stateDict(): Record<string, unknown> {
    return { timeElapsedTrainMs: this.timeElapsed("train") * 1000 };
  }
  override loadStateDict(state: Record<string, unknown>): void {
    this.offsetMs = Number(state.timeElapsedTrainMs ?? 0);
  }
}
