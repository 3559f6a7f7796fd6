import { FulmenError } from "../../utils/errors";
import { checkOptionNames } from "../../utils/options";
import { type AnyOptimizer, LRScheduler } from "./lr-scheduler";

/**
 * Runs schedulers one after another, switching at each milestone, like `torch.optim.lr_scheduler.SequentialLR`
 * (warm-up followed by decay). Every scheduler must drive the same optimizer.
 */
export class SequentialLR extends LRScheduler {
  private readonly schedulers: LRScheduler[];
  /** The steps at which the next scheduler takes over (one fewer than the schedulers). */
  readonly milestones: number[];

  constructor(
    optimizer: AnyOptimizer,
    options: { schedulers: LRScheduler[]; milestones: number[]; lastEpoch?: number },
  ) {
    super(optimizer, -1);
    checkOptionNames("SequentialLR", options, ["schedulers", "milestones", "lastEpoch"]);
    const { schedulers, milestones } = options;
    if (!Array.isArray(schedulers) || schedulers.length < 1) {
      throw new FulmenError("SequentialLR: expects at least one scheduler.");
    }
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) {
        throw new FulmenError(
          `SequentialLR: scheduler ${i} drives a different optimizer than the one given.`,
        );
      }
    });
    if (milestones.length !== schedulers.length - 1) {
      throw new FulmenError(
        `SequentialLR: expects ${schedulers.length - 1} milestones for ${schedulers.length} schedulers, got ${milestones.length}.`,
      );
    }
    this.schedulers = schedulers;
    this.milestones = [...milestones];
    this.lastEpoch = (options.lastEpoch ?? -1) + 1;
    for (const group of optimizer.paramGroups) group.lr = group.initialLr!;
    // Undo the initial step each scheduler took in its constructor, then redo it for the first one only.
    for (const s of schedulers) s.lastEpoch -= 1;
    schedulers[0]!.initialStep();
    this.lastLrs = schedulers[0]!.getLastLr();
  }

  protected getLr(): number[] {
    return this.currentLrs();
  }

  override step(): void {
    this.lastEpoch += 1;
    let idx = this.milestones.findIndex((m) => m > this.lastEpoch);
    if (idx === -1) idx = this.milestones.length;
    const scheduler = this.schedulers[idx]!;
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) scheduler.step(0);
    else scheduler.step();
    this.lastLrs = scheduler.getLastLr();
  }

  protected override nestedSchedulers(): LRScheduler[] {
    return this.schedulers;
  }
}
