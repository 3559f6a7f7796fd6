import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { type AnyOptimizer, LRScheduler } from "./lr-scheduler";

/** Options of {@link OneCycleLR}, as in `torch.optim.lr_scheduler.OneCycleLR`. */
export interface OneCycleLROptions {
  /** The peak learning rate, one for all groups or one per group. */
  maxLr: number | number[];
  /** The cycle length; or give `epochs` and `stepsPerEpoch`. */
  totalSteps?: number;
  /** The number of epochs: with `stepsPerEpoch`, the cycle has `epochs * stepsPerEpoch` steps. */
  epochs?: number;
  /** The number of steps per epoch, used with `epochs` when `totalSteps` is not given. */
  stepsPerEpoch?: number;
  /** The fraction of the cycle spent raising the learning rate, in [0, 1] (default 0.3). */
  pctStart?: number;
  /** How values are annealed within a phase: `"cos"` (cosine) or `"linear"` (default `"cos"`). */
  annealStrategy?: "cos" | "linear";
  /**
   * Cycle the momentum (or Adam's beta1) inversely to the learning rate (default true); the optimizer must
   * then have `momentum` or `betas`.
   */
  cycleMomentum?: boolean;
  /** The lowest momentum, at the peak learning rate; one for all groups or one per group (default 0.85). */
  baseMomentum?: number | number[];
  /** The highest momentum, at the start and end of the cycle; one for all or one per group (default 0.95). */
  maxMomentum?: number | number[];
  /** The starting learning rate is `maxLr / divFactor` (default 25). */
  divFactor?: number;
  /** The final learning rate is the starting one divided by `finalDivFactor` (default 1e4). */
  finalDivFactor?: number;
  /**
   * Use three phases, as PyTorch's `three_phase`: up to `maxLr`, back down to the starting rate, then down to
   * the final rate (default false: up to `maxLr`, then down to the final rate).
   */
  threePhase?: boolean;
  /** The last step taken, to resume a schedule (default -1; otherwise each group needs `initialLr`). */
  lastEpoch?: number;
}

/** The per-group values OneCycleLR moves between (PyTorch's `initial_lr`, `max_lr`, `min_lr`, momenta). */
export type OneCycleValue = "initialLr" | "maxLr" | "minLr" | "maxMomentum" | "baseMomentum";

/** One phase of the cycle: the step it ends at and the values it anneals between. */
export interface OneCyclePhase {
  /** The step at which the phase ends and the next one starts (need not be an integer). */
  endStep: number;
  /** The value the learning rate anneals from. */
  startLr: OneCycleValue;
  /** The value the learning rate anneals to. */
  endLr: OneCycleValue;
  /** The value the momentum anneals from. */
  startMomentum: OneCycleValue;
  /** The value the momentum anneals to. */
  endMomentum: OneCycleValue;
}

const OPTION_NAMES = [
  "maxLr",
  "totalSteps",
  "epochs",
  "stepsPerEpoch",
  "pctStart",
  "annealStrategy",
  "cycleMomentum",
  "baseMomentum",
  "maxMomentum",
  "divFactor",
  "finalDivFactor",
  "threePhase",
  "lastEpoch",
] as const;

function perGroup(name: string, value: number | number[], groups: number): number[] {
  if (!Array.isArray(value)) return Array.from({ length: groups }, () => value);
  if (value.length !== groups)
    throw new FulmenError(`OneCycleLR: expected ${groups} values for ${name}, got ${value.length}.`);
  return [...value];
}

/**
 * The 1cycle policy, like `torch.optim.lr_scheduler.OneCycleLR`: the rate rises from `maxLr/divFactor` to
 * `maxLr` and anneals to `initialLr/finalDivFactor` (cosine or linear, two or three phases), while momentum
 * (or Adam's beta1) cycles inversely between `maxMomentum` and `baseMomentum`.
 */
export class OneCycleLR extends LRScheduler {
  /** The number of steps in the cycle; stepping past it throws. */
  readonly totalSteps: number;
  /** How values are annealed within a phase: `"cos"` (cosine) or `"linear"`. */
  readonly annealStrategy: "cos" | "linear";
  /** Whether the momentum (or Adam's beta1) is cycled inversely to the learning rate. */
  readonly cycleMomentum: boolean;
  /** Whether the cycled momentum is `betas[0]` (the optimizer has `betas`, as Adam does), not `momentum`. */
  readonly useBeta1: boolean;
  /** The phases of the cycle, in order (two, or three with `threePhase`). */
  readonly phases: OneCyclePhase[];
  /** Per parameter group, the learning rates and momenta that the phases anneal between. */
  readonly groupValues: Array<Record<OneCycleValue, number>>;

