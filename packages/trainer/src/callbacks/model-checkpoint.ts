import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { copyFileAtomic, FulmenError, isShardedCheckpoint } from "@fulmen/core";
import { copyShardedCheckpoint } from "@fulmen/core/plugin";
import type { Trainer } from "../trainer";
import { Callback } from "./callback";

/** Options of {@link ModelCheckpoint}, as Lightning's. */
export interface ModelCheckpointOptions {
  /** Folder (default: `<logDir>/checkpoints`). */
  dirpath?: string;
  /** Name template without extension, e.g. "{epoch}-{val_loss:.2f}" (default "{epoch}-{step}"). */
  filename?: string;
  /** The metric to rank checkpoints by; none keeps the latest. */
  monitor?: string | null;
  /** Whether lower (`"min"`, the default) or higher (`"max"`) values of `monitor` are better. */
  mode?: "min" | "max";
  /** Keep the best k (-1: all, 0: none; default 1). */
  saveTopK?: number;
  /** Also keep `last.ckpt`, the latest state. */
  saveLast?: boolean;
  /** Save every this many training steps. */
  everyNTrainSteps?: number | null;
  /** Save every this many epochs (default 1 when neither everyNTrainSteps nor trainTimeInterval is given). */
  everyNEpochs?: number | null;
  /**
   * Save when this many milliseconds of training have passed since the last save, checked after every training
   * batch (Lightning's `train_time_interval`). Exclusive with everyNTrainSteps and everyNEpochs.
   */
  trainTimeInterval?: number | null;
  /** Write `name=value` in the file name for `{name}` fields (default true). */
  autoInsertMetricName?: boolean;
  /** Save only the weights. */
  saveWeightsOnly?: boolean;
  /** Fail when the monitored metric is missing (default true). */
  strict?: boolean;
}

interface Kept {
  path: string;
  score: number;
}

/** The bookkeeping a save changes, to put back when the save fails. */
interface Bookkeeping {
  kept: Kept[];
  bestModelPath: string;
  bestModelScore: number | null;
  bestKModels: Record<string, number>;
  lastModelPath: string;
}

/** Formats a Lightning filename template: `{epoch}` → `epoch=3`, `{val_loss:.2f}` → `val_loss=0.12`. */
export function formatCheckpointName(
  template: string,
  metrics: Record<string, number>,
  autoInsert: boolean,
): string {
  return template.replace(/\{([^}:]+)(?::([^}]*))?\}/g, (_, name: string, format: string | undefined) => {
    const value = metrics[name];
    let text: string;
    if (value === undefined) text = "nan";
    else {
      const fixed = /^\.(\d+)f$/.exec(format ?? "");
      const width = /^0?(\d+)d$/.exec(format ?? "");
      text = fixed
        ? value.toFixed(Number(fixed[1]))
        : width
          ? String(Math.round(value)).padStart(Number(width[1]), "0")
          : String(value);
    }
    return autoInsert ? `${name}=${text}` : text;
  });
}

/**
 * Saves checkpoints during fit (Lightning's ModelCheckpoint): the top-k by a monitored metric, or the latest,
 * plus `last.ckpt` on request. Knows the best model's path and score.
 */
