import { getDefaultGenerator } from "@fulmen/core";
import type { FabricDataLoader } from "@fulmen/fabric";
import { callHook } from "../hooks";
import { batchSizeOf, type MetricStoreState } from "../logging/metric-store";
import { profiled } from "../profiler/simple-profiler";
import type { Trainer } from "../trainer";
import { runEvaluationLoop } from "./evaluation-loop";
import { automaticOptimizationStep, manualOptimizationStep } from "./optimization";
import { stepScheduler } from "./scheduler-stepping";
import { anyRank, limitReached, minimumsMet, type TrainingCounters } from "./stop-conditions";

type GeneratorState = ReturnType<ReturnType<typeof getDefaultGenerator>["getState"]>;

/** How far the fit loop got, saved in checkpoints so that a run resumes at the batch after the last one done. */
export interface FitLoopProgress {
  /** The epoch (0-based) the loop is in, or last ran. */
  epoch: number;
  /** Batches of `epoch` already done (a mid-epoch checkpoint resumes after them). */
  batchesDone: number;
  /** Whether `epoch`'s training batches are all done, so that a resumed fit starts at the next epoch. */
  epochFinished: boolean;
  /** The shuffle generator's state at the start of `epoch`, to replay its order. */
  shuffleState: GeneratorState | null;
}

/** The fit loop's part of a checkpoint (its `loops` entry). */
export interface FitLoopState {
  /** Where the loop stood when the checkpoint was saved. */
  progress: FitLoopProgress;
  /** The running aggregates of the epoch's training metrics. */
  trainMetrics: MetricStoreState;
  /** The default generator's state (dropout, shuffling). */
  generator: GeneratorState;
}

/**
 * Lightning's fit loop: the sanity check, then training epochs until a limit or a requested stop, each running
 * its batches through automatic or manual optimization, validating every `valCheckInterval` batches (Lightning's
 * schedule, see `validationDue`), logging, and stepping epoch-interval schedulers.
 */
export class FitLoop {
  private current: FitLoopProgress = { epoch: 0, batchesDone: 0, epochFinished: false, shuffleState: null };
  private trainLoader: FabricDataLoader<unknown, unknown> | null = null;
  private valLoader: FabricDataLoader<unknown, unknown> | null = null;
  private startTime = 0;

  constructor(private readonly trainer: Trainer) {}

  /** Where the loop stands. */
  get progress(): Readonly<FitLoopProgress> {
    return this.current;
  }

  /**
   * Takes the loaders of this fit (already set up by Fabric). A module without `validationStep` is not validated:
   * its validation loader is dropped, with Lightning's warning when the user gave one (`valGiven`).
   */
  setup(
    trainLoader: FabricDataLoader<unknown, unknown>,
    valLoader: FabricDataLoader<unknown, unknown> | null,
    valGiven: boolean = valLoader !== null,
  ): void {
    const trainer = this.trainer;
    this.trainLoader = trainLoader;
    this.valLoader = valLoader;
    if (valLoader !== null && trainer.lightningModule.validationStep === undefined) {
      this.valLoader = null;
      // Once per fit, on rank 0, as Lightning's rank_zero_warn at the start of fit.
      if (valGiven && trainer.isGlobalZero)
        console.warn(
          `Warning: You passed in a \`valDataloaders\` but ${trainer.lightningModule.constructor.name} has no \`validationStep\`. Skipping val loop.`,
        );
    }
  }

  /** Whether this fit validates (it has a validation loader and the module a `validationStep`). */
  get validates(): boolean {
    return this.valLoader !== null;
  }

  /** Runs the sanity check (unless resuming) and the training epochs. */
  run(): void {
    const trainer = this.trainer;
    if (this.current.epoch === 0 && this.current.batchesDone === 0) this.sanityCheck();
    trainer.state.stage = "train";
    callHook(trainer, "onTrainStart");
    this.startTime = Date.now();
    while (!anyRank(trainer, this.doneHere())) this.runEpoch();
    callHook(trainer, "onTrainEnd");
  }

