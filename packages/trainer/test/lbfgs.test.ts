import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  backward,
  DataLoader,
  LBFGS,
  type LBFGSOptions,
  manualSeed,
  nn,
  TensorDataset,
  tf,
} from "@fulmen/core";
import { describe, expect, it } from "vitest";
import { Callback, LightningModule, type OptimizerConfig, Trainer, type TrainerOptions } from "../src/index";
import { quiet } from "./helpers/toy";

// A small least-squares problem: y ≈ x·w + b over 6 rows of 3 features, one batch per epoch.
const X = [
  [1, 2, 0],
  [0, 1, 1],
  [2, 0, 1],
  [1, 1, 1],
  [0, 3, 1],
  [1, 0, 2],
];
const Y = [1, 2, 3, 4, 5, 6];
const OPTIONS: Partial<LBFGSOptions> = { lineSearchFn: "strong_wolfe", maxIter: 8 };
const EPOCHS = 3;

type Batch = [tf.Tensor2D, tf.Tensor2D];

function makeLinear(): nn.Linear {
  manualSeed(11);
  return new nn.Linear(3, 1);
}

class LeastSquares extends LightningModule {
  net = makeLinear();
  evaluations = 0;

  override forward(x: tf.Tensor): tf.Tensor {
    return this.net.forward(x);
  }

  override trainingStep([x, y]: Batch): tf.Scalar {
    this.evaluations += 1;
    return nn.mseLoss(this.forward(x), y) as tf.Scalar;
  }

  override configureOptimizers(): OptimizerConfig {
    return new LBFGS(this, OPTIONS);
  }
}

/** Records the loss the Trainer hands to onTrainBatchEnd and how often onBeforeOptimizerStep fired. */
class Recorder extends Callback {
  losses: number[] = [];
  tensorCounts: number[] = [];
  beforeStep = 0;
  override onBeforeOptimizerStep(): void {
    this.beforeStep += 1;
  }
  override onTrainBatchEnd(
    _trainer: Trainer,
    _module: LightningModule,
    outputs: Record<string, number>,
  ): void {
    this.losses.push(outputs.loss!);
    this.tensorCounts.push(tf.memory().numTensors);
  }
}

function data(): DataLoader<[tf.Tensor, tf.Tensor], Batch> {
  return new DataLoader(new TensorDataset(tf.tensor2d(X), tf.tensor2d(Y, [6, 1])), { batchSize: 6 }) as never;
}

function weights(module: nn.Module): number[][] {
  return module.parameters().map((p) => Array.from(p.data.dataSync()));
}

async function runFit(extra: TrainerOptions = {}) {
  const recorder = new Recorder();
  const module = new LeastSquares();
  const trainer = new Trainer(quiet({ maxEpochs: EPOCHS, callbacks: [recorder], ...extra }));
  await trainer.fit(module, { trainDataloaders: data() });
  return { module, recorder, trainer };
}

describe("Trainer automatic optimization with LBFGS (a closure-based optimizer)", () => {
  it("matches core's LBFGS with the equivalent closure; the batch's loss is the last evaluation's", async () => {
    const { module, recorder, trainer } = await runFit();

    const plain = makeLinear();
    const optimizer = new LBFGS(plain, OPTIONS);
    const x = tf.tensor2d(X);
    const y = tf.tensor2d(Y, [6, 1]);
    const lastLosses: number[] = [];
    let evaluations = 0;
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      let last = 0;
      optimizer
        .step(() => {
          evaluations += 1;
          optimizer.zeroGrad();
          const loss = backward(() => nn.mseLoss(plain.forward(x), y) as tf.Scalar, plain);
          last = loss.dataSync()[0]!;
          return loss;
        })!
        .dispose();
      lastLosses.push(last);
    }

    expect(weights(module.net)).toEqual(weights(plain));
    // As Lightning's Closure keeps the result of its latest call, the batch's loss is the last evaluation's.
    expect(recorder.losses).toEqual(lastLosses);
    expect(module.evaluations).toBe(evaluations);
    expect(evaluations).toBeGreaterThan(EPOCHS);
    // Lightning's _after_closure: onBeforeOptimizerStep (and clipping) after every evaluation's backward.
    expect(recorder.beforeStep).toBe(evaluations);
    expect(trainer.globalStep).toBe(EPOCHS);
    // LBFGS's state is complete after the first step; later steps leak no tensor.
    expect(recorder.tensorCounts[2]).toBe(recorder.tensorCounts[1]);
    optimizer.disposeState();
    tf.dispose([x, y]);
  });

  it("refuses gradient accumulation, which would add every evaluation's gradients onto the last", async () => {
    await expect(runFit({ accumulateGradBatches: 2 })).rejects.toThrow(
      /accumulateGradBatches = 2 does not work with LBFGS.*use accumulateGradBatches = 1/,
    );
  });

  it("refuses LBFGS under 16-mixed loss scaling, as Lightning does", async () => {
    await expect(runFit({ precision: "16-mixed" })).rejects.toThrow(
      /Native AMP .* and the LBFGS optimizer are not compatible/,
    );
  });
});

describe("LBFGS under the Trainer with DDP", () => {
  interface RankResult {
    weights: number[][];
    evaluations: number;
    tensorCounts: number[];
  }
  const run = (devices: number): RankResult[] => {
    const dir = mkdtempSync(join(tmpdir(), "fulmen-ddp-lbfgs-"));
    try {
      const out = join(dir, "out.json");
      const child = spawnSync(
        process.execPath,
        [join(__dirname, "fixtures/ddp-lbfgs.mjs"), String(devices), out],
        {
          encoding: "utf8",
          timeout: 120_000,
        },
      );
      expect(child.status, child.stderr).toBe(0);
      return Array.from(
        { length: devices },
        (_, r) => JSON.parse(readFileSync(r === 0 ? out : `${out}.rank${r}`, "utf8")) as RankResult,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it("every rank's line search sees the loss averaged over ranks: 2 ranks train as 1 on the whole batch", () => {
    const [single] = run(1);
    const [zero, one] = run(2);
    // With each rank's own loss the ranks' line searches diverged and the next evaluation's collectives hung.
    expect(zero!.evaluations).toBe(single!.evaluations);
    expect(one!.evaluations).toBe(zero!.evaluations);
    expect(one!.weights).toEqual(zero!.weights);
    zero!.weights.flat().forEach((w, i) => {
      expect(Math.abs(w - single!.weights.flat()[i]!)).toBeLessThan(1e-5);
    });
    expect(new Set(zero!.tensorCounts).size).toBe(1);
  });
});
