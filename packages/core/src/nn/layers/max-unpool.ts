import type { tf } from "../../runtime/tfjs";
import type { MaxUnpoolOptions } from "../functional/max-indices";
import { maxUnpool1d, maxUnpool2d, maxUnpool3d } from "../functional/max-unpool";
import { checkOptions, type IntTuple, tuple } from "../functional/tuples";
import { Module } from "../module";

/** Options of the max unpooling modules: the pooling's stride (default: the kernel size) and padding. */
export type MaxUnpoolModuleOptions = Omit<MaxUnpoolOptions, "outputSize">;

/** A max unpooling function of `nn.functional`. */
type Unpool = (
  x: tf.Tensor,
  indices: tf.Tensor,
  kernelSize: IntTuple,
  options: MaxUnpoolOptions,
) => tf.Tensor;

/** What the max unpooling modules share: the pooling's geometry and the forward through `fn`. */
abstract class MaxUnpoolNd extends Module {
  /** The pooling's stride (default: the kernel size). */
  readonly stride: IntTuple;
  /** The pooling's padding (default 0). */
  readonly padding: IntTuple;

  protected constructor(
    owner: string,
    dims: number,
    private readonly fn: Unpool,
    /** The pooling's window. */
    readonly kernelSize: IntTuple,
    options: MaxUnpoolModuleOptions,
  ) {
    super();
    checkOptions(owner, options, ["stride", "padding"]);
    tuple(owner, "kernelSize", kernelSize, dims, 1);
    this.stride = options.stride ?? kernelSize;
    this.padding = options.padding ?? 0;
    tuple(owner, "stride", this.stride, dims, 1);
    tuple(owner, "padding", this.padding, dims, 0);
  }

  /**
   * Puts each value of `x` back at its position in `indices` (the max pooling's `returnIndices`), zeros
   * elsewhere; `outputSize` (the sizes, or `{ outputSize }` as PyTorch's keyword) where the pooling's input size is
   * not the default `(in − 1)·stride − 2·padding + kernel`.
   */
  forward(
    x: tf.Tensor,
    indices: tf.Tensor,
    outputSize: readonly number[] | { outputSize?: readonly number[] | null } | null = null,
  ): tf.Tensor {
    const size =
      outputSize === null || Array.isArray(outputSize)
        ? outputSize
        : ((outputSize as { outputSize?: readonly number[] | null }).outputSize ?? null);
    return this.fn(x, indices, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      outputSize: size as readonly number[] | null,
    });
  }

  protected override extraRepr(): string {
    return `kernelSize=${JSON.stringify(this.kernelSize)}, stride=${JSON.stringify(this.stride)}, padding=${JSON.stringify(this.padding)}`;
  }
}

/** The partial inverse of `MaxPool1d`, like `torch.nn.MaxUnpool1d(kernelSize, stride, padding)`. */
export class MaxUnpool1d extends MaxUnpoolNd {
  constructor(kernelSize: IntTuple, options: MaxUnpoolModuleOptions = {}) {
    super("MaxUnpool1d", 1, maxUnpool1d, kernelSize, options);
  }
}

/** The partial inverse of `MaxPool2d`, like `torch.nn.MaxUnpool2d(kernelSize, stride, padding)`. */
export class MaxUnpool2d extends MaxUnpoolNd {
  constructor(kernelSize: IntTuple, options: MaxUnpoolModuleOptions = {}) {
    super("MaxUnpool2d", 2, maxUnpool2d, kernelSize, options);
  }
}

/** The partial inverse of `MaxPool3d`, like `torch.nn.MaxUnpool3d(kernelSize, stride, padding)`. */
export class MaxUnpool3d extends MaxUnpoolNd {
  constructor(kernelSize: IntTuple, options: MaxUnpoolModuleOptions = {}) {
    super("MaxUnpool3d", 3, maxUnpool3d, kernelSize, options);
  }
}
