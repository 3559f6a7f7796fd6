import { FulmenError } from "../../utils/errors";
import type { BaseOptimizerOptions, Optimizer, ParamGroup } from "../optimizer";

/** Any optimizer, whatever its hyperparameters. */
export type AnyOptimizer = Optimizer<BaseOptimizerOptions>;

/** A scheduler's serialisable state (numbers, arrays and nested scheduler states). */
export type SchedulerStateDict = Record<string, unknown>;

/**
 * The base of epoch/step-driven schedulers, with `torch.optim.lr_scheduler.LRScheduler`'s semantics: the
 * constructor records `initialLr` in each group and takes the initial step (`lastEpoch` becomes 0); each
 * `step()` advances `lastEpoch` and writes the new learning rates into the optimizer. Subclasses compute the
 * "chainable" form from the current rates in {@link LRScheduler.getLr}, like PyTorch, so that schedulers compose,
 * and may offer the closed form used by `step(epoch)`. Subclass constructors end with `this.initialStep()`.
 */
export abstract class LRScheduler {
  /** The index of the last step taken (-1 before the initial step). */
  lastEpoch: number;
  /** Each group's learning rate at the start. */
  baseLrs: number[];
  /** Steps taken, the initial one included (PyTorch's `_step_count`); restarts at 1 with `initialStep()`. */
  protected stepCount = 0;
  /** The learning rates set by the last step (PyTorch's `_last_lr`), as `getLastLr()` returns them. */
  protected lastLrs: number[] = [];

  protected constructor(
    /** The optimizer whose parameter groups' learning rates this scheduler sets. */
    readonly optimizer: AnyOptimizer,
    lastEpoch = -1,
  ) {
    if (!optimizer || !Array.isArray(optimizer.paramGroups)) {
      throw new FulmenError(`${this.constructor.name}: the first argument must be an optimizer.`);
    }
    if (lastEpoch === -1) {
      for (const group of optimizer.paramGroups) group.initialLr ??= group.lr;
    } else {
      optimizer.paramGroups.forEach((group, i) => {
        if (group.initialLr === undefined) {
          throw new FulmenError(
            `${this.constructor.name}: lastEpoch=${lastEpoch} needs 'initialLr' in parameter group ${i}; it is set when a scheduler is created with lastEpoch=-1, or when its state is loaded.`,
          );
        }
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    this.lastEpoch = lastEpoch;
  }

  /** The learning rates after the next step, from the current ones (PyTorch's `get_lr`). */
  protected abstract getLr(): number[];

  /** The learning rates at `lastEpoch` computed directly, used by `step(epoch)` where a closed form exists. */
  protected closedFormLr(): number[] | null {
    return null;
  }

  /**
   * Takes the step that PyTorch's constructor takes (`_initial_step`); subclasses call it last in their
   * constructor, and SequentialLR calls it again on its first scheduler.
   */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /**
   * Advances the schedule by one step and sets the new learning rates. Passing `epoch` jumps there (as
   * PyTorch's deprecated form does, and as SequentialLR needs).
   */
  step(epoch?: number): void {
    this.stepCount += 1;
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch += 1;
      values = this.getLr();
    } else {
      this.lastEpoch = epoch;
      values = this.closedFormLr() ?? this.getLr();
    }
    this.applyLrs(values);
  }

  /** Writes learning rates into the optimizer's groups. */
  protected applyLrs(values: number[]): void {
    this.optimizer.paramGroups.forEach((group, i) => {
      group.lr = values[i]!;
    });
    this.lastLrs = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The current learning rates. */
  protected currentLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The groups of the optimizer. */
  protected get groups(): Array<ParamGroup<BaseOptimizerOptions>> {
    return this.optimizer.paramGroups;
  }

  /** The learning rates set by the last step, like `get_last_lr()`. */
  getLastLr(): number[] {
    return [...this.lastLrs];
  }

  /** Schedulers this one drives (SequentialLR, ChainedScheduler); their states nest in this one's. */
  protected nestedSchedulers(): LRScheduler[] {
    return [];
  }

  /** The scheduler's state: every field except the optimizer and functions, with nested schedulers' states. */
  stateDict(): SchedulerStateDict {
    const nested = this.nestedSchedulers();
    const out: SchedulerStateDict = nested.length > 0 ? { schedulers: nested.map((s) => s.stateDict()) } : {};
    for (const [key, value] of Object.entries(this)) {
      if (key === "optimizer" || typeof value === "function" || value instanceof LRScheduler) continue;
      if (Array.isArray(value) && value.some((v) => v instanceof LRScheduler || typeof v === "function"))
        continue;
      out[key] = structuredClone(value);
    }
    return out;
  }

  /** Restores a state from {@link LRScheduler.stateDict}. */
  loadStateDict(state: SchedulerStateDict): void {
    if (state === null || typeof state !== "object") {
      throw new FulmenError(`${this.constructor.name}.loadStateDict: expected an object.`);
    }
    const { schedulers, ...own } = state;
    const nested = this.nestedSchedulers();
    if (nested.length > 0) {
      if (!Array.isArray(schedulers) || schedulers.length !== nested.length) {
        throw new FulmenError(
          `${this.constructor.name}.loadStateDict: expected the states of ${nested.length} schedulers.`,
        );
      }
      nested.forEach((s, i) => {
        s.loadStateDict(schedulers[i] as SchedulerStateDict);
      });
    }
    for (const [key, value] of Object.entries(nested.length > 0 ? own : state)) {
      if (!(key in this)) {
        throw new FulmenError(
          `${this.constructor.name}.loadStateDict: unknown key '${key}'; was the state saved by another scheduler?`,
        );
      }
      (this as unknown as Record<string, unknown>)[key] = structuredClone(value);
    }
  }
}

/** Python's modulo (the result has the sign of the divisor), which PyTorch's formulas rely on. */
export function pyMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}
