// BEFORE: a training loop written with @fulmen/core alone. (See fabric-loop.ts for the same loop with Fabric.)
import { AdamW, backward, DataLoader, type Dataset, manualSeed, nn, tf } from "@fulmen/core";

export async function trainPlain(
  dataset: Dataset<{ x: Float32Array; y: number }>,
  epochs: number,
): Promise<nn.Sequential> {
  await tf.setBackend("cpu");
  manualSeed(0);
  const model = new nn.Sequential(new nn.Linear(784, 64), new nn.ReLU(), new nn.Linear(64, 10));
  const optimizer = new AdamW(model, { lr: 1e-3 });
  const loader = new DataLoader<{ x: Float32Array; y: number }, { x: tf.Tensor; y: tf.Tensor }>(dataset, {
    batchSize: 32,
  });
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const { x, y } of loader) {
      optimizer.zeroGrad();
      backward(() => nn.crossEntropy(model.forward(x), y) as tf.Scalar, model).dispose();
      optimizer.step();
    }
  }
  return model;
}
