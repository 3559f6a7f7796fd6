import { tf } from "@fulmen/core";
import type { Trainer } from "../trainer";
import type { ResolvedTrainerOptions } from "../trainer-options";

/** Where training stands, as the stop conditions read it. */
export interface TrainingCounters {
  globalStep: number;
  currentEpoch: number;
  elapsedMs: number;
}

/** Whether `maxSteps` or `maxTime` (and, with `countEpochs`, `maxEpochs`) is reached. */
export function limitReached(
  options: ResolvedTrainerOptions,
  counters: TrainingCounters,
  countEpochs: boolean,
): boolean {
  if (options.maxSteps !== -1 && counters.globalStep >= options.maxSteps) return true;
  if (countEpochs && options.maxEpochsResolved !== -1 && counters.currentEpoch >= options.maxEpochsResolved)
    return true;
  return options.maxTimeMs !== null && counters.elapsedMs >= options.maxTimeMs;
}

/** Whether `minEpochs` and `minSteps` let a requested stop (`trainer.shouldStop`) happen. */
export function minimumsMet(options: ResolvedTrainerOptions, counters: TrainingCounters): boolean {
  const minEpochsMet = options.minEpochs === null || counters.currentEpoch >= options.minEpochs;
  const minStepsMet = options.minSteps === null || counters.globalStep >= options.minSteps;
  return minEpochsMet && minStepsMet;
}

/**
 * Whether any rank says yes (Lightning's `reduce_boolean_decision(all=False)`), so that every rank stops at the
 * same batch even when only one of them hit the condition.
 */
export function anyRank(trainer: Trainer, decision: boolean): boolean {
  const fabric = trainer.fabric;
  if (fabric === null || trainer.worldSize <= 1) return decision;
  return tf.tidy(() => fabric.allReduce(tf.scalar(decision ? 1 : 0), { reduceOp: "max" }).dataSync()[0]! > 0);
}
