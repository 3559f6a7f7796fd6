import type { tf } from "../../runtime/tfjs";
import {
  AVG_POOL1D_OPTIONS,
  type AvgPoolOptions,
  avgPoolPlan,
  type MaxPoolOptions,
  maxPoolPlan,
  maxPoolResult,
  type PoolOptions,
  type PoolPlan,
  planWindows,
  poolNd,
} from "../functional/pool";
import { checkOptions, type IntTuple } from "../functional/tuples";
import { Module } from "../module";

/** Options of the 2-D pooling layers, as PyTorch's (stride defaults to the kernel size). */
export type Pool2dOptions = PoolOptions;
/** What a max pooling module returns: the output, or `[output, indices]` with `returnIndices`. */
export type PoolResult<WithIndices extends boolean> = WithIndices extends true
  ? [tf.Tensor, tf.Tensor]
  : tf.Tensor;
/** Options of {@link MaxPool2d} and {@link MaxPool1d}: those of every pooling layer and the dilation. */
export type MaxPool2dOptions = MaxPoolOptions;
/** Options of {@link AvgPool2d} and {@link AvgPool1d}: those of every pooling layer and the divisor's. */
export type AvgPool2dOptions = AvgPoolOptions;

/**
 * What every max and average pooling module shares: its resolved arguments (the same checks and computation
 * as the functional forms `nn.functional.maxPool2d` etc.) and its forward.
 */
abstract class PoolNd extends Module {
  /** The window, stride, padding and dilation, one entry per spatial dimension (as the module was given them). */
  readonly kernelSize: number[];
  /** The step of the window, one number per spatial dimension (default: the kernel size). */
  readonly stride: number[];
  /** The implicit padding on both sides, one number per spatial dimension (default 0). */
  readonly padding: number[];
  /** The spacing between a window's taps, per spatial dimension (default 1; always 1 when averaging). */
  readonly dilation: number[];
  /** Whether the output size is rounded up, pooling a partial window at the end (default false). */
  readonly ceilMode: boolean;

  protected constructor(private readonly plan: PoolPlan) {
    super();
    const own = (v: [number, number]) => (plan.spatialDims === 1 ? [v[1]] : [...v]);
    this.kernelSize = own(plan.kernelSize);
    this.stride = own(plan.stride);
    this.padding = own(plan.padding);
    this.dilation = own(plan.dilation);
    this.ceilMode = plan.ceilMode;
  }

  /** The pooled input, and with `withIndices` also each maximum's flat position in its plane (max pooling). */
  protected pool(x: tf.Tensor, withIndices = false): tf.Tensor | [tf.Tensor, tf.Tensor] {
    const y = poolNd(this.plan, x);
    return withIndices ? maxPoolResult(y, x, this.plan.spatialDims, planWindows(this.plan), true) : y;
  }

  /** The kernel size, stride, padding and ceil mode, and the dilation when it is not 1, for `toString`. */
  protected override extraRepr(): string {
    const dilated = this.dilation.some((d) => d > 1);
    return `kernelSize=[${this.kernelSize}], stride=[${this.stride}], padding=[${this.padding}], ceilMode=${this.ceilMode}${dilated ? `, dilation=[${this.dilation}]` : ""}`;
  }
}

/**
 * Max pooling over NCHW input, like `torch.nn.MaxPool2d` (padding counts as −∞; the gradient goes to the first
 * maximum of each window, in row-major order), dilated windows included.
 */
export class MaxPool2d<WithIndices extends boolean = false> extends PoolNd {
  /** Whether forward also returns each maximum's flat position in its input plane (PyTorch's `return_indices`). */
  readonly returnIndices: WithIndices;

  constructor(kernelSize: IntTuple, options: MaxPoolOptions & { returnIndices?: WithIndices } = {}) {
    super(maxPoolPlan("MaxPool2d", 2, kernelSize, options));
    this.returnIndices = (options.returnIndices ?? false) as WithIndices;
  }

  /** The pooled input; with `returnIndices`, `[output, indices]` (int32, the input of `MaxUnpool2d`). */
  forward(x: tf.Tensor): PoolResult<WithIndices> {
    return this.pool(x, this.returnIndices) as PoolResult<WithIndices>;
  }
}

/**
 * Max pooling over `[N, C, L]` (or `[C, L]`) input, like `torch.nn.MaxPool1d`: {@link MaxPool2d}'s rules on a
 * height-1 image.
 */
export class MaxPool1d<WithIndices extends boolean = false> extends PoolNd {
  /** Whether forward also returns each maximum's position in its input row (PyTorch's `return_indices`). */
  readonly returnIndices: WithIndices;

  constructor(kernelSize: IntTuple, options: MaxPoolOptions & { returnIndices?: WithIndices } = {}) {
    super(maxPoolPlan("MaxPool1d", 1, kernelSize, options));
    this.returnIndices = (options.returnIndices ?? false) as WithIndices;
  }

  /** The pooled input; with `returnIndices`, `[output, indices]` (int32, the input of `MaxUnpool1d`). */
  forward(x: tf.Tensor): PoolResult<WithIndices> {
    return this.pool(x, this.returnIndices) as PoolResult<WithIndices>;
  }
}

/**
 * Average pooling over NCHW input, like `torch.nn.AvgPool2d`: each window's sum over its size, the zero
 * padding included (`countIncludePad`, default) or not; a window that runs past the padding in ceil mode
 * counts only what lies within input and padding, as PyTorch does. `divisorOverride` replaces the divisor.
 */
export class AvgPool2d extends PoolNd {
  /** Whether the zero padding counts in each window's divisor (default true). */
  readonly countIncludePad: boolean;
  /** The divisor of every window's sum in place of its size; null (default) for none. */
  readonly divisorOverride: number | null;

  constructor(kernelSize: IntTuple, options: AvgPoolOptions = {}) {
    const plan = avgPoolPlan("AvgPool2d", 2, kernelSize, options);
    super(plan);
    this.countIncludePad = plan.kind.max ? true : plan.kind.countIncludePad;
    this.divisorOverride = plan.kind.max ? null : plan.kind.divisorOverride;
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.pool(x) as tf.Tensor;
  }

  /** The pooling's arguments and `countIncludePad`, for `toString`. */
  protected override extraRepr(): string {
    return `${super.extraRepr()}, countIncludePad=${this.countIncludePad}`;
  }
}

/** Options of {@link AvgPool1d}: PyTorch's `AvgPool1d` has no `divisor_override`. */
export type AvgPool1dOptions = Omit<AvgPoolOptions, "divisorOverride">;

/**
 * Average pooling over `[N, C, L]` (or `[C, L]`) input, like `torch.nn.AvgPool1d`: {@link AvgPool2d}'s rules on
 * a height-1 image.
 */
export class AvgPool1d extends PoolNd {
  /** Whether the zero padding counts in each window's divisor (default true). */
  readonly countIncludePad: boolean;

  constructor(kernelSize: IntTuple, options: AvgPool1dOptions = {}) {
    // PyTorch's AvgPool1d takes no divisor_override: refuse it as the unknown option it is.
    checkOptions("AvgPool1d", options, AVG_POOL1D_OPTIONS);
    const plan = avgPoolPlan("AvgPool1d", 1, kernelSize, options);
    super(plan);
    this.countIncludePad = plan.kind.max ? true : plan.kind.countIncludePad;
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.pool(x) as tf.Tensor;
  }
}