export class ModelCheckpoint extends Callback {
  /** The metric checkpoints are ranked by; null (the default) keeps the latest checkpoints instead. */
  readonly monitor: string | null;
  /** Whether lower (`"min"`, the default) or higher (`"max"`) values of `monitor` are better. */
  readonly mode: "min" | "max";
  /** How many checkpoints are kept: the best k, -1 for all, 0 for none (default 1). */
  readonly saveTopK: number;
  /** Whether `last.ckpt`, a copy of the latest state, is also kept (default false). */
  readonly saveLast: boolean;
  /** Save every this many training steps (global steps); null (the default) to not save by steps. */
  readonly everyNTrainSteps: number | null;
  /**
   * Save every this many epochs: default 1 when neither `everyNTrainSteps` nor `trainTimeInterval` is given,
   * else 0 (never at epoch ends).
   */
  readonly everyNEpochs: number;
  /**
   * Save when this many milliseconds of training have passed since the last save, checked after every
   * training batch; null (the default) for no timer.
   */
  readonly trainTimeInterval: number | null;
  /** The file name template without extension (default `"{epoch}-{step}"`); see `formatCheckpointName`. */
  readonly filename: string;
  /** Whether a `{name}` field is written as `name=value` rather than the bare value (default true). */
  readonly autoInsertMetricName: boolean;
  /** Whether checkpoints hold only the model's weights, without optimizer and loop state (default false). */
  readonly saveWeightsOnly: boolean;
  /** Whether a missing `monitor` metric is an error (default true); when false, that save is skipped. */
  readonly strict: boolean;
  /**
   * The folder checkpoints are written to. When none was given it is null until the trainer's setup, which
   * fills in `<logDir>/checkpoints`.
   */
  dirpath: string | null;
  /** Path of the best checkpoint so far. */
  bestModelPath = "";
  /** Its monitored score. */
  bestModelScore: number | null = null;
  /** The kept checkpoints and their scores. */
  bestKModels: Record<string, number> = {};
  /** The most recent checkpoint written. */
  lastModelPath = "";
  private kept: Kept[] = [];
  private lastSavedStep = -1;
  private lastSaveTime = 0;

  constructor(options: ModelCheckpointOptions = {}) {
    super();
    this.monitor = options.monitor ?? null;
    this.mode = options.mode ?? "min";
    if (this.mode !== "min" && this.mode !== "max")
      throw new FulmenError(`ModelCheckpoint: mode must be "min" or "max".`);
    this.saveTopK = options.saveTopK ?? 1;
    if (!Number.isInteger(this.saveTopK) || this.saveTopK < -1)
      throw new FulmenError("ModelCheckpoint: saveTopK must be -1, 0 or positive.");
    if (this.monitor === null && this.saveTopK > 1) {
      throw new FulmenError(
        `ModelCheckpoint(saveTopK=${this.saveTopK}, monitor=null) cannot rank checkpoints; give a monitor.`,
      );
    }
    this.saveLast = options.saveLast ?? false;
    this.everyNTrainSteps = options.everyNTrainSteps ?? null;
    this.trainTimeInterval = options.trainTimeInterval ?? null;
    if (this.trainTimeInterval !== null && !(this.trainTimeInterval > 0))
      throw new FulmenError("ModelCheckpoint: trainTimeInterval must be a positive number of milliseconds.");
    const triggers = [this.everyNTrainSteps, this.trainTimeInterval, options.everyNEpochs ?? null].filter(
      (t) => t !== null && t !== 0,
    );
    if (triggers.length > 1)
      throw new FulmenError(
        "ModelCheckpoint: everyNTrainSteps, everyNEpochs and trainTimeInterval are mutually exclusive; set at most one.",
      );
    this.everyNEpochs =
      options.everyNEpochs ?? (this.everyNTrainSteps === null && this.trainTimeInterval === null ? 1 : 0);
    this.filename = options.filename ?? "{epoch}-{step}";
    this.autoInsertMetricName = options.autoInsertMetricName ?? true;
    this.saveWeightsOnly = options.saveWeightsOnly ?? false;
    this.strict = options.strict ?? true;
    this.dirpath = options.dirpath ?? null;
  }

  override setup(trainer: Trainer): void {
    this.dirpath ??= join(trainer.logDir, "checkpoints");
  }

  override onTrainStart(): void {
    this.lastSaveTime = Date.now();
  }

  override onTrainBatchEnd(trainer: Trainer): void {
    if (this.trainTimeInterval !== null) {
      // Rank 0's clock decides, so that every rank saves at the same step.
      if (trainer.broadcastFromZero(Date.now() - this.lastSaveTime >= this.trainTimeInterval)) {
        this.save(trainer);
        this.lastSaveTime = Date.now();
      }
      return;
    }
    if (this.everyNTrainSteps === null || this.everyNTrainSteps < 1) return;
    if (trainer.globalStep > 0 && trainer.globalStep % this.everyNTrainSteps === 0) this.save(trainer);
  }

