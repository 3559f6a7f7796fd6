import { FulmenError, type Optimizer, type Parameter, tf } from "@fulmen/core";
import { heldGradientsOf } from "@fulmen/core/plugin";

/** Options of {@link GradScaler}, as in `torch.cuda.amp.GradScaler`. */
export interface GradScalerOptions {
  /** The scale the loss is multiplied by at first, greater than 0. Default 2^16 (65536). */
  initScale?: number;
  /** What the scale is multiplied by after `growthInterval` clean updates, greater than 1. Default 2. */
  growthFactor?: number;
  /** What the scale is multiplied by after an overflow, between 0 and 1 (exclusive). Default 0.5. */
  backoffFactor?: number;
  /** The number of consecutive updates without inf/NaN gradients before the scale grows. Default 2000. */
  growthInterval?: number;
  /** A disabled scaler passes everything through unchanged (default true). */
  enabled?: boolean;
  /**
   * DeepSpeed's hysteresis: how many overflows in a row the scale tolerates before it backs off (default 1,
   * PyTorch's behaviour: back off at the first); the count is restored when the scale grows.
   */
  hysteresis?: number;
  /** The scale never backs off below this (DeepSpeed's `min_loss_scale`; default 0, none). */
  minScale?: number;
  /** False keeps the scale fixed (DeepSpeed's static `loss_scale`); overflowing steps are still skipped. */
  dynamic?: boolean;
}

/** The serialisable state of a {@link GradScaler}. */
export interface GradScalerStateDict {
  /** The current scale factor. */
  scale: number;
  /** The scaler's `growthFactor`; saved for reference, `loadStateDict` keeps the scaler's own. */
  growthFactor: number;
  /** The scaler's `backoffFactor`; saved for reference, `loadStateDict` keeps the scaler's own. */
  backoffFactor: number;
  /** The scaler's `growthInterval`; saved for reference, `loadStateDict` keeps the scaler's own. */
  growthInterval: number;
  /** The number of consecutive updates without overflow since the scale last changed. */
  growthTracker: number;
  /** Overflows the scale still tolerates before backing off (absent in checkpoints of older versions). */
  hysteresisLeft?: number;
}

type StageState = "ready" | "unscaled" | "stepped";

/**
 * Dynamic loss scaling for float16 training, with `torch.cuda.amp.GradScaler`'s semantics: `scale(loss)`
 * multiplies the loss, `unscale_(optimizer)` divides the gradients back and looks for inf/NaN, `step(optimizer)`
 * skips the update when any was found, and `update()` halves the scale after an overflow or grows it after
 * `growthInterval` clean steps.
 */
export class GradScaler {
  private scaleValue: number;
  /** What the scale is multiplied by after `growthInterval` clean updates (default 2). */
  readonly growthFactor: number;
  /** What the scale is multiplied by after an overflow (default 0.5). */
  readonly backoffFactor: number;
  /** The number of consecutive clean updates after which the scale grows (default 2000). */
  readonly growthInterval: number;
  /** Whether the scaler is on; a disabled one passes everything through unchanged (default true). */
  readonly enabled: boolean;
  /** How many overflows in a row the scale tolerates before backing off (default 1: at the first). */
  readonly hysteresis: number;
  /** The lowest scale a back-off can reach (default 0, no floor). */
  readonly minScale: number;
  /**
   * Whether the scale changes with overflows (default true); when false it stays fixed and overflowing steps
   * are only skipped.
   */
  readonly dynamic: boolean;
  private growthTracker = 0;
  private hysteresisLeft: number;
  private readonly stages = new Map<Optimizer, { stage: StageState; foundInf: boolean }>();

  constructor(options: GradScalerOptions = {}) {
    const known = [
      "initScale",
      "growthFactor",
      "backoffFactor",
      "growthInterval",
      "enabled",
      "hysteresis",
      "minScale",
      "dynamic",
    ];
    const unknown = Object.keys(options).filter((k) => !known.includes(k));
    if (unknown.length > 0) {
      throw new FulmenError(
        `GradScaler: unknown option(s) ${unknown.join(", ")}. Valid options: ${known.join(", ")}.`,
      );
    }
    this.scaleValue = options.initScale ?? 2 ** 16;
    this.growthFactor = options.growthFactor ?? 2;
    this.backoffFactor = options.backoffFactor ?? 0.5;
    this.growthInterval = options.growthInterval ?? 2000;
    this.enabled = options.enabled ?? true;
    this.hysteresis = options.hysteresis ?? 1;
    this.minScale = options.minScale ?? 0;
    this.dynamic = options.dynamic ?? true;
    this.hysteresisLeft = this.hysteresis;
    if (!(Number.isInteger(this.hysteresis) && this.hysteresis >= 1))
      throw new FulmenError(`GradScaler: hysteresis must be an integer >= 1, got ${this.hysteresis}.`);
    if (!(this.minScale >= 0))
      throw new FulmenError(`GradScaler: minScale must be >= 0, got ${this.minScale}.`);
    if (!(this.scaleValue > 0))
      throw new FulmenError(`GradScaler: initScale must be > 0, got ${this.scaleValue}.`);
    if (!(this.growthFactor > 1))
      throw new FulmenError(`GradScaler: growthFactor must be > 1, got ${this.growthFactor}.`);
    if (!(this.backoffFactor > 0 && this.backoffFactor < 1)) {
      throw new FulmenError(`GradScaler: backoffFactor must be in (0, 1), got ${this.backoffFactor}.`);
    }
    if (!(Number.isInteger(this.growthInterval) && this.growthInterval > 0)) {
      throw new FulmenError(
        `GradScaler: growthInterval must be a positive integer, got ${this.growthInterval}.`,
      );
    }
  }

