import { AdamW, DataLoader, Generator, nn, OneCycleLR, tf } from "@fulmen/core";
import { Fabric, type FabricOptions } from "@fulmen/fabric";
import type { MnistSplit } from "./data/mnist";
import { MnistDataset, type MnistSample } from "./data/mnist-dataset";
import { evaluate } from "./train-mlp";

/** Settings of {@link trainMlpWithFabric}. */
export interface FabricTrainSettings {
  epochs: number;
  batchSize: number;
  maxLr: number;
  seed: number;
  fabric?: FabricOptions;
  log?: (line: string) => void;
}

type Batch = { x: tf.Tensor2D; y: tf.Tensor1D };

/** What a run reports. */
export interface FabricTrainResult {
  testAccuracy: number;
  finalLoss: number;
  accelerator: string;
  precision: string;
  /** This process's rank and the number of processes (DDP runs report on rank 0). */
  globalRank: number;
  worldSize: number;
}

/**
 * The main example's training: an MLP on MNIST with Fabric choosing the accelerator (the fastest installed),
 * AdamW + OneCycleLR, gradient clipping at 1.0, a shuffled DataLoader, and per-epoch progress.
 */
export async function trainMlpWithFabric(
  train: MnistSplit,
  test: MnistSplit,
  settings: FabricTrainSettings,
): Promise<FabricTrainResult> {
  const fabric = new Fabric(settings.fabric);
  await fabric.launch();
  fabric.seedEverything(settings.seed);
  const log = settings.log ?? ((line: string) => fabric.print(line));
  const model = new nn.Sequential(
    new nn.Linear(784, 256),
    new nn.ReLU(),
    new nn.Dropout(0.1),
    new nn.Linear(256, 10),
  );
  const [m, optimizer] = fabric.setup(model, new AdamW(model, { lr: settings.maxLr, weightDecay: 1e-4 }));
  const trainLoader = fabric.setupDataloaders(
    new DataLoader<MnistSample, Batch>(new MnistDataset(train), {
      batchSize: settings.batchSize,
      shuffle: true,
      generator: new Generator(settings.seed),
    }),
  );
  const scheduler = new OneCycleLR(optimizer, {
    maxLr: settings.maxLr,
    epochs: settings.epochs,
    stepsPerEpoch: trainLoader.length,
  });
  let finalLoss = Number.NaN;
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    m.train();
    let lossSum: tf.Tensor = tf.scalar(0);
    let steps = 0;
    for (const { x, y } of trainLoader) {
      const next = tf.tidy(() => {
        optimizer.zeroGrad();
        const loss = fabric.backward(() => nn.crossEntropy(m.forward(x), y) as tf.Scalar);
        fabric.clipGradients(m, optimizer, { maxNorm: 1.0, errorIfNonfinite: false });
        optimizer.step();
        return tf.add(lossSum, loss);
      });
      lossSum.dispose();
      lossSum = next;
      scheduler.step();
      x.dispose();
      y.dispose();
      steps += 1;
    }
    finalLoss = lossSum.dataSync()[0]! / steps;
    lossSum.dispose();
    const accuracy = evaluate(m, test);
    log(
      `epoch ${epoch + 1}/${settings.epochs}  train loss ${finalLoss.toFixed(4)}  test accuracy ${(accuracy * 100).toFixed(2)}%`,
    );
  }
  const testAccuracy = evaluate(m, test);
  m.dispose();
  optimizer.disposeState();
  return {
    testAccuracy,
    finalLoss,
    accelerator: fabric.accelerator.name,
    precision: fabric.precision.name,
    globalRank: fabric.globalRank,
    worldSize: fabric.worldSize,
  };
}
