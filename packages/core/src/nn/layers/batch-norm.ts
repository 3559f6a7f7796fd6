import { Parameter } from "../../autograd/parameter";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { Module } from "../module";

/** Options of the batch-norm layers, as PyTorch's. */
export interface BatchNormOptions {
  /** Added to the variance before its square root, for numerical stability (default 1e-5). */
  eps?: number;
  /**
   * Weight of the current batch in the running statistics (default 0.1); `null` keeps a cumulative moving
   * average instead (weight 1/numBatchesTracked), as PyTorch's `momentum=None`.
   */
  momentum?: number | null;
  /** Learn a per-feature `weight` and `bias` (default true). */
  affine?: boolean;
  /**
   * Keep running statistics and normalise with them in eval mode (default true); without them, batch
   * statistics are used in both modes.
   */
  trackRunningStats?: boolean;
}

const OPTION_NAMES = ["eps", "momentum", "affine", "trackRunningStats"] as const;

/** The buffers, by property, with PyTorch's state-dict keys. */
const BUFFER_KEYS = {
  runningMean: "running_mean",
  runningVar: "running_var",
  numBatchesTracked: "num_batches_tracked",
} as const;

abstract class BatchNormBase extends Module {
  /** The learnable scale of shape `[numFeatures]`, initialised to ones, or null with `affine: false`. */
  weight: Parameter | null;
  /** The learnable shift of shape `[numFeatures]`, initialised to zeros, or null with `affine: false`. */
  bias: Parameter | null;
  /** The running mean, state-dict key `running_mean` (null without trackRunningStats). */
  declare readonly runningMean: tf.Tensor | null;
  /** The running (unbiased) variance, state-dict key `running_var`. */
  declare readonly runningVar: tf.Tensor | null;
  /** The number of training batches seen (int32), state-dict key `num_batches_tracked`. */
  declare readonly numBatchesTracked: tf.Tensor | null;
  /** Added to the variance before its square root (default 1e-5). */
  readonly eps: number;
  /** Weight of the current batch in the running statistics (default 0.1); null for a cumulative average. */
  readonly momentum: number | null;
  /** Whether running statistics are kept and used in eval mode (default true). */
  readonly trackRunningStats: boolean;

  constructor(
    /** The number of features (channels) `C` of the input. */
    readonly numFeatures: number,
    options: BatchNormOptions,
  ) {
    super();
    checkOptionNames(this.constructor.name, options, OPTION_NAMES);
    if (!Number.isInteger(numFeatures) || numFeatures < 1)
      throw new FulmenError(`${this.constructor.name}: numFeatures must be a positive integer.`);
    this.eps = options.eps ?? 1e-5;
    checkNumber(this.constructor.name, "eps", this.eps, (v) => v >= 0, "a non-negative number");
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    if (this.momentum !== null)
      checkNumber(
        this.constructor.name,
        "momentum",
        this.momentum,
        (v) => v >= 0 && v <= 1,
        "in [0, 1] or null",
      );
    this.trackRunningStats = options.trackRunningStats ?? true;
    const affine = options.affine ?? true;
    this.weight = affine ? Parameter.full([numFeatures], 1) : null;
    this.bias = affine ? Parameter.full([numFeatures], 0) : null;
    if (this.trackRunningStats) {
      this.registerBuffer("runningMean", tf.zeros([numFeatures]), { key: BUFFER_KEYS.runningMean });
      this.registerBuffer("runningVar", tf.ones([numFeatures]), { key: BUFFER_KEYS.runningVar });
      this.registerBuffer("numBatchesTracked", tf.scalar(0, "int32"), { key: BUFFER_KEYS.numBatchesTracked });
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
        // As PyTorch: one value per channel has no variance to normalise with (its unbiased running
        // variance would be n/(n − 1) = 1/0), so batch statistics need more than one.
        const count = axes.reduce((s, a) => s * x.shape[a]!, 1);
        if (count <= 1) {
          throw new FulmenError(
            `${this.constructor.name}: expected more than 1 value per channel when using batch statistics, got input of shape [${x.shape}]. Use a batch of at least 2, or call eval() to normalise with the running statistics.`,
          );
        }
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
    const count = tf.add(this.numBatchesTracked!, tf.scalar(1, "int32"));
    // momentum null: the cumulative average, factor 1/numBatchesTracked after counting this batch (a tensor,
    // so that the step does not wait for the count to be read back).
    const m = this.momentum;
    const factor = m === null ? tf.div(1, tf.cast(count, "float32")) : null;
    const unbiased = tf.mul(variance, n / (n - 1));
    const blend = (running: tf.Tensor, batch: tf.Tensor) =>
      factor === null
        ? tf.add(tf.mul(running, 1 - m!), tf.mul(batch, m!))
        : tf.add(tf.mul(running, tf.sub(1, factor)), tf.mul(batch, factor));
    const nextMean = blend(this.runningMean!, mean);
    const nextVar = blend(this.runningVar!, unbiased);
    this.updateBuffer("runningMean", nextMean);
    this.updateBuffer("runningVar", nextVar);
    this.updateBuffer("numBatchesTracked", count);
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum === null ? "None" : this.momentum}`;
  }
}

/** Batch normalisation over [N, C] or [N, C, L] input, like `torch.nn.BatchNorm1d`. */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }

  protected layout(x: tf.Tensor): {
    /** The axes the statistics are taken over: all but the feature axis 1. */
    axes: number[];
    /** The shape per-feature values are reshaped to, to broadcast against the input. */
    shape: number[];
  } {
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

  protected layout(x: tf.Tensor): {
    /** The axes the statistics are taken over: all but the feature axis 1. */
    axes: number[];
    /** The shape per-feature values are reshaped to, to broadcast against the input. */
    shape: number[];
  } {
    if (x.rank !== 4 || x.shape[1] !== this.numFeatures) {
      throw new FulmenError(`BatchNorm2d: expected [N, ${this.numFeatures}, H, W], got shape [${x.shape}].`);
    }
    return { axes: [0, 2, 3], shape: [1, this.numFeatures, 1, 1] };
  }
}

/** Batch normalisation over NCDHW input (`[N, C, D, H, W]`), like `torch.nn.BatchNorm3d`. */
export class BatchNorm3d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }

  protected layout(x: tf.Tensor): {
    /** The axes the statistics are taken over: all but the feature axis 1. */
    axes: number[];
    /** The shape per-feature values are reshaped to, to broadcast against the input. */
    shape: number[];
  } {
    if (x.rank !== 5 || x.shape[1] !== this.numFeatures) {
      throw new FulmenError(
        `BatchNorm3d: expected [N, ${this.numFeatures}, D, H, W], got shape [${x.shape}]; an unbatched volume needs a batch dimension (x.expandDims(0)).`,
      );
    }
    return { axes: [0, 2, 3, 4], shape: [1, this.numFeatures, 1, 1, 1] };
  }
}