  /** The current scale factor. */
  getScale(): number {
    return this.enabled ? this.scaleValue : 1;
  }

  /** Multiplies a loss (or any tensor) by the current scale. */
  scale<T extends tf.Tensor>(loss: T): T {
    if (!this.enabled) return loss;
    return tf.mul(loss, this.scaleValue) as T;
  }

  /**
   * Divides the optimizer's gradients by the scale (in place) and records whether any is inf or NaN. Call it
   * before clipping; at most once per optimizer between updates.
   */
  unscale_(optimizer: Optimizer): void {
    if (!this.enabled) return;
    const record = this.stageOf(optimizer);
    if (record.stage === "unscaled") {
      throw new FulmenError(
        "GradScaler.unscale_ was already called on this optimizer since the last update().",
      );
    }
    if (record.stage === "stepped")
      throw new FulmenError("GradScaler.unscale_ was called after step(); call update() first.");
    // PyTorch takes the reciprocal in double precision and rounds it to float32.
    const invScale = Math.fround(1 / this.scaleValue);
    const params = optimizer.paramGroups
      .flatMap((g) => g.params)
      .filter((p): p is Parameter & { grad: tf.Tensor } => p.grad !== null);
    let foundInf = false;
    if (params.length > 0) {
      const flag = tf.tidy(() => {
        const flags = params.map((p) => {
          const unscaled = tf.mul(p.grad, invScale);
          p.setGrad(unscaled);
          return tf.any(tf.logicalNot(tf.isFinite(unscaled)));
        });
        return tf.any(tf.stack(flags));
      });
      foundInf = flag.dataSync()[0] === 1;
      flag.dispose();
    }
    // A sharded optimizer's gradient shards: unscaled too, and an overflow in any process's shard counts.
    const held = heldGradientsOf(optimizer);
    if (held !== undefined) {
      const tensors = held.tensors();
      if (tensors.length > 0) {
        const unscaled = tensors.map((t) => tf.keep(tf.mul(t, invScale)));
        const flag = tf.tidy(() =>
          tf.any(tf.stack(unscaled.map((t) => tf.any(tf.logicalNot(tf.isFinite(t)))))),
        );
        foundInf = foundInf || flag.dataSync()[0] === 1;
        flag.dispose();
        held.replace(unscaled);
      }
      foundInf = held.anyAcrossProcesses(foundInf);
    }
    this.stages.set(optimizer, { stage: "unscaled", foundInf });
  }

  /**
   * Unscales the gradients if that has not been done, then runs `optimizer.step()` unless they held inf/NaN.
   * Returns whether the step was taken.
   */
  step(optimizer: Optimizer): boolean {
    if (!this.enabled) {
      optimizer.step();
      return true;
    }
    if (this.stageOf(optimizer).stage === "stepped") {
      throw new FulmenError("GradScaler.step was already called on this optimizer since the last update().");
    }
    if (this.stageOf(optimizer).stage === "ready") this.unscale_(optimizer);
    const record = this.stageOf(optimizer);
    const taken = !record.foundInf;
    if (taken) optimizer.step();
    this.stages.set(optimizer, { stage: "stepped", foundInf: record.foundInf });
    return taken;
  }

  /**
   * Updates the scale from what the steps since the last update found: backs off after an overflow, grows after
   * `growthInterval` clean updates. A number sets the scale directly.
   */
  update(newScale?: number): void {
    if (!this.enabled) return;
    if (newScale !== undefined) {
      if (!(newScale > 0))
        throw new FulmenError(`GradScaler.update: the new scale must be > 0, got ${newScale}.`);
      this.scaleValue = newScale;
    } else {
      const records = [...this.stages.values()];
      if (records.length === 0) {
        throw new FulmenError(
          "GradScaler.update: no inf checks were recorded; call unscale_() or step() first.",
        );
      }
      if (!this.dynamic) {
        // A fixed scale: overflowing steps were skipped, the scale stays.
      } else if (records.some((r) => r.foundInf)) {
        // DeepSpeed's hysteresis: back off only once the tolerated overflows are used up.
        if (this.hysteresisLeft <= 1)
          this.scaleValue = Math.max(Math.fround(this.scaleValue * this.backoffFactor), this.minScale);
        else this.hysteresisLeft -= 1;
        this.growthTracker = 0;
      } else {
        this.growthTracker += 1;
        if (this.growthTracker === this.growthInterval) {
          this.scaleValue = Math.fround(this.scaleValue * this.growthFactor);
          this.growthTracker = 0;
          this.hysteresisLeft = this.hysteresis;
        }
      }
    }
    this.stages.clear();
  }

  /** The scale and growth counter, for checkpoints. */
  stateDict(): GradScalerStateDict {
    return {
      scale: this.scaleValue,
      growthFactor: this.growthFactor,
      backoffFactor: this.backoffFactor,
      growthInterval: this.growthInterval,
      growthTracker: this.growthTracker,
      hysteresisLeft: this.hysteresisLeft,
    };
  }

  /** Restores a state from {@link GradScaler.stateDict}. */
  loadStateDict(state: GradScalerStateDict): void {
    if (typeof state?.scale !== "number" || typeof state.growthTracker !== "number") {
      throw new FulmenError(
        "GradScaler.loadStateDict: the state must hold numeric 'scale' and 'growthTracker'.",
      );
    }
    this.scaleValue = state.scale;
    this.growthTracker = state.growthTracker;
    this.hysteresisLeft = state.hysteresisLeft ?? this.hysteresis;
  }

  private stageOf(optimizer: Optimizer): { stage: StageState; foundInf: boolean } {
    return this.stages.get(optimizer) ?? { stage: "ready", foundInf: false };
  }
}
