import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataLoader, type Dataset, Generator, manualSeed, nn, type Optimizer, SGD, tf } from "@fulmen/core";
import {
  Callback,
  LightningModule,
  type LightningModule as LM,
  type OptimizerConfig,
  type TrainerOptions,
} from "../../src/index";

export type Batch = { x: tf.Tensor2D; y: tf.Tensor1D };

/** A small, seeded classification problem: 4 features, 3 classes. */
export function toyDataset(n = 64, seed = 1): Dataset<{ x: Float32Array; y: number }> {
  const g = new Generator(seed);
  const rows = Array.from({ length: n }, () => {
    const x = Float32Array.from({ length: 4 }, () => g.normal());
    const y = (x[0]! + x[1]! > 0 ? 1 : 0) + (x[2]! > 0.5 ? 1 : 0);
    return { x, y };
  });
  return { length: n, get: (i) => rows[i]! };
}

export function loader(
  n = 64,
  batchSize = 8,
  shuffle = false,
  seed = 1,
): DataLoader<{ x: Float32Array; y: number }, Batch> {
  return new DataLoader(toyDataset(n, seed), { batchSize, shuffle, generator: new Generator(seed + 100) });
}

/** A LightningModule with the usual steps, configurable optimizers and a record of the hooks it saw. */
export class ToyModule extends LightningModule {
  net: nn.Sequential;
  calls: string[] = [];
  configure: (m: ToyModule) => OptimizerConfig = (m) => new SGD(m, { lr: 0.1 });

  constructor(seed = 0) {
    super();
    manualSeed(seed);
    this.net = new nn.Sequential(new nn.Linear(4, 16), new nn.Tanh(), new nn.Linear(16, 3));
  }

  override forward(x: tf.Tensor): tf.Tensor {
    return this.net.forward(x);
  }

  override trainingStep(batch: Batch): tf.Scalar {
    const loss = nn.crossEntropy(this.forward(batch.x), batch.y) as tf.Scalar;
    this.log("train_loss", loss, { onStep: true, onEpoch: true, progBar: true });
    return loss;
  }

  override validationStep(batch: Batch): void {
    const logits = this.forward(batch.x);
    this.log("val_loss", nn.crossEntropy(logits, batch.y));
    this.log("val_acc", tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), batch.y), "float32")));
  }

  override predictStep(batch: Batch): tf.Tensor {
    return this.forward(batch.x);
  }

  override testStep(batch: Batch): void {
    this.log("test_loss", nn.crossEntropy(this.forward(batch.x), batch.y));
  }

  override configureOptimizers(): OptimizerConfig {
    return this.configure(this);
  }
}

const HOOKS = [
  "setup",
  "teardown",
  "onFitStart",
  "onFitEnd",
  "onSanityCheckStart",
  "onSanityCheckEnd",
  "onTrainStart",
  "onTrainEnd",
  "onTrainEpochStart",
  "onTrainEpochEnd",
  "onTrainBatchStart",
  "onTrainBatchEnd",
  "onValidationStart",
  "onValidationEnd",
  "onValidationEpochStart",
  "onValidationEpochEnd",
  "onValidationBatchStart",
  "onValidationBatchEnd",
  "onBeforeBackward",
  "onAfterBackward",
  "onBeforeOptimizerStep",
  "onBeforeZeroGrad",
] as const;

/** A callback that records every hook it sees, in order. */
export class RecordingCallback extends Callback {
  readonly seen: string[] = [];
}
for (const hook of HOOKS) {
  (RecordingCallback.prototype as unknown as Record<string, unknown>)[hook] = function (
    this: RecordingCallback,
  ) {
    this.seen.push(hook);
  };
}

export type { LM, Optimizer };

/** A fresh temporary folder for a test's logs and checkpoints. */
export function tempRoot(prefix = "fulmen-trainer-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Trainer options for tests: cpu, no progress bar, summary, logger, checkpoints or sanity check, unless given. */
export function quiet(extra: TrainerOptions = {}): TrainerOptions {
  return {
    accelerator: "cpu",
    enableProgressBar: false,
    enableModelSummary: false,
    logger: false,
    enableCheckpointing: false,
    numSanityValSteps: 0,
    defaultRootDir: tempRoot(),
    ...extra,
  };
}
