import type { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import * as F from "../functional/activations";
import { softmin } from "../functional/smooth-activations";
import { Module } from "../module";

/** Checks a module's `dim` (null allowed where PyTorch allows None). */
function checkDim(owner: string, dim: number | null): void {
  if (dim !== null && !Number.isInteger(dim)) {
    throw new FulmenError(
      `${owner}: dim must be an integer (negative counts from the end), got ${String(dim)}.`,
    );
  }
}

/**
 * `exp(x) / sum(exp(x))` along `dim`, like `torch.nn.Softmax`. Without a dim it uses PyTorch's legacy choice
 * (dimension 0 for inputs of 0, 1 or 3 dimensions, else 1); pass one.
 */
export class Softmax extends Module {
  constructor(
    /** The dimension to normalise along (negative counts from the end); null (default): the legacy choice. */
    readonly dim: number | null = null,
  ) {
    super();
    checkDim("Softmax", dim);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return F.softmax(x, this.dim ?? F.implicitSoftmaxDim(x.rank));
  }

  protected override extraRepr(): string {
    return `dim=${this.dim ?? "None"}`;
  }
}

/** `log(softmax(x))` along `dim`, like `torch.nn.LogSoftmax` (the same legacy default dim as {@link Softmax}). */
export class LogSoftmax extends Module {
  constructor(
    /** The dimension to normalise along (negative counts from the end); null (default): the legacy choice. */
    readonly dim: number | null = null,
  ) {
    super();
    checkDim("LogSoftmax", dim);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return F.logSoftmax(x, this.dim ?? F.implicitSoftmaxDim(x.rank));
  }

  protected override extraRepr(): string {
    return `dim=${this.dim ?? "None"}`;
  }
}

/** The gated linear unit along `dim` (default -1), like `torch.nn.GLU`. */
export class GLU extends Module {
  constructor(
    /** The dimension split in halves `a`, `b` for `a·sigmoid(b)` (default -1); its size must be even. */
    readonly dim = -1,
  ) {
    super();
    checkDim("GLU", dim);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return F.glu(x, this.dim);
  }

  protected override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** `softmax(−x)` along `dim`, like `torch.nn.Softmin` (the same legacy default dim as {@link Softmax}). */
export class Softmin extends Module {
  constructor(
    /** The dimension to normalise along (negative counts from the end); null (default): the legacy choice. */
    readonly dim: number | null = null,
  ) {
    super();
    checkDim("Softmin", dim);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return softmin(x, this.dim ?? F.implicitSoftmaxDim(x.rank));
  }

  protected override extraRepr(): string {
    return `dim=${this.dim ?? "None"}`;
  }
}

/** Softmax over the channels of every pixel of `(N, C, H, W)` or `(C, H, W)`, like `torch.nn.Softmax2d`. */
export class Softmax2d extends Module {
  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 3 && x.rank !== 4) {
      throw new FulmenError(
        `Softmax2d: expects a 3D (C, H, W) or 4D (N, C, H, W) input, got shape [${x.shape}].`,
      );
    }
    return F.softmax(x, -3);
  }
}
