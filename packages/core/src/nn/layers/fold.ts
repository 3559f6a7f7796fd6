import type { tf } from "../../runtime/tfjs";
import { fold, type UnfoldOptions, unfold } from "../functional/fold";
import { checkOptions, type IntTuple, tuple } from "../functional/tuples";
import { Module } from "../module";

/** Every sliding window of an image as a column, like `torch.nn.Unfold(kernelSize, { dilation, padding, stride })`. */
export class Unfold extends Module {
  /** The window geometry's options. */
  readonly options: UnfoldOptions;

  constructor(
    /** The window's size, one number or `[height, width]`. */
    readonly kernelSize: IntTuple,
    options: UnfoldOptions = {},
  ) {
    super();
    checkOptions("Unfold", options, ["dilation", "padding", "stride"]);
    tuple("Unfold", "kernelSize", kernelSize, 2, 1);
    this.options = { ...options };
  }

  forward(x: tf.Tensor): tf.Tensor {
    return unfold(x, this.kernelSize, this.options);
  }

  protected override extraRepr(): string {
    return `kernelSize=${JSON.stringify(this.kernelSize)}, ${JSON.stringify(this.options)}`;
  }
}

/**
 * Sums columns of sliding windows back into an image, like `torch.nn.Fold(outputSize, kernelSize, { dilation,
 * padding, stride })`.
 */
export class Fold extends Module {
  /** The window geometry's options. */
  readonly options: UnfoldOptions;

  constructor(
    /** The image's spatial size, one number or `[height, width]`. */
    readonly outputSize: IntTuple,
    /** The window's size, one number or `[height, width]`. */
    readonly kernelSize: IntTuple,
    options: UnfoldOptions = {},
  ) {
    super();
    checkOptions("Fold", options, ["dilation", "padding", "stride"]);
    tuple("Fold", "outputSize", outputSize, 2, 1);
    tuple("Fold", "kernelSize", kernelSize, 2, 1);
    this.options = { ...options };
  }

  forward(x: tf.Tensor): tf.Tensor {
    return fold(x, this.outputSize, this.kernelSize, this.options);
  }

  protected override extraRepr(): string {
    return `outputSize=${JSON.stringify(this.outputSize)}, kernelSize=${JSON.stringify(this.kernelSize)}, ${JSON.stringify(this.options)}`;
  }
}
