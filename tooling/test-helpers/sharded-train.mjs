// Sharded-strategy equivalence run, shared by the tests of @fulmen/strategy-deepspeed and @fulmen/strategy-fsdp
// (copied into a temporary project whose node_modules holds the packages): `node sharded-train.mjs JSON` with
// JSON {strategy, devices, numNodes?, out, model, steps, saveAt?, resumeAt?, ckpt?, fsdp?, deepspeedConfig?, dropout?,
// precision?, scaler?, emptyInit?, deepspeed? (DeepSpeedStrategy options), accelerator?, groups?,
// checkGradientFormat?}. Every
// global batch of 32 samples
// is split over the ranks, with gradient accumulation over 2 micro-batches, norm clipping (active at every step)
// and AdamW; each rank writes its losses, final weights, tensor counts and the bytes it holds right after
// optimizer.step(). The strategy is asked for by name (Fabric finds its package in node_modules, as in a user's
// project), or with `fsdp` {shardingStrategy, policy: "layers" | "blocks" | "size", checkpointing, stateDictType, mixedPrecision} built as an
// FSDPStrategy, or with `deepspeedConfig` (a DeepSpeed JSON config; its gradient_clipping replaces the script's
// clipping) as a DeepSpeedStrategy. The "small" model has dropout (default p 0.2; its masks depend on the per-rank batch shape, so runs
// on different numbers of ranks agree only without it) inside its blocks and a weight shared by two of them.
import { writeFileSync } from "node:fs";
import {
  AdamW,
  DataLoader,
  manualSeed,
  nn,
  roundBfloat16,
  roundFloat16,
  TensorDataset,
  tf,
} from "@fulmen/core";
import { Fabric } from "@fulmen/fabric";

const config = JSON.parse(process.argv[2]);
const { devices, out, steps } = config;

class Block extends nn.Module {
  constructor(inFeatures, outFeatures, shared) {
    super();
    this.fc = new nn.Linear(inFeatures, outFeatures);
    this.drop = new nn.Dropout(config.dropout ?? 0.2);
    // A scale shared with another block (tied weights): it belongs to neither block's unit alone.
    this.shared = shared;
  }
  forward(x) {
    return this.shared.forward(this.drop.forward(tf.tanh(this.fc.forward(x))));
  }
}
class Scale extends nn.Module {
  constructor(n) {
    super();
    this.weight = nn.Parameter.full([n], 1);
  }
  forward(x) {
    return tf.mul(x, this.weight.data);
  }
}

async function makeStrategy() {
  if (config.deepspeedConfig !== undefined || config.deepspeed !== undefined) {
    const { DeepSpeedStrategy } = await import("@fulmen/strategy-deepspeed");
    return new DeepSpeedStrategy(config.deepspeed ?? { config: config.deepspeedConfig });
  }
  if (config.fsdp === undefined) return config.strategy;
  const { FSDPStrategy } = await import("@fulmen/strategy-fsdp");
  const { policy, shardingStrategy, checkpointing, stateDictType, mixedPrecision } = config.fsdp;
  return new FSDPStrategy({
    shardingStrategy,
    stateDictType,
    mixedPrecision,
    autoWrapPolicy:
      policy === "layers"
        ? new Set([nn.Linear])
        : policy === "blocks"
          ? [Block]
          : policy === "size"
            ? { minNumParams: 40 }
            : undefined,
    ...(checkpointing ? { activationCheckpointing: nn.Linear } : {}),
  });
}

/** The precision: a name, or with `scaler` (GradScaler options) "16-mixed" with that loss scaler. */
async function makePrecision() {
  if (config.scaler === undefined) return config.precision ?? "32-true";
  const { float16, GradScaler, MixedPrecision } = await import("@fulmen/precision");
  return new MixedPrecision(float16, new GradScaler(config.scaler));
}

const fabric = new Fabric({
  accelerator: config.accelerator ?? "cpu",
  devices,
  numNodes: config.numNodes ?? 1,
  strategy: await makeStrategy(),
  precision: await makePrecision(),
});
await fabric.launch();

const features = config.model === "big" ? 64 : 5;
const before = tf.memory().numBytes;
manualSeed(7);
// With `emptyInit`, the model is made without values and materialised when set up (unit by unit when sharded).
const build = () => {
  const shared = config.model === "big" ? null : new Scale(16);
  return config.model === "big"
    ? new nn.Sequential(
        new nn.Linear(64, 1024),
        new nn.Tanh(),
        new nn.Linear(1024, 1024),
        new nn.Tanh(),
        new nn.Linear(1024, 3),
      )
    : new nn.Sequential(new Block(5, 16, shared), new Block(16, 16, shared), new nn.Linear(16, 3));
};
const model = config.emptyInit ? fabric.initModule(build, { emptyInit: true }) : build();
const numParams = model.parameters().reduce((n, p) => n + p.size, 0);
// With `groups`: weight matrices decayed, the rest not and at another learning rate (two parameter groups).
const optimizer = config.groups
  ? new AdamW(
      [
        { params: model.parameters().filter((p) => p.shape.length > 1), weightDecay: 0.05 },
        { params: model.parameters().filter((p) => p.shape.length <= 1), weightDecay: 0, lr: 0.003 },
      ],
      { lr: 0.01 },
    )
  : new AdamW(model, { lr: 0.01, weightDecay: 0.05 });
