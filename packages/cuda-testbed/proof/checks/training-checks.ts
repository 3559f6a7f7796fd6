import { AdamW, backward, manualSeed, nn, tf } from "@fulmen/core";
import { poolingCnn, TinyTransformer } from "../cases";
import { assert, type CheckRun, close, labels } from "../harness";

/** Five training steps on the target and on tfjs's cpu backend: losses, fallbacks and memory. */
async function trainingCheck(
  run: CheckRun,
  name: string,
  make: () => nn.Module & { forward(x: tf.Tensor): tf.Tensor },
  data: () => [tf.Tensor, tf.Tensor],
): Promise<void> {
  await run.check(`training: ${name}`, async () => {
    const train = (target: boolean) => {
      manualSeed(7);
      const model = make();
      const optimizer = new AdamW(model, { lr: 3e-3 });
      const [x, y] = data();
      const losses: number[] = [];
      // Once the optimizer's state exists and the allocator's cache has warmed up (by the ninth step), tensors,
      // their bytes and the device's raw allocations must stay put.
      let before = { tensors: 0, bytes: 0, raw: 0 };
      const now = () => ({
        tensors: tf.memory().numTensors,
        bytes: tf.memory().numBytes,
        raw: target ? run.device.device.memory().rawAllocations : 0,
      });
      if (target) run.device.resetFallbackStats();
      for (let step = 0; step < 12; step++) {
        if (step === 8) before = now();
        tf.tidy(() => {
          optimizer.zeroGrad();
          losses.push(
            backward(() => nn.crossEntropy(model.forward(x), y) as tf.Scalar, model).dataSync()[0]!,
          );
          optimizer.step();
        });
      }
      const after = now();
      assert(
        after.tensors === before.tensors && after.bytes === before.bytes && after.raw === before.raw,
        () => `memory grew across steps: ${JSON.stringify(before)} → ${JSON.stringify(after)}`,
      );
      if (target) {
        const fallbacks = run.device.fallbackStats();
        assert(Object.keys(fallbacks).length === 0, () => `fell back to tfjs: ${JSON.stringify(fallbacks)}`);
      }
      model.dispose();
      optimizer.disposeState();
      tf.dispose([x, y]);
      return losses;
    };
    const got = train(true);
    // The accelerator says it is deterministic: a second run must give the same bits.
    const again = train(true);
    assert(
      got.every((loss, i) => Object.is(loss, again[i])),
      () => `two runs differ: ${got} and ${again}`,
    );
    const want = await run.onCpu(() => train(false));
    const problem = close(got, want, 1e-4);
    assert(problem === null, () => `losses ${got} vs cpu ${want}: ${problem}`);
    assert(got.at(-1)! < got[0]!, () => `the loss did not fall: ${got}`);
  });
}

/** MLP, CNN and transformer training on the backend against tfjs's cpu. */
export async function trainingChecks(run: CheckRun): Promise<void> {
  await trainingCheck(
    run,
    "MLP with GELU",
    () => new nn.Sequential(new nn.Linear(20, 64), new nn.GELU(), new nn.Linear(64, 4)),
    () => [tf.randomNormal([32, 20], 0, 1, "float32", 3), labels(32, 4)],
  );
  await trainingCheck(run, "CNN with max and average pooling", poolingCnn, () => [
    tf.randomNormal([8, 1, 14, 14], 0, 1, "float32", 32),
    labels(8, 3),
  ]);
  await trainingCheck(
    run,
    "transformer block",
    () => new TinyTransformer(),
    () => {
      const tokens = Array.from({ length: 48 }, (_, i) => (i * 7 + 3) % 16);
      return [
        tf.tensor2d(tokens, [4, 12], "int32"),
        tf.tensor1d(
          tokens.map((v) => (v + 1) % 16),
          "int32",
        ),
      ];
    },
  );
}
