import { AdamW, backward, clipGradNorm_, Generator, nn, OneCycleLR, seedEverything, tf } from "@fulmen/core";
import { batches, type MnistSplit } from "./data/mnist";

/** Settings of {@link trainMlp}. */
export interface TrainSettings {
  epochs: number;
  batchSize: number;
  maxLr: number;
  seed: number;
  log?: (line: string) => void;
}

/** The result of a run: the final test accuracy and the last epoch's mean loss. */
export interface TrainResult {
  testAccuracy: number;
  finalLoss: number;
}

/** The recipe a Lightning user would write: an MLP, AdamW + OneCycleLR, gradient clipping at 1.0. */
export function trainMlp(train: MnistSplit, test: MnistSplit, settings: TrainSettings): TrainResult {
  seedEverything(settings.seed);
  const log = settings.log ?? (() => {});
  const model = new nn.Sequential(
    new nn.Linear(784, 128),
    new nn.ReLU(),
    new nn.Dropout(0.1),
    new nn.Linear(128, 10),
  );
  const optimizer = new AdamW(model, { lr: settings.maxLr, weightDecay: 1e-4 });
  const stepsPerEpoch = Math.ceil(train.size / settings.batchSize);
  const scheduler = new OneCycleLR(optimizer, {
    maxLr: settings.maxLr,
    epochs: settings.epochs,
    stepsPerEpoch,
  });
  const shuffle = new Generator(settings.seed);
  let finalLoss = Number.NaN;
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    model.train();
    let lossSum: tf.Tensor = tf.scalar(0);
    let steps = 0;
    for (const [x, y] of batches(train, settings.batchSize, shuffle)) {
      const newSum = tf.tidy(() => {
        optimizer.zeroGrad();
        const loss = backward(() => nn.crossEntropy(model.forward(x), y) as tf.Scalar, model);
        clipGradNorm_(model, 1.0);
        optimizer.step();
        return tf.add(lossSum, loss);
      });
      lossSum.dispose();
      lossSum = newSum;
      scheduler.step();
      x.dispose();
      y.dispose();
      steps += 1;
    }
    finalLoss = lossSum.dataSync()[0]! / steps;
    lossSum.dispose();
    const accuracy = evaluate(model, test);
    log(
      `epoch ${epoch + 1}/${settings.epochs}  train loss ${finalLoss.toFixed(4)}  test accuracy ${(accuracy * 100).toFixed(2)}%`,
    );
  }
  const testAccuracy = evaluate(model, test);
  model.dispose();
  optimizer.disposeState();
  return { testAccuracy, finalLoss };
}

/** The fraction of a split the model classifies correctly. */
export function evaluate(model: nn.Sequential, split: MnistSplit): number {
  model.eval();
  let correct = 0;
  for (const [x, y] of batches(split, 512, null)) {
    correct += tf.tidy(
      () => tf.sum(tf.cast(tf.equal(tf.argMax(model.forward(x) as tf.Tensor, 1), y), "int32")).dataSync()[0]!,
    );
    x.dispose();
    y.dispose();
  }
  return correct / split.size;
}
