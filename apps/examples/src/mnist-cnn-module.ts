import { AdamW, DataLoader, Generator, nn, OneCycleLR, tf } from "@fulmen/core";
import { LightningDataModule, LightningModule, type OptimizerConfig } from "@fulmen/trainer";
import { loadMnist, type MnistSplit } from "./data/mnist";
import { MnistDataset, type MnistSample } from "./data/mnist-dataset";

type Batch = { x: tf.Tensor2D; y: tf.Tensor1D };

/** A small CNN for 28×28 digits (strided convolutions instead of pooling), as a LightningModule. */
export class MnistCnn extends LightningModule {
  net = new nn.Sequential(
    new nn.Conv2d(1, 16, 3, { stride: 2, padding: 1 }),
    new nn.ReLU(),
    new nn.Conv2d(16, 32, 3, { stride: 2, padding: 1 }),
    new nn.ReLU(),
    new nn.Flatten(),
    new nn.Dropout(0.1),
    new nn.Linear(32 * 7 * 7, 10),
  );

  constructor(
    private readonly maxLr = 3e-3,
    private readonly totalSteps = 1000,
  ) {
    super();
    this.saveHyperparameters({ maxLr, totalSteps, architecture: "conv16-conv32-linear" });
  }

  override forward(x: tf.Tensor): tf.Tensor {
    return this.net.forward(tf.reshape(x, [-1, 1, 28, 28]));
  }

  override trainingStep(batch: Batch): tf.Scalar {
    const loss = nn.crossEntropy(this.forward(batch.x), batch.y) as tf.Scalar;
    this.log("train_loss", loss, { progBar: true });
    return loss;
  }

  private evaluate(batch: Batch, stage: "val" | "test"): void {
    const logits = this.forward(batch.x);
    this.log(`${stage}_loss`, nn.crossEntropy(logits, batch.y), { progBar: true });
    this.log(`${stage}_acc`, tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), batch.y), "float32")), {
      progBar: true,
    });
  }

  override validationStep(batch: Batch): void {
    this.evaluate(batch, "val");
  }

  override testStep(batch: Batch): void {
    this.evaluate(batch, "test");
  }

  override configureOptimizers(): OptimizerConfig {
    const optimizer = new AdamW(this, { lr: this.maxLr, weightDecay: 1e-4 });
    return {
      optimizer,
      lrScheduler: {
        scheduler: new OneCycleLR(optimizer, { maxLr: this.maxLr, totalSteps: this.totalSteps }),
        interval: "step",
      },
    };
  }
}

function subset(split: MnistSplit, from: number, to: number): MnistSplit {
  return {
    images: split.images.subarray(from * 784, to * 784),
    labels: split.labels.subarray(from, to),
    size: to - from,
  };
}

/** The `mnist` package's digits: the training split cut into train and validation, its test split for testing. */
export class MnistDataModule extends LightningDataModule {
  private train: MnistSplit | null = null;
  private val: MnistSplit | null = null;
  private test: MnistSplit | null = null;

  constructor(
    readonly batchSize = 64,
    readonly seed = 42,
  ) {
    super();
  }

  override setup(): void {
    if (this.train !== null) return;
    const { train, test } = loadMnist();
    // Shuffle once, deterministically, so that validation holds every digit.
    const order = new Generator(this.seed).randperm(train.size);
    const images = new Float32Array(train.images.length);
    const labels = new Int32Array(train.size);
    order.forEach((from, to) => {
      images.set(train.images.subarray(from * 784, (from + 1) * 784), to * 784);
      labels[to] = train.labels[from]!;
    });
    const shuffled = { images, labels, size: train.size };
    const cut = Math.floor(train.size * 0.9);
    this.train = subset(shuffled, 0, cut);
    this.val = subset(shuffled, cut, train.size);
    this.test = test;
  }

  private loader(split: MnistSplit | null, shuffle: boolean): DataLoader<unknown, unknown> {
    if (split === null) throw new Error("MnistDataModule: setup() has not run.");
    return new DataLoader<MnistSample, Batch>(new MnistDataset(split), {
      batchSize: this.batchSize,
      shuffle,
      generator: new Generator(this.seed),
    }) as DataLoader<unknown, unknown>;
  }

  override trainDataloader(): DataLoader<unknown, unknown> {
    return this.loader(this.train, true);
  }
  override valDataloader(): DataLoader<unknown, unknown> {
    return this.loader(this.val, false);
  }
  override testDataloader(): DataLoader<unknown, unknown> {
    return this.loader(this.test, false);
  }

  /** Training batches per epoch. */
  get stepsPerEpoch(): number {
    return Math.ceil((this.train?.size ?? 0) / this.batchSize);
  }
}
