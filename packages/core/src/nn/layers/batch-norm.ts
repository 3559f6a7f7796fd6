import { Parameter } from "../../autograd/parameter";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { Module } from "../module";

/** Options of the batch-norm layers, as PyTorch's. */
export interface BatchNormOptions {
  eps?: number;
  /** Weight of the current batch in the running statistics (default 0.1). */
  momentum?: number;
  affine?: boolean;
  trackRunningStats?: boolean;
}

abstract class BatchNormBase extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  declare runningMean: tf.Tensor | null;
  declare runningVar: tf.Tensor | null;
  declare numBatchesTracked: tf.Tensor | null;
  readonly eps: number;
  readonly momentum: number;
  readonly trackRunningStats: boolean;

  constructor(
    readonly numFeatures: number,
    options: BatchNormOptions,
  ) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1)
      throw new FulmenError(`${this.constructor.name}: numFeatures must be a positive integer.`);
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    this.trackRunningStats = options.trackRunningStats ?? true;
    const affine = options.affine ?? true;
    this.weight = affine ? Parameter.full([numFeatures], 1) : null;
    this.bias = affine ? Parameter.full([numFeatures], 0) : null;
    if (this.trackRunningStats) {
      this.registerBuffer("runningMean", tf.zeros([numFeatures]));
      this.registerBuffer("runningVar", tf.ones([numFeatures]));
      this.registerBuffer("numBatchesTracked", tf.scalar(0, "int32"));
    }
  }

  /** The axes statistics are taken over, and the shape that broadcasts per-feature values against the input. */
  protected abstract layout(x: tf.Tensor): { axes: number[]; shape: number[] };

  forward(x: tf.Tensor): tf.Tensor {
    const { axes, shape } = this.layout(x);
    return tf.tidy(() => {
      let mean: tf.Tensor;
      let variance: tf.Tensor;
      if (this.training || !this.trackRunningStats) {
        ({ mean, variance } = tf.moments(x, axes));
        if (this.training && this.trackRunningStats) this.updateRunningStats(x, axes, mean, variance);
      } else {
        mean = this.runningMean!;
        variance = this.runningVar!;
      }
      let y = tf.div(
        tf.sub(x, tf.reshape(mean, shape)),
        tf.sqrt(tf.add(tf.reshape(variance, shape), this.eps)),
      );
      if (this.weight !== null) y = tf.mul(y, tf.reshape(this.weight.data, shape));
      if (this.bias !== null) y = tf.add(y, tf.reshape(this.bias.data, shape));
      return y;
    });
  }

  private updateRunningStats(x: tf.Tensor, axes: number[], mean: tf.Tensor, variance: tf.Tensor): void {
    // PyTorch keeps the unbiased variance in the running statistics and normalises with the biased one.
    const n = axes.reduce((s, a) => s * x.shape[a]!, 1);
    const m = this.momentum;
    const next = {
      mean: tf.add(tf.mul(this.runningMean!, 1 - m), tf.mul(mean, m)),
      variance: tf.add(tf.mul(this.runningVar!, 1 - m), tf.mul(variance, (m * n) / Math.max(n - 1, 1))),
      count: tf.add(this.numBatchesTracked!, tf.scalar(1, "int32")),
    };
    for (const [name, value] of [
      ["runningMean", next.mean],
      ["runningVar", next.variance],
      ["numBatchesTracked", next.count],
    ] as const) {
      const old = (this as unknown as Record<string, tf.Tensor>)[name]!;
      this.registerBuffer(name, value);
      old.dispose();
    }
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}`;
  }
}

/** Batch normalisation over [N, C] or [N, C, L] input, like `torch.nn.BatchNorm1d`. */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }

  protected layout(x: tf.Tensor): { axes: number[]; shape: number[] } {
    if ((x.rank !== 2 && x.rank !== 3) || x.shape[1] !== this.numFeatures) {
      throw new FulmenError(
        `BatchNorm1d: expected [N, ${this.numFeatures}] or [N, ${this.numFeatures}, L], got shape [${x.shape}].`,
      );
    }
    return x.rank === 2
      ? { axes: [0], shape: [1, this.numFeatures] }
      : { axes: [0, 2], shape: [1, this.numFeatures, 1] };
  }
}

/** Batch normalisation over NCHW input, like `torch.nn.BatchNorm2d`. */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }

  protected layout(x: tf.Tensor): { axes: number[]; shape: number[] } {
    if (x.rank !== 4 || x.shape[1] !== this.numFeatures) {
      throw new FulmenError(`BatchNorm2d: expected [N, ${this.numFeatures}, H, W], got shape [${x.shape}].`);
    }
    return { axes: [0, 2, 3], shape: [1, this.numFeatures, 1, 1] };
  }
}