const [m, opt] = fabric.setup(model, optimizer);

const samples = 32 * 2 * steps;
const x = tf.tensor2d(
  Array.from({ length: samples * features }, (_, i) => Math.sin(i * 0.37) * 2),
  [samples, features],
);
const y = tf.tensor1d(
  Array.from({ length: samples }, (_, i) => (i * 7) % 3),
  "int32",
);
const loader = fabric.setupDataloaders(
  new DataLoader(new TensorDataset(x, y), { batchSize: 32 / fabric.worldSize }),
);
const dataBytes = x.size * 4 + y.size * 4;

if (config.resumeAt !== undefined) fabric.load(config.ckpt, { model: m, optimizer: opt });

const startTensors = tf.memory().numTensors;
const tensorCounts = [];
const losses = [];
const norms = [];
const bytesAfterStep = [];
const deviceBytesAfterStep = [];
// Whether each optimizer step was taken (16-mixed skips a step whose gradients overflowed).
const taken = [];
/** With `checkGradientFormat`: after the first step's backward, whether the gradients are bfloat16/float16 values. */
let gradientFormats = null;
let micro = 0;
let stepLoss = 0;
for (const [bx, by] of loader) {
  const step = Math.floor(micro / 2);
  if (config.resumeAt !== undefined && step < config.resumeAt) {
    tf.dispose([bx, by]);
    micro++;
    continue;
  }
  const last = micro % 2 === 1;
  const backward = () => {
    const loss = fabric.backward(() => tf.div(nn.crossEntropy(m.forward(bx), by), 2));
    stepLoss += loss.dataSync()[0];
    loss.dispose();
  };
  if (last) backward();
  else fabric.noBackwardSync(m, backward);
  tf.dispose([bx, by]);
  if (last && config.checkGradientFormat && gradientFormats === null) {
    // Which 16-bit formats hold every value of the averaged gradients exactly (a reduction in half leaves them so).
    const grads = (
      typeof fabric.strategy.fullGradients === "function"
        ? Object.values(fabric.strategy.fullGradients(m))
        : m.parameters().map((p) => (p.grad === null ? null : tf.clone(p.grad)))
    ).filter((g) => g !== null);
    const values = grads.flatMap((g) => Array.from(g.dataSync()));
    tf.dispose(grads);
    gradientFormats = {
      bfloat16: values.every((v) => roundBfloat16(v) === v),
      float16: values.every((v) => roundFloat16(v) === v),
    };
  }
  if (last) {
    // The norm before clipping, across every rank's gradient (shards): Adam and clipping would hide a wrong scale.
    // (With a DeepSpeed config, its gradient_clipping clips inside opt.step() instead.)
    if (config.deepspeedConfig === undefined) {
      // Under loss scaling an overflowing step has a non-finite norm; it is skipped, not an error.
      const norm = fabric.clipGradients(m, opt, {
        maxNorm: 0.1,
        errorIfNonfinite: fabric.precision.name !== "16-mixed",
      });
      norms.push(norm.dataSync()[0]);
      norm.dispose();
    }
    taken.push(opt.step());
    // What this rank keeps of parameters, gradients and optimizer state (the data set is not counted).
    bytesAfterStep.push(tf.memory().numBytes - before - dataBytes);
    // On an accelerator with memory of its own, that memory's count (what offloading frees).
    deviceBytesAfterStep.push(tf.memory().numBytesInDevice ?? null);
    opt.zeroGrad();
    losses.push(stepLoss);
    stepLoss = 0;
    tensorCounts.push(tf.memory().numTensors - startTensors);
    if (config.saveAt === step + 1) fabric.save(config.ckpt, { model: m, optimizer: opt });
  }
  micro++;
}
const weights =
  config.model === "big"
    ? {}
    : Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, Array.from(v.dataSync())]));
const summary = {
  weights,
  losses,
  norms,
  taken,
  tensorCounts,
  bytesAfterStep,
  deviceBytesAfterStep,
  numParams,
  gradientFormats,
  worldSize: fabric.worldSize,
  name: fabric.strategy.name,
  accelerator: fabric.accelerator.name,
};
writeFileSync(`${out}.rank${fabric.globalRank}`, JSON.stringify(summary));