  override onTrainEpochEnd(trainer: Trainer): void {
    if (this.savesOnTrainEpochEnd(trainer) && this.epochDue(trainer)) this.save(trainer);
  }

  override onValidationEnd(trainer: Trainer): void {
    if (trainer.state.stage === "sanity_check" || trainer.state.fn !== "fit") return;
    if (!this.savesOnTrainEpochEnd(trainer) && this.epochDue(trainer)) this.save(trainer);
  }

  private epochDue(trainer: Trainer): boolean {
    return this.everyNEpochs > 0 && (trainer.currentEpoch + 1) % this.everyNEpochs === 0;
  }

  private savesOnTrainEpochEnd(trainer: Trainer): boolean {
    if (trainer.options.checkValEveryNEpoch !== 1) return false;
    if (trainer.numValBatches === 0) return true;
    return trainer.options.valCheckInterval === 1;
  }

  /** The path of `last.ckpt` when kept, else the latest checkpoint. */
  lastCheckpointPath(): string {
    const last = this.dirpath === null ? "" : join(this.dirpath, "last.ckpt");
    return this.saveLast && existsSync(last) ? last : this.lastModelPath;
  }

  private save(trainer: Trainer): void {
    if (this.lastSavedStep === trainer.globalStep) return;
    this.lastSavedStep = trainer.globalStep;
    // Every rank runs this (each saveCheckpoint ends in a barrier); rank 0's metrics decide, so all ranks agree,
    // and only rank 0 touches files.
    const dir = this.dirpath!;
    if (trainer.isGlobalZero) {
      try {
        mkdirSync(dir, { recursive: true });
      } catch (e) {
        throw new FulmenError(
          `ModelCheckpoint cannot create its folder '${dir}': ${(e as Error).message}. Give a writable dirpath.`,
          { cause: e },
        );
      }
    }
    const metrics = trainer.broadcastFromZero({
      ...trainer.callbackMetrics,
      epoch: trainer.currentEpoch,
      step: trainer.globalStep,
    });
    let written: string | null = null;
    if (this.saveTopK !== 0) {
      written =
        this.monitor === null
          ? this.saveLatestCheckpoint(trainer, metrics, dir)
          : this.saveTopKCheckpoint(trainer, metrics, dir);
    }
    if (this.saveLast) {
      const last = join(dir, "last.ckpt");
      // The file just written holds this very state: copy it (atomically) rather than encode it again. When no
      // file was written at this step, last.ckpt must still be this step's state, so it is saved.
      if (written === null) trainer.saveCheckpoint(last, this.saveWeightsOnly);
      else if (written !== last && trainer.isGlobalZero) {
        // A sharded strategy's checkpoint is a folder (FSDP's "sharded" state dict type).
        if (isShardedCheckpoint(written)) copyShardedCheckpoint(written, last);
        else copyFileAtomic(written, last);
      }
    }
  }

  private bookkeeping(): Bookkeeping {
    return {
      kept: [...this.kept],
      bestModelPath: this.bestModelPath,
      bestModelScore: this.bestModelScore,
      bestKModels: { ...this.bestKModels },
      lastModelPath: this.lastModelPath,
    };
  }

  private restoreBookkeeping(b: Bookkeeping): void {
    this.kept = b.kept;
    this.bestModelPath = b.bestModelPath;
    this.bestModelScore = b.bestModelScore;
    this.bestKModels = b.bestKModels;
    this.lastModelPath = b.lastModelPath;
  }

  /**
   * Writes `path` with the bookkeeping already updated to include it (as Lightning does), so that the state
   * saved inside the checkpoint knows the checkpoint itself: a fit resumed from it keeps exactly the top k.
   * A failed save puts the bookkeeping back and rethrows; nothing is deleted.
   */
  private writeCheckpoint(trainer: Trainer, path: string, before: Bookkeeping): void {
    try {
      trainer.saveCheckpoint(path, this.saveWeightsOnly);
    } catch (e) {
      this.restoreBookkeeping(before);
      throw e;
    }
  }

