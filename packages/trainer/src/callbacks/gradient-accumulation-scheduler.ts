import { FulmenError } from "@fulmen/core";
import type { Trainer } from "../trainer";
import { Callback } from "./callback";

/**
 * Changes `accumulateGradBatches` by epoch (Lightning's GradientAccumulationScheduler): `{ 0: 8, 4: 4, 8: 1 }`
 * accumulates 8 batches from epoch 0, 4 from epoch 4, none from epoch 8.
 */
export class GradientAccumulationScheduler extends Callback {
  private readonly schedule: Array<[number, number]>;

  constructor(scheduling: Record<number, number>) {
    super();
    const entries = Object.entries(scheduling).map(([e, f]) => [Number(e), f] as [number, number]);
    if (entries.length === 0) throw new FulmenError("GradientAccumulationScheduler: the schedule is empty.");
    for (const [epoch, factor] of entries) {
      if (!Number.isInteger(epoch) || epoch < 0)
        throw new FulmenError(
          `GradientAccumulationScheduler: epoch keys must be integers >= 0, got ${epoch}.`,
        );
      if (!Number.isInteger(factor) || factor < 1)
        throw new FulmenError(`GradientAccumulationScheduler: factors must be integers >= 1, got ${factor}.`);
    }
    this.schedule = entries.sort((a, b) => a[0] - b[0]);
    if (this.schedule[0]![0] !== 0) this.schedule.unshift([0, 1]);
  }

  /** The accumulation factor for an epoch. */
  factorFor(epoch: number): number {
    let factor = 1;
    for (const [start, f] of this.schedule) if (epoch >= start) factor = f;
    return factor;
  }

  override onTrainStart(trainer: Trainer): void {
    if (trainer.options.accumulateGradBatches !== 1) {
      throw new FulmenError(
        "Set accumulateGradBatches in GradientAccumulationScheduler, not also in the Trainer.",
      );
    }
  }

  override onTrainEpochStart(trainer: Trainer): void {
    trainer.options.accumulateGradBatches = this.factorFor(trainer.currentEpoch);
  }
}
