import { FulmenError } from "../../utils/errors";
import { LRScheduler } from "./lr-scheduler";

/** Steps several schedulers together each step, multiplying their effects, like `ChainedScheduler`. */
export class ChainedScheduler extends LRScheduler {
  private readonly schedulers: LRScheduler[];

  constructor(schedulers: LRScheduler[]) {
    if (!Array.isArray(schedulers) || schedulers.length === 0) {
      throw new FulmenError("ChainedScheduler: expects at least one scheduler.");
    }
    const optimizer = schedulers[0]!.optimizer;
    super(optimizer, -1);
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) {
        throw new FulmenError(
          `ChainedScheduler: scheduler ${i} drives a different optimizer than scheduler 0.`,
        );
      }
    });
    this.schedulers = schedulers;
    this.lastLrs = this.currentLrs();
  }

  protected getLr(): number[] {
    return this.currentLrs();
  }

  override step(): void {
    for (const s of this.schedulers) s.step();
    this.lastLrs = this.currentLrs();
  }

  protected override nestedSchedulers(): LRScheduler[] {
    return this.schedulers;
  }
}
