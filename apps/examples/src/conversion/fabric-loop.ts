// AFTER: the same loop with Fabric. Changed lines are marked; everything else is untouched.
import { AdamW, DataLoader, type Dataset, manualSeed, nn, type tf } from "@fulmen/core";
import { Fabric } from "@fulmen/fabric"; // changed

export async function trainWithFabric(
  dataset: Dataset<{ x: Float32Array; y: number }>,
  epochs: number,
): Promise<nn.Sequential> {
  const fabric = new Fabric({ accelerator: "cpu" }); // changed: "auto", "wasm", precision: "bf16-mixed", ...
  await fabric.launch(); // changed
  manualSeed(0);
  let model = new nn.Sequential(new nn.Linear(784, 64), new nn.ReLU(), new nn.Linear(64, 10));
  let optimizer = new AdamW(model, { lr: 1e-3 });
  [model, optimizer] = fabric.setup(model, optimizer); // changed
  let loader = new DataLoader<{ x: Float32Array; y: number }, { x: tf.Tensor; y: tf.Tensor }>(dataset, {
    batchSize: 32,
  });
  loader = fabric.setupDataloaders(loader).loader; // changed
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const { x, y } of loader) {
      optimizer.zeroGrad();
      fabric.backward(() => nn.crossEntropy(model.forward(x), y) as tf.Scalar).dispose(); // changed
      optimizer.step();
    }
  }
  return model;
}
