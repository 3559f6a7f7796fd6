/**
 * `example:core`: the main example's training without Fabric, a real run with @fulmen/core alone — an MLP on the
 * handwritten digits of the `mnist` package, AdamW + OneCycleLR + gradient clipping, as a Lightning user would
 * write it.
 */
import { loadMnist } from "./data/mnist";
import { trainMlp } from "./train-mlp";

const started = performance.now();
const { train, test } = loadMnist();
console.log(`MNIST: ${train.size} training and ${test.size} test digits`);
const result = trainMlp(train, test, { epochs: 4, batchSize: 64, maxLr: 3e-3, seed: 42, log: console.log });
console.log(
  `final test accuracy ${(result.testAccuracy * 100).toFixed(2)}% in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
