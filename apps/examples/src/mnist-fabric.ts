/**
 * `pnpm example`: an MLP trained on the handwritten digits of the `mnist` package with Fabric, which picks the
 * fastest accelerator installed (the native engine's "host" where it built, else wasm). Options: `--accelerator
 * host|wasm|cpu`, `--precision 32-true|bf16-mixed|16-mixed`, `--epochs N`, `--devices N` (N > 1: DDP over N
 * processes on this machine, batch 64 per process; under `fulmen run` or a scheduler the ranks come from the
 * environment).
 */
// Registers "host", the native engine's CPU build, which accelerator "auto" then prefers over wasm and cpu.
import "@fulmen/accelerator-host";
import { exampleArgs } from "./cli";
import { loadMnist } from "./data/mnist";
import { trainMlpWithFabric } from "./train-mlp-fabric";

const values = exampleArgs("pnpm example: an MLP on the MNIST digits, trained with Fabric.", {
  accelerator: { help: "auto, host, wasm or cpu", default: "auto" },
  precision: { help: "32-true, bf16-mixed or 16-mixed", default: "32-true" },
  epochs: { help: "passes over the training digits", default: "10", count: true },
  devices: { help: "processes on this machine (more than 1: DDP)", count: true },
});
const devices = values.devices === undefined ? undefined : Number(values.devices);
const started = performance.now();
const { train, test } = loadMnist();
if (process.env.LOCAL_RANK === undefined)
  console.log(`MNIST: ${train.size} training and ${test.size} test digits`);
const result = await trainMlpWithFabric(train, test, {
  epochs: Number(values.epochs),
  batchSize: 64,
  maxLr: 3e-3,
  seed: 42,
  fabric: {
    accelerator: values.accelerator,
    precision: values.precision,
    ...(devices === undefined ? {} : { devices }),
  },
});
const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (result.globalRank === 0)
  console.log(
    `final test accuracy ${(result.testAccuracy * 100).toFixed(2)}% (${result.accelerator}, ${result.precision}${result.worldSize > 1 ? `, DDP × ${result.worldSize}` : ""}) in ${seconds} s`,
  );
