import type { tf } from "../../runtime/tfjs";
import {
  type AdaptiveMaxPoolOptions,
  type AdaptiveSize,
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  adaptiveAvgPool3d,
  adaptiveMaxPool1d,
  adaptiveMaxPool2d,
  adaptiveMaxPool3d,
  adaptiveSizes,
} from "../functional/adaptive-pool";
import { Module } from "../module";
import type { PoolResult } from "./pooling";

/** What the adaptive poolings share: the output size, checked up front, and the functional form they run. */
abstract class AdaptivePool extends Module {
  constructor(
    owner: string,
    spatialDims: number,
    /** The output's spatial size, one number or one per dimension; `null` keeps the input's size there. */
    readonly outputSize: AdaptiveSize,
    private readonly pool: (
      x: tf.Tensor,
      size: AdaptiveSize,
      options: AdaptiveMaxPoolOptions,
    ) => tf.Tensor | [tf.Tensor, tf.Tensor],
  ) {
    super();
    // Checks the size now (a stand-in input size for the null entries) rather than at the first forward.
    adaptiveSizes(
      owner,
      outputSize,
      Array.from({ length: spatialDims }, () => 1),
    );
  }

  /** The pooled input, and with `withIndices` each maximum's flat position in its plane (max pooling). */
  protected run(x: tf.Tensor, withIndices = false): tf.Tensor | [tf.Tensor, tf.Tensor] {
    return this.pool(x, this.outputSize, withIndices ? { returnIndices: true } : {});
  }

  protected override extraRepr(): string {
    return `outputSize=${JSON.stringify(this.outputSize)}`;
  }
}

/**
 * Adaptive average pooling over `[N, C, L]` (or `[C, L]`) input, like `torch.nn.AdaptiveAvgPool1d`: output
 * bin i averages [⌊i·L/out⌋, ⌈(i + 1)·L/out⌉).
 */
export class AdaptiveAvgPool1d extends AdaptivePool {
  constructor(outputSize: AdaptiveSize) {
    super("AdaptiveAvgPool1d", 1, outputSize, adaptiveAvgPool1d);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.run(x) as tf.Tensor;
  }
}

/**
 * Adaptive average pooling over `[N, C, H, W]` (or `[C, H, W]`) input, like `torch.nn.AdaptiveAvgPool2d`
 * (`null` in the size keeps that dimension's input size).
 */
export class AdaptiveAvgPool2d extends AdaptivePool {
  constructor(outputSize: AdaptiveSize) {
    super("AdaptiveAvgPool2d", 2, outputSize, adaptiveAvgPool2d);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.run(x) as tf.Tensor;
  }
}

/**
 * Adaptive max pooling over `[N, C, L]` (or `[C, L]`) input, like `torch.nn.AdaptiveMaxPool1d`: output bin i is
 * the maximum of [⌊i·L/out⌋, ⌈(i + 1)·L/out⌉), its gradient going to the bin's first maximum.
 */
export class AdaptiveMaxPool1d<WithIndices extends boolean = false> extends AdaptivePool {
  constructor(
    outputSize: AdaptiveSize,
    /** Whether forward also returns each maximum's flat position in its input plane (PyTorch's `return_indices`). */
    readonly returnIndices: WithIndices = false as WithIndices,
  ) {
    super("AdaptiveMaxPool1d", 1, outputSize, adaptiveMaxPool1d);
  }

  /** The pooled input; with `returnIndices`, `[output, indices]` (int32). */
  forward(x: tf.Tensor): PoolResult<WithIndices> {
    return this.run(x, this.returnIndices) as PoolResult<WithIndices>;
  }
}

/**
 * Adaptive max pooling over `[N, C, H, W]` (or `[C, H, W]`) input, like `torch.nn.AdaptiveMaxPool2d`; the
 * gradient goes to each bin's first maximum.
 */
export class AdaptiveMaxPool2d<WithIndices extends boolean = false> extends AdaptivePool {
  constructor(
    outputSize: AdaptiveSize,
    /** Whether forward also returns each maximum's flat position in its input plane (PyTorch's `return_indices`). */
    readonly returnIndices: WithIndices = false as WithIndices,
  ) {
    super("AdaptiveMaxPool2d", 2, outputSize, adaptiveMaxPool2d);
  }

  /** The pooled input; with `returnIndices`, `[output, indices]` (int32). */
  forward(x: tf.Tensor): PoolResult<WithIndices> {
    return this.run(x, this.returnIndices) as PoolResult<WithIndices>;
  }
}

/**
 * Adaptive average pooling over `[N, C, D, H, W]` (or `[C, D, H, W]`) input, like `torch.nn.AdaptiveAvgPool3d`
 * (`null` in the size keeps that dimension's input size).
 */
export class AdaptiveAvgPool3d extends AdaptivePool {
  constructor(outputSize: AdaptiveSize) {
    super("AdaptiveAvgPool3d", 3, outputSize, adaptiveAvgPool3d);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.run(x) as tf.Tensor;
  }
}

/**
 * Adaptive max pooling over `[N, C, D, H, W]` (or `[C, D, H, W]`) input, like `torch.nn.AdaptiveMaxPool3d`; the
 * gradient goes to each bin's first maximum.
 */
export class AdaptiveMaxPool3d<WithIndices extends boolean = false> extends AdaptivePool {
  constructor(
    outputSize: AdaptiveSize,
    /** Whether forward also returns each maximum's flat position in its input plane (PyTorch's `return_indices`). */
    readonly returnIndices: WithIndices = false as WithIndices,
  ) {
    super("AdaptiveMaxPool3d", 3, outputSize, adaptiveMaxPool3d);
  }

  /** The pooled input; with `returnIndices`, `[output, indices]` (int32). */
  forward(x: tf.Tensor): PoolResult<WithIndices> {
    return this.run(x, this.returnIndices) as PoolResult<WithIndices>;
  }
}