  /** Deletes a checkpoint that left the top k, once its replacement is safely on disk. */
  private removeCheckpoint(trainer: Trainer, path: string): void {
    if (trainer.isGlobalZero) trainer.fabric!.checkpointIO.remove(path);
  }

  private saveLatestCheckpoint(trainer: Trainer, metrics: Record<string, number>, dir: string): string {
    const path = join(dir, `${formatCheckpointName(this.filename, metrics, this.autoInsertMetricName)}.ckpt`);
    const before = this.bookkeeping();
    this.lastModelPath = path;
    this.bestModelPath = path;
    this.writeCheckpoint(trainer, path, before);
    if (this.saveTopK === 1 && before.lastModelPath !== "" && before.lastModelPath !== path)
      this.removeCheckpoint(trainer, before.lastModelPath);
    return path;
  }

  private better(a: number, b: number): boolean {
    return this.mode === "min" ? a < b : a > b;
  }

  /** Saves when the score makes the top k; returns the path written, or null when nothing was. */
  private saveTopKCheckpoint(trainer: Trainer, metrics: Record<string, number>, dir: string): string | null {
    const score = metrics[this.monitor!];
    if (score === undefined) {
      if (this.strict) {
        throw new FulmenError(
          `ModelCheckpoint(monitor='${this.monitor}') could not find the monitored key in the returned metrics: ${Object.keys(trainer.callbackMetrics).join(", ") || "none"}. Log it with this.log.`,
        );
      }
      return null;
    }
    const full = this.saveTopK !== -1 && this.kept.length >= this.saveTopK;
    const worst = this.kept.reduce<Kept | null>(
      (w, k) => (w === null || this.better(w.score, k.score) ? k : w),
      null,
    );
    if (full && worst !== null && !this.better(score, worst.score)) return null;
    const path = join(dir, `${formatCheckpointName(this.filename, metrics, this.autoInsertMetricName)}.ckpt`);
    const before = this.bookkeeping();
    const dropped = full && worst !== null ? worst : null;
    this.kept = this.kept.filter((k) => k !== dropped && k.path !== path);
    this.kept.push({ path, score });
    const best = this.kept.reduce((b, k) => (this.better(k.score, b.score) ? k : b));
    this.bestModelPath = best.path;
    this.bestModelScore = best.score;
    this.bestKModels = Object.fromEntries(this.kept.map((k) => [k.path, k.score]));
    this.lastModelPath = path;
    this.writeCheckpoint(trainer, path, before);
    if (dropped !== null && dropped.path !== path) this.removeCheckpoint(trainer, dropped.path);
    return path;
  }

  override stateDict(): Record<string, unknown> {
    return {
      monitor: this.monitor,
      bestModelScore: this.bestModelScore,
      bestModelPath: this.bestModelPath,
      lastModelPath: this.lastModelPath,
      kept: this.kept,
      dirpath: this.dirpath,
    };
  }

  override loadStateDict(state: Record<string, unknown>): void {
    const savedDir = typeof state.dirpath === "string" ? state.dirpath : null;
    if (savedDir !== null && this.dirpath !== null && resolve(savedDir) !== resolve(this.dirpath)) {
      // Lightning's rule: the top-k list names files of another folder, which this run must never delete.
      console.warn(
        `Warning: ModelCheckpoint: the checkpoint was saved with dirpath '${savedDir}', this run saves to '${this.dirpath}'; only bestModelPath is restored, the top-k list starts empty. Pass dirpath: '${savedDir}' to continue that folder's top k.`,
      );
      this.bestModelPath = String(state.bestModelPath ?? "");
      return;
    }
    this.bestModelScore = (state.bestModelScore as number | null) ?? null;
    this.bestModelPath = String(state.bestModelPath ?? "");
    this.lastModelPath = String(state.lastModelPath ?? "");
    this.kept = (state.kept as Kept[]) ?? [];
    this.bestKModels = Object.fromEntries(this.kept.map((k) => [k.path, k.score]));
  }
}
