/**
 * `pnpm bench`: the per-step cost of Fulmen's core training loop (Module, backward, SGD) against the same loop
 * written in raw tfjs (variables, tf.variableGrads, a hand-written SGD update), on the same MLP, data and
 * backend. Rounds alternate which loop runs first, so both see the same machine load; the ratio of medians is
 * the overhead. Prints a Markdown table for BENCHMARKS.md.
 */
import { backward, manualSeed, nn, SGD, tf } from "@fulmen/core";

const BATCH = 64;
const STEPS_PER_ROUND = 20;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const LR = 0.05;

manualSeed(0);
const x = tf.randomNormal([BATCH, 784], 0, 1, "float32", 1);
const y = tf.tensor1d(
  Array.from({ length: BATCH }, (_, i) => i % 10),
  "int32",
);

const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
const raw = model.parameters().map((p) => tf.variable(tf.clone(p.data)));
const optimizer = new SGD(model, { lr: LR });

function coreStep(): void {
  tf.tidy(() => {
    optimizer.zeroGrad();
    backward(() => nn.crossEntropy(model.forward(x), y) as tf.Scalar, model);
    optimizer.step();
  });
}

function rawStep(): void {
  tf.tidy(() => {
    const [w1, b1, w2, b2] = raw as [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
    const { grads } = tf.variableGrads(() => {
      const h = tf.relu(tf.add(tf.matMul(x, w1, false, true), b1));
      const logits = tf.add(tf.matMul(h, w2, false, true), b2);
      return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(y, 10), tf.logSoftmax(logits)), 1))) as tf.Scalar;
    }, raw);
    for (const v of raw) v.assign(tf.sub(v, tf.mul(grads[v.name]!, LR)));
  });
}

function timeSteps(step: () => void): number {
  const start = performance.now();
  for (let i = 0; i < STEPS_PER_ROUND; i++) step();
  // Reading one value makes sure queued work is finished before the clock stops.
  raw[0]!.dataSync();
  model.parameters()[0]!.data.dataSync();
  return (STEPS_PER_ROUND * 1000) / (performance.now() - start);
}

coreStep();
rawStep();
const coreRates: number[] = [];
const rawRates: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  if (r % 2 === 0) {
    coreRates.push(timeSteps(coreStep));
    rawRates.push(timeSteps(rawStep));
  } else {
    rawRates.push(timeSteps(rawStep));
    coreRates.push(timeSteps(coreStep));
  }
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
let maxDiff = 0;
model.parameters().forEach((p, i) => {
  const a = p.data.dataSync();
  const b = raw[i]!.dataSync();
  for (let k = 0; k < a.length; k++) maxDiff = Math.max(maxDiff, Math.abs(a[k]! - b[k]!));
});
const coreMedian = median(coreRates);
const rawMedian = median(rawRates);
console.log(`| loop | backend | steps/s (median of ${ROUNDS} rounds × ${STEPS_PER_ROUND} steps) |`);
console.log("| --- | --- | --- |");
console.log(`| raw tfjs | ${tf.getBackend()} | ${rawMedian.toFixed(2)} |`);
console.log(`| Fulmen core | ${tf.getBackend()} | ${coreMedian.toFixed(2)} |`);
console.log("");
console.log(`time ratio Fulmen/raw: ${(rawMedian / coreMedian).toFixed(3)}`);
console.log(
  `largest weight difference after ${1 + ROUNDS * STEPS_PER_ROUND} steps each: ${maxDiff.toExponential(2)}`,
);
