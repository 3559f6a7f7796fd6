import type { tf } from "../../runtime/tfjs";
import { type AvgPoolOptions, type MaxPoolOptions, maxPoolResult } from "../functional/pool";
import { avgPool3dPlan, maxPool3dPlan, type Pool3dPlan, plan3dWindows, pool3d } from "../functional/pool3d";
import type { IntTuple } from "../functional/tuples";
import { Module } from "../module";
import type { PoolResult } from "./pooling";

/**
 * What the 3-D max and average pooling modules share: their resolved arguments (the same checks and computation as
 * `nn.functional.maxPool3d`/`avgPool3d`) and their forward.
 */
abstract class Pool3d extends Module {
  /** The window, `[kD, kH, kW]`. */
  readonly kernelSize: number[];
  /** The step of the window, `[sD, sH, sW]` (default: the kernel size). */
  readonly stride: number[];
  /** The implicit padding on both sides, `[pD, pH, pW]` (default 0). */
  readonly padding: number[];
  /** The spacing between a window's taps (default 1; always 1 when averaging). */
  readonly dilation: number[];
  /** Whether the output size is rounded up, pooling a partial window at the end (default false). */
  readonly ceilMode: boolean;

  protected constructor(private readonly plan: Pool3dPlan) {
    super();
    this.kernelSize = [...plan.kernelSize];
    this.stride = [...plan.stride];
    this.padding = [...plan.padding];
    this.dilation = [...plan.dilation];
    this.ceilMode = plan.ceilMode;
  }

  /** The pooled input, and with `withIndices` also each maximum's flat position in its volume (max pooling). */
  protected pool(x: tf.Tensor, withIndices = false): tf.Tensor | [tf.Tensor, tf.Tensor] {
    const y = pool3d(this.plan, x);
    return withIndices ? maxPoolResult(y, x, 3, plan3dWindows(this.plan), true) : y;
  }

  /** The kernel size, stride, padding and ceil mode, and the dilation when it is not 1, for `toString`. */
  protected override extraRepr(): string {
    const dilated = this.dilation.some((d) => d > 1);
    return `kernelSize=[${this.kernelSize}], stride=[${this.stride}], padding=[${this.padding}], ceilMode=${this.ceilMode}${dilated ? `, dilation=[${this.dilation}]` : ""}`;
  }
}

/**
 * Max pooling over `[N, C, D, H, W]` (or `[C, D, H, W]`) input, like `torch.nn.MaxPool3d` (padding counts as −∞;
 * the gradient goes to the first maximum of each window, in depth-row-column order), dilated windows included.
 */
export class MaxPool3d<WithIndices extends boolean = false> extends Pool3d {
  /** Whether forward also returns each maximum's flat position in its input volume (PyTorch's `return_indices`). */
  readonly returnIndices: WithIndices;

  constructor(kernelSize: IntTuple, options: MaxPoolOptions & { returnIndices?: WithIndices } = {}) {
    super(maxPool3dPlan("MaxPool3d", kernelSize, options));
    this.returnIndices = (options.returnIndices ?? false) as WithIndices;
  }

  /** The pooled input; with `returnIndices`, `[output, indices]` (int32, the input of `MaxUnpool3d`). */
  forward(x: tf.Tensor): PoolResult<WithIndices> {
    return this.pool(x, this.returnIndices) as PoolResult<WithIndices>;
  }
}

/**
 * Average pooling over `[N, C, D, H, W]` (or `[C, D, H, W]`) input, like `torch.nn.AvgPool3d`: each window's sum
 * over its size, the zero padding included (`countIncludePad`, default) or not; `divisorOverride` replaces the
 * divisor.
 */
export class AvgPool3d extends Pool3d {
  /** Whether the zero padding counts in each window's divisor (default true). */
  readonly countIncludePad: boolean;
  /** The divisor of every window's sum in place of its size; null (default) for none. */
  readonly divisorOverride: number | null;

  constructor(kernelSize: IntTuple, options: AvgPoolOptions = {}) {
    const plan = avgPool3dPlan("AvgPool3d", kernelSize, options);
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