  constructor(optimizer: AnyOptimizer, options: OneCycleLROptions) {
    checkOptionNames("OneCycleLR", options, OPTION_NAMES);
    const groups = optimizer.paramGroups.length;
    const maxLrs = perGroup("maxLr", options.maxLr, groups);
    const divFactor = options.divFactor ?? 25;
    const finalDivFactor = options.finalDivFactor ?? 1e4;
    const lastEpoch = options.lastEpoch ?? -1;
    const values = maxLrs.map((maxLr) => {
      const initialLr = maxLr / divFactor;
      return { initialLr, maxLr, minLr: initialLr / finalDivFactor, maxMomentum: 0, baseMomentum: 0 };
    });
    if (lastEpoch === -1) {
      optimizer.paramGroups.forEach((group, i) => {
        group.initialLr = values[i]!.initialLr;
        group.lr = values[i]!.initialLr;
      });
    }
    super(optimizer, lastEpoch);
    this.groupValues = values;

    let total: number;
    if (options.totalSteps !== undefined) {
      checkNumber(
        "OneCycleLR",
        "totalSteps",
        options.totalSteps,
        (v) => Number.isInteger(v) && v > 0,
        "a positive integer",
      );
      total = options.totalSteps;
    } else if (options.epochs !== undefined && options.stepsPerEpoch !== undefined) {
      checkNumber(
        "OneCycleLR",
        "epochs",
        options.epochs,
        (v) => Number.isInteger(v) && v > 0,
        "a positive integer",
      );
      checkNumber(
        "OneCycleLR",
        "stepsPerEpoch",
        options.stepsPerEpoch,
        (v) => Number.isInteger(v) && v > 0,
        "a positive integer",
      );
      total = options.epochs * options.stepsPerEpoch;
    } else {
      throw new FulmenError("OneCycleLR: give totalSteps, or both epochs and stepsPerEpoch.");
    }
    this.totalSteps = total;
    const pct = options.pctStart ?? 0.3;
    checkNumber("OneCycleLR", "pctStart", pct, (v) => v >= 0 && v <= 1, "between 0 and 1");
    this.annealStrategy = options.annealStrategy ?? "cos";
    if (this.annealStrategy !== "cos" && this.annealStrategy !== "linear") {
      throw new FulmenError(
        `OneCycleLR: annealStrategy must be "cos" or "linear", got '${String(this.annealStrategy)}'.`,
      );
    }
    this.phases = options.threePhase
      ? [
          {
            endStep: pct * total - 1,
            startLr: "initialLr",
            endLr: "maxLr",
            startMomentum: "maxMomentum",
            endMomentum: "baseMomentum",
          },
          {
            endStep: 2 * pct * total - 2,
            startLr: "maxLr",
            endLr: "initialLr",
            startMomentum: "baseMomentum",
            endMomentum: "maxMomentum",
          },
          {
            endStep: total - 1,
            startLr: "initialLr",
            endLr: "minLr",
            startMomentum: "maxMomentum",
            endMomentum: "maxMomentum",
          },
        ]
      : [
          {
            endStep: pct * total - 1,
            startLr: "initialLr",
            endLr: "maxLr",
            startMomentum: "maxMomentum",
            endMomentum: "baseMomentum",
          },
          {
            endStep: total - 1,
            startLr: "maxLr",
            endLr: "minLr",
            startMomentum: "baseMomentum",
            endMomentum: "maxMomentum",
          },
        ];

    this.cycleMomentum = options.cycleMomentum ?? true;
    const defaults = optimizer.defaults as unknown as Record<string, unknown>;
    this.useBeta1 = "betas" in defaults;
    if (this.cycleMomentum) {
      if (!("momentum" in defaults) && !this.useBeta1) {
        throw new FulmenError(
          "OneCycleLR: the optimizer has neither momentum nor betas; pass cycleMomentum: false.",
        );
      }
      const maxM = perGroup("maxMomentum", options.maxMomentum ?? 0.95, groups);
      const baseM = perGroup("baseMomentum", options.baseMomentum ?? 0.85, groups);
      values.forEach((v, i) => {
        v.maxMomentum = maxM[i]!;
        v.baseMomentum = baseM[i]!;
        if (lastEpoch === -1) this.setMomentum(i, maxM[i]!);
      });
    }
    this.initialStep();
  }

  private setMomentum(groupIndex: number, momentum: number): void {
    const group = this.optimizer.paramGroups[groupIndex] as unknown as Record<string, unknown>;
    if (this.useBeta1) {
      const betas = group.betas as [number, number];
      group.betas = [momentum, betas[1]];
    } else {
      group.momentum = momentum;
    }
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === "linear") return (end - start) * pct + start;
    return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  }

  protected getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new FulmenError(
        `OneCycleLR: tried to step ${stepNum} times; the total number of steps is ${this.totalSteps}. Raise totalSteps (or epochs × stepsPerEpoch).`,
      );
    }
    return this.groupValues.map((values, g) => {
      let startStep = 0;
      let lr = 0;
      for (let i = 0; i < this.phases.length; i++) {
        const phase = this.phases[i]!;
        if (stepNum <= phase.endStep || i === this.phases.length - 1) {
          const pct = (stepNum - startStep) / (phase.endStep - startStep);
          lr = this.anneal(values[phase.startLr], values[phase.endLr], pct);
          if (this.cycleMomentum) {
            this.setMomentum(g, this.anneal(values[phase.startMomentum], values[phase.endMomentum], pct));
          }
          break;
        }
        startStep = phase.endStep;
      }
      return lr;
    });
  }
}
