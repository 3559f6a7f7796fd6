import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import type { AnyOptimizer, SchedulerStateDict } from "./lr-scheduler";

/** Options of {@link ReduceLROnPlateau}, as in `torch.optim.lr_scheduler.ReduceLROnPlateau`. */
export interface ReduceLROnPlateauOptions {
  /** Whether the metric should go down ("min", default) or up ("max"). */
  mode?: "min" | "max";
  /** The factor the learning rate is multiplied by on a plateau, < 1 (default 0.1). */
  factor?: number;
  /** The number of steps without improvement tolerated before the rate is reduced (default 10). */
  patience?: number;
  /** The least change that counts as an improvement, relative or absolute (`thresholdMode`; default 1e-4). */
  threshold?: number;
  /**
   * How `threshold` applies: "rel" (default) requires beating `best * (1 - threshold)` in "min" mode
   * (`best * (1 + threshold)` in "max" mode), "abs" requires beating `best - threshold` (`best + threshold`).
   */
  thresholdMode?: "rel" | "abs";
  /** The number of steps to wait after a reduction before counting bad steps again (default 0). */
  cooldown?: number;
  /** A floor for the learning rate, one for all groups or one per group. */
  minLr?: number | number[];
  /** Reductions smaller than this are ignored. */
  eps?: number;
}

const NAMES = [
  "mode",
  "factor",
  "patience",
  "threshold",
  "thresholdMode",
  "cooldown",
  "minLr",
  "eps",
] as const;

/**
 * Multiplies the learning rate by `factor` when a metric has stopped improving for `patience` steps, like
 * `torch.optim.lr_scheduler.ReduceLROnPlateau`. `step(metric)` takes the metric.
 */
export class ReduceLROnPlateau {
  /** Whether the metric should go down ("min") or up ("max"). */
  readonly mode: "min" | "max";
  /** The factor the learning rate is multiplied by on a plateau. */
  readonly factor: number;
  /** The number of steps without improvement tolerated before the rate is reduced. */
  readonly patience: number;
  /** The least change that counts as an improvement, relative or absolute per `thresholdMode`. */
  readonly threshold: number;
  /** Whether `threshold` is relative to the best metric ("rel") or absolute ("abs"). */
  readonly thresholdMode: "rel" | "abs";
  /** The number of steps to wait after a reduction before counting bad steps again. */
  readonly cooldown: number;
  /** Each group's floor for the learning rate. */
  readonly minLrs: number[];
  /** Reductions of the learning rate smaller than this are ignored. */
  readonly eps: number;
  /** The best metric seen so far (starts at +Infinity in "min" mode, -Infinity in "max" mode). */
  best: number;
  /** Consecutive steps without improvement (PyTorch's `num_bad_epochs`). */
  numBadEpochs = 0;
  /** Steps left in the current cooldown (0 when not in one). */
  cooldownCounter = 0;
  /** The number of steps taken, i.e. of metrics recorded. */
  lastEpoch = 0;
  private lastLrs: number[];

  constructor(
    /** The optimizer whose parameter groups' learning rates this scheduler reduces. */
    readonly optimizer: AnyOptimizer,
    options: ReduceLROnPlateauOptions = {},
  ) {
    checkOptionNames("ReduceLROnPlateau", options, NAMES);
    this.mode = options.mode ?? "min";
    this.thresholdMode = options.thresholdMode ?? "rel";
    if (this.mode !== "min" && this.mode !== "max") {
      throw new FulmenError(`ReduceLROnPlateau: mode must be "min" or "max", got '${String(this.mode)}'.`);
    }
    if (this.thresholdMode !== "rel" && this.thresholdMode !== "abs") {
      throw new FulmenError(
        `ReduceLROnPlateau: thresholdMode must be "rel" or "abs", got '${String(this.thresholdMode)}'.`,
      );
    }
    this.factor = options.factor ?? 0.1;
    checkNumber("ReduceLROnPlateau", "factor", this.factor, (v) => v < 1, "< 1");
    this.patience = options.patience ?? 10;
    this.threshold = options.threshold ?? 1e-4;
    this.cooldown = options.cooldown ?? 0;
    this.eps = options.eps ?? 1e-8;
    const groups = optimizer.paramGroups.length;
    const minLr = options.minLr ?? 0;
    if (Array.isArray(minLr) && minLr.length !== groups) {
      throw new FulmenError(`ReduceLROnPlateau: expected ${groups} minLr values, got ${minLr.length}.`);
    }
    this.minLrs = Array.isArray(minLr) ? [...minLr] : Array.from({ length: groups }, () => minLr);
    this.best = this.mode === "min" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    this.lastLrs = optimizer.paramGroups.map((g) => g.lr);
  }

  /** Records the metric of this step and reduces the learning rates if it has plateaued. */
  step(metric: number): void {
    if (typeof metric !== "number" || Number.isNaN(metric)) {
      throw new FulmenError(`ReduceLROnPlateau.step: expected a numeric metric, got ${String(metric)}.`);
    }
    this.lastEpoch += 1;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLrs = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** Whether the scheduler is waiting out its cooldown. */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** The learning rates after the last step. */
  getLastLr(): number[] {
    return [...this.lastLrs];
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((group, i) => {
      const oldLr = group.lr;
      const newLr = Math.max(oldLr * this.factor, this.minLrs[i]!);
      if (oldLr - newLr > this.eps) group.lr = newLr;
    });
  }

  private isBetter(a: number): boolean {
    const best = this.best;
    if (this.mode === "min" && this.thresholdMode === "rel") return a < best * (1 - this.threshold);
    if (this.mode === "min") return a < best - this.threshold;
    if (this.thresholdMode === "rel") return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  /** The scheduler's counters and best metric. */
  stateDict(): SchedulerStateDict {
    return {
      best: this.best,
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastEpoch: this.lastEpoch,
      lastLrs: [...this.lastLrs],
    };
  }

  /** Restores a state from {@link ReduceLROnPlateau.stateDict}. */
  loadStateDict(state: SchedulerStateDict): void {
    this.best = Number(state.best);
    this.numBadEpochs = Number(state.numBadEpochs);
    this.cooldownCounter = Number(state.cooldownCounter);
    this.lastEpoch = Number(state.lastEpoch);
    if (Array.isArray(state.lastLrs)) this.lastLrs = state.lastLrs.map(Number);
  }
}
