import { spawnSync } from "node:child_process";
import { AdamW, backward, manualSeed, nn, tf } from "@fulmen/core";
import { TinyTransformer } from "./cases";
import { labels } from "./harness";
import { TORCH_BENCH } from "./torch-bench";

/** Median milliseconds of a training step (the loss read back each step, as PyTorch's .item()). */
function stepMs(model: nn.Module & { forward(x: tf.Tensor): tf.Tensor }, x: tf.Tensor, y: tf.Tensor): number {
  const optimizer = new AdamW(model, { lr: 1e-3 });
  const times: number[] = [];
  for (let step = 0; step < 25; step++) {
    const start = performance.now();
    tf.tidy(() => {
      optimizer.zeroGrad();
      backward(() => nn.crossEntropy(model.forward(x), y) as tf.Scalar, model).dataSync();
      optimizer.step();
    });
    if (step >= 5) times.push(performance.now() - start);
  }
  model.dispose();
  optimizer.disposeState();
  tf.dispose([x, y]);
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

/** The three benchmark models' step times on the target, and PyTorch's on the same GPU where it is installed. */
export function benchAgainstTorch(torchDevice: "cuda" | "cpu"): Record<string, unknown> {
  manualSeed(1);
  const fulmen = {
    mlpMs: stepMs(
      new nn.Sequential(
        new nn.Linear(784, 512),
        new nn.ReLU(),
        new nn.Linear(512, 512),
        new nn.ReLU(),
        new nn.Linear(512, 10),
      ),
      tf.randomNormal([256, 784], 0, 1, "float32", 3),
      labels(256, 10),
    ),
    cnnMs: stepMs(
      new nn.Sequential(
        new nn.Conv2d(1, 16, 3),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Conv2d(16, 32, 3),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Flatten(),
        new nn.Linear(800, 10),
      ),
      tf.randomNormal([64, 1, 28, 28], 0, 1, "float32", 4),
      labels(64, 10),
    ),
    transformerMs: stepMs(
      new TinyTransformer({ vocab: 64, dModel: 128, heads: 4, block: 64 }),
      tf.tensor2d(
        Array.from({ length: 32 * 64 }, (_, i) => (i * 7) % 64),
        [32, 64],
        "int32",
      ),
      tf.tensor1d(
        Array.from({ length: 32 * 64 }, (_, i) => (i * 7 + 1) % 64),
        "int32",
      ),
    ),
  };
  // The first Python that has PyTorch: the one on PATH (the device image's), else the system's (Debian's
  // python3-torch, which a pyenv or venv python3 on PATH may hide).
  let pytorch: Record<string, unknown> = {};
  for (const python of ["python3", "/usr/bin/python3"]) {
    const torch = spawnSync(python, ["-c", TORCH_BENCH, torchDevice], { encoding: "utf8", timeout: 300_000 });
    const last = torch.stdout?.trim().split("\n").at(-1) ?? "";
    if (torch.status === 0 && last.startsWith("{")) {
      pytorch = JSON.parse(last) as Record<string, unknown>;
      break;
    }
    pytorch = { error: `${python}: ${torch.stderr?.slice(-500) ?? torch.error?.message}` };
  }
  return { fulmen, pytorch };
}