  /** The loop's part of a checkpoint. */
  stateDict(): FitLoopState {
    return {
      progress: { ...this.current },
      trainMetrics: this.trainer.loggerConnector.stores.train.stateDict(),
      generator: getDefaultGenerator().getState(),
    };
  }

  /** Resumes from {@link FitLoop.stateDict}: the next epoch, or the rest of an unfinished one. */
  loadStateDict(state: FitLoopState): void {
    this.current = state.progress;
    this.trainer.currentEpoch = state.progress.epochFinished
      ? state.progress.epoch + 1
      : state.progress.epoch;
    this.trainer.loggerConnector.stores.train.loadStateDict(state.trainMetrics);
    getDefaultGenerator().setState(state.generator);
  }

  /** A few validation batches before training, so that a broken validationStep fails fast; their metrics are dropped. */
  private sanityCheck(): void {
    const trainer = this.trainer;
    const steps = trainer.options.numSanityValSteps;
    if (this.valLoader === null || steps === 0 || trainer.numValBatches === 0) return;
    trainer.state.stage = "sanity_check";
    callHook(trainer, "onSanityCheckStart");
    // -1: every validation batch (Lightning's num_sanity_val_steps=-1).
    const batches = steps === -1 ? trainer.numValBatches : Math.min(steps, trainer.numValBatches);
    runEvaluationLoop(trainer, "validate", this.valLoader, batches, false);
    callHook(trainer, "onSanityCheckEnd");
    trainer.loggerConnector.stores.validate.discard();
  }

  private counters(): TrainingCounters {
    const { globalStep, currentEpoch } = this.trainer;
    return { globalStep, currentEpoch, elapsedMs: Date.now() - this.startTime };
  }

  /** Whether training is over on this rank; a stop requested before minEpochs/minSteps is withdrawn. */
  private doneHere(): boolean {
    const trainer = this.trainer;
    const counters = this.counters();
    if (limitReached(trainer.options, counters, true)) return true;
    if (!trainer.shouldStop) return false;
    if (minimumsMet(trainer.options, counters)) return true;
    trainer.shouldStop = false;
    return false;
  }

  /** Whether the epoch must end before its next batch, on any rank. */
  private stopsNow(): boolean {
    const trainer = this.trainer;
    const counters = this.counters();
    const here =
      limitReached(trainer.options, counters, false) ||
      (trainer.shouldStop && minimumsMet(trainer.options, counters));
    return anyRank(trainer, here);
  }

  private runEpoch(): void {
    const trainer = this.trainer;
    const loader = this.trainLoader!;
    const resumeFrom =
      this.current.epoch === trainer.currentEpoch && !this.current.epochFinished
        ? this.current.batchesDone
        : 0;
    const shuffle = loader.loader.generator;
    if (resumeFrom > 0 && this.current.shuffleState !== null) shuffle.setState(this.current.shuffleState);
    this.current = {
      epoch: trainer.currentEpoch,
      batchesDone: resumeFrom,
      epochFinished: false,
      shuffleState: shuffle.getState(),
    };
    trainer.loggerConnector.useStore("train");
    trainer.lightningModule.train();
    callHook(trainer, "onTrainEpochStart");
    const checkEvery = trainer.options.checkValEveryNEpoch;
    // Lightning's _should_check_val_epoch: checkValEveryNEpoch null validates by batch count alone.
    const validateThisEpoch =
      this.valLoader !== null &&
      trainer.numValBatches > 0 &&
      (checkEvery === null || (trainer.currentEpoch + 1) % checkEvery === 0);
    let batchIdx = 0;
    // Batches are released by the loader when the next one is drawn (or the loop ends).
    for (const batch of loader) {
      if (batchIdx >= trainer.numTrainingBatches || this.stopsNow()) break;
      if (batchIdx < resumeFrom) {
        batchIdx += 1;
        continue;
      }
      const idx = batchIdx;
      profiled(trainer.profiler, "run_training_batch", () => this.runBatch(batch, idx));
      batchIdx += 1;
      if (validateThisEpoch && this.validationDue(batchIdx)) this.validate();
    }
    this.endEpoch();
  }

