import { Parameter } from "../../autograd/parameter";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { instanceNormCore } from "../functional/normalization";
import { Module } from "../module";

/** Options of {@link InstanceNorm1d}, {@link InstanceNorm2d} and {@link InstanceNorm3d}. */
export interface InstanceNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Weight of each batch in the running statistics (default 0.1; PyTorch's instance norm refuses None). */
  momentum?: number;
  /** Learn a per-channel scale and shift (default false, as PyTorch). */
  affine?: boolean;
  /** Keep running statistics, used in eval mode (default false, as PyTorch). */
  trackRunningStats?: boolean;
}

/**
 * Instance normalisation, PyTorch's `_InstanceNorm`: every (sample, channel) normalised over its spatial
 * positions. With `trackRunningStats` the running mean and unbiased variance (averaged over the batch) are kept
 * in `running_mean`/`running_var` and used in eval mode; `num_batches_tracked` is kept but, as in PyTorch,
 * never counted by instance norm.
 */
abstract class InstanceNorm extends Module {
  /** The learnable scale of shape `[numFeatures]`, initialised to ones, or null without `affine: true`. */
  weight: Parameter | null;
  /** The learnable shift of shape `[numFeatures]`, initialised to zeros, or null without `affine: true`. */
  bias: Parameter | null;
  /** The running mean `[numFeatures]`, state-dict key `running_mean` (null without `trackRunningStats`). */
  declare readonly runningMean: tf.Tensor | null;
  /** The running (unbiased) variance `[numFeatures]`, state-dict key `running_var` (null likewise). */
  declare readonly runningVar: tf.Tensor | null;
  /** State-dict key `num_batches_tracked` (int32), kept but never counted, as in PyTorch; null likewise. */
  declare readonly numBatchesTracked: tf.Tensor | null;
  /** Added to the variance before its square root (default 1e-5). */
  readonly eps: number;
  /** Weight of each batch in the running statistics (default 0.1). */
  readonly momentum: number;
  /** Whether the layer has a per-channel `weight` and `bias` (default false, as PyTorch). */
  readonly affine: boolean;
  /** Whether running statistics are kept and used in eval mode (default false, as PyTorch). */
  readonly trackRunningStats: boolean;

  /** The rank of an unbatched input (a batched one has one more). */
  protected abstract readonly unbatchedRank: number;

  constructor(
    /** The number of channels `C` of the input. */
    readonly numFeatures: number,
    options: InstanceNormOptions = {},
  ) {
    super();
    const owner = this.constructor.name;
    checkOptionNames(owner, options, ["eps", "momentum", "affine", "trackRunningStats"]);
    checkNumber(owner, "numFeatures", numFeatures, (v) => Number.isInteger(v) && v > 0, "a positive integer");
    this.eps = options.eps ?? 1e-5;
    checkNumber(owner, "eps", this.eps, (v) => v >= 0, "a non-negative number");
    // PyTorch's instance norm has no cumulative average: momentum None fails in F.instance_norm.
    if (options.momentum === null) {
      throw new FulmenError(
        `${owner}: momentum must be a number in [0, 1]; instance norm has no cumulative average (momentum None), so leave it out for 0.1.`,
      );
    }
    this.momentum = options.momentum ?? 0.1;
    checkNumber(owner, "momentum", this.momentum, (v) => v >= 0 && v <= 1, "a number in [0, 1]");
    this.affine = options.affine ?? false;
    this.trackRunningStats = options.trackRunningStats ?? false;
    this.weight = this.affine ? Parameter.full([numFeatures], 1) : null;
    this.bias = this.affine ? Parameter.full([numFeatures], 0) : null;
    if (this.trackRunningStats) {
      this.registerBuffer("runningMean", tf.zeros([numFeatures]), { key: "running_mean" });
      this.registerBuffer("runningVar", tf.ones([numFeatures]), { key: "running_var" });
      this.registerBuffer("numBatchesTracked", tf.scalar(0, "int32"), { key: "num_batches_tracked" });
    }
  }

  forward(x: tf.Tensor): tf.Tensor {
    const owner = this.constructor.name;
    const rank = this.unbatchedRank;
    if (x.rank !== rank && x.rank !== rank + 1) {
      throw new FulmenError(
        `${owner}: expected ${rank}D (unbatched) or ${rank + 1}D (batched) input, got [${x.shape}].`,
      );
    }
    const unbatched = x.rank === rank;
    const channels = x.shape[unbatched ? 0 : 1]!;
    // PyTorch only insists on the channel count where it uses per-channel values (affine or running stats).
    if ((this.affine || this.trackRunningStats) && channels !== this.numFeatures) {
      throw new FulmenError(
        `${owner}: expected input's channel dimension to be ${this.numFeatures} (numFeatures), got ${channels} (shape [${x.shape}]).`,
      );
    }
    return tf.tidy(() => {
      const batched = unbatched ? tf.expandDims(x, 0) : x;
      const useInputStats = this.training || !this.trackRunningStats;
      const result = instanceNormCore(owner, batched, {
        runningMean: this.runningMean ?? null,
        runningVar: this.runningVar ?? null,
        weight: this.weight?.data ?? null,
        bias: this.bias?.data ?? null,
        useInputStats,
        momentum: this.momentum,
        eps: this.eps,
      });
      if (result.nextRunningMean !== null && result.nextRunningVar !== null) {
        this.updateBuffer("runningMean", result.nextRunningMean);
        this.updateBuffer("runningVar", result.nextRunningVar);
      }
      return unbatched ? tf.squeeze(result.output, [0]) : result.output;
    });
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

/** Instance normalisation of `[N, C, L]` or unbatched `[C, L]` inputs, like `torch.nn.InstanceNorm1d`. */
export class InstanceNorm1d extends InstanceNorm {
  protected readonly unbatchedRank = 2;
}

/** Instance normalisation of `[N, C, H, W]` or unbatched `[C, H, W]` inputs, like `torch.nn.InstanceNorm2d`. */
export class InstanceNorm2d extends InstanceNorm {
  protected readonly unbatchedRank = 3;
}

/**
 * Instance normalisation of `[N, C, D, H, W]` or unbatched `[C, D, H, W]` inputs, like `torch.nn.InstanceNorm3d`.
 */
export class InstanceNorm3d extends InstanceNorm {
  protected readonly unbatchedRank = 4;
}