  /**
   * Whether to validate after the `done`-th batch of the epoch, as Lightning's `_should_check_val_fx`: when a
   * requested stop may happen now, else every `valCheckBatch` batches of the epoch — or of the whole run with
   * `checkValEveryNEpoch` null. No extra validation at the epoch's end: an interval that does not divide the
   * epoch (`valCheckInterval` 0.3 of 10 batches) validates after batches 3, 6 and 9 only, as in Lightning.
   */
  private validationDue(done: number): boolean {
    const trainer = this.trainer;
    if (trainer.shouldStop && minimumsMet(trainer.options, this.counters())) return true;
    // Every epoch runs all its batches unless training ends, so the run's batch count follows from the epoch's.
    const count =
      trainer.options.checkValEveryNEpoch === null
        ? trainer.currentEpoch * trainer.numTrainingBatches + done
        : done;
    return count % trainer.valCheckBatch === 0;
  }

  private endEpoch(): void {
    const trainer = this.trainer;
    const metrics = trainer.loggerConnector;
    metrics.setContext("epoch-end");
    metrics.useStore("train");
    this.current.epochFinished = true;
    callHook(trainer, "onTrainEpochEnd");
    metrics.logMetrics(
      metrics.stores.train.endEpoch(),
      Math.max(0, trainer.globalStep - 1),
      trainer.currentEpoch,
    );
    for (const config of trainer.lrSchedulerConfigs) {
      if (config.interval === "epoch" && (trainer.currentEpoch + 1) % config.frequency === 0)
        stepScheduler(config, trainer.callbackMetrics);
    }
    trainer.currentEpoch += 1;
  }

  private runBatch(batch: unknown, batchIdx: number): void {
    const trainer = this.trainer;
    const metrics = trainer.loggerConnector;
    metrics.setContext("train-step", batchSizeOf(batch));
    callHook(trainer, "onTrainBatchStart", batch, batchIdx);
    let outputs: Record<string, number> = {};
    if (trainer.lightningModule.automaticOptimization) {
      const isLast = batchIdx + 1 >= trainer.numTrainingBatches;
      const loss = automaticOptimizationStep(trainer, batch, batchIdx, isLast);
      if (loss !== null) {
        metrics.lastLoss = loss;
        outputs = { loss };
      }
    } else {
      manualOptimizationStep(trainer, batch, batchIdx);
    }
    // Counted before onTrainBatchEnd, so that a checkpoint written there resumes after this batch.
    this.current.batchesDone = batchIdx + 1;
    callHook(trainer, "onTrainBatchEnd", outputs, batch, batchIdx);
    this.logStepMetrics();
  }

  /** Sends the step's metrics to the loggers every `logEveryNSteps` optimizer steps. */
  private logStepMetrics(): void {
    const trainer = this.trainer;
    const metrics = trainer.loggerConnector;
    const train = metrics.stores.train;
    if (!train.hasStepMetrics) return;
    const every = trainer.options.logEveryNSteps;
    const step = trainer.globalStep;
    if (step > 0 && step % every === 0)
      metrics.logMetrics(train.takeStepMetrics(), step - 1, trainer.currentEpoch);
    else if (every === 1)
      metrics.logMetrics(train.takeStepMetrics(), Math.max(0, step - 1), trainer.currentEpoch);
  }

  /** Validation inside the epoch, then back to training. */
  private validate(): void {
    const trainer = this.trainer;
    runEvaluationLoop(trainer, "validate", this.valLoader!, trainer.numValBatches, true);
    trainer.loggerConnector.useStore("train");
    trainer.loggerConnector.setContext("train-step");
    trainer.lightningModule.train();
  }
}
