import { backendFeatures } from "../../runtime/backend-features";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { Module } from "../module";

type Pair = number | [number, number];

function pair(owner: string, name: string, value: Pair): [number, number] {
  const p: [number, number] = typeof value === "number" ? [value, value] : value;
  if (p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 0)) {
    throw new FulmenError(
      `${owner}: ${name} must be a non-negative integer or a pair of them, got ${String(value)}.`,
    );
  }
  return p;
}

/** Options of the 2-D pooling layers, as PyTorch's (stride defaults to the kernel size). */
export interface Pool2dOptions {
  stride?: Pair;
  padding?: Pair;
}

abstract class Pool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];

  constructor(owner: string, kernelSize: Pair, options: Pool2dOptions) {
    super();
    this.kernelSize = pair(owner, "kernelSize", kernelSize);
    this.stride = pair(owner, "stride", options.stride ?? kernelSize);
    this.padding = pair(owner, "padding", options.padding ?? 0);
    if (this.padding[0] * 2 > this.kernelSize[0] || this.padding[1] * 2 > this.kernelSize[1]) {
      throw new FulmenError(`${owner}: padding must be at most half the kernel size (as in PyTorch).`);
    }
  }

  protected abstract pool(x: tf.Tensor4D): tf.Tensor4D;

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      if (x.rank !== 4 && x.rank !== 3)
        throw new FulmenError(
          `${this.constructor.name}: expected [N, C, H, W] or [C, H, W], got shape [${x.shape}].`,
        );
      const input = (x.rank === 3 ? tf.expandDims(x, 0) : x) as tf.Tensor4D;
      const y = backendFeatures().channelsFirst ? this.poolPlanes(input) : this.poolChannelsLast(input);
      return x.rank === 3 ? tf.squeeze(y, [0]) : y;
    });
  }

  /** Pools each channel's plane as a one-channel NHWC image: a reshape either side, where a backend pools those fast. */
  private poolPlanes(input: tf.Tensor4D): tf.Tensor {
    const [n, c, h, w] = input.shape;
    const y = this.pool(tf.reshape(input, [n * c, h, w, 1]));
    return tf.reshape(y, [n, c, y.shape[1], y.shape[2]]);
  }

  /** Pools in tfjs's NHWC layout, transposing there and back. */
  private poolChannelsLast(input: tf.Tensor4D): tf.Tensor {
    return tf.transpose(this.pool(tf.transpose(input, [0, 2, 3, 1]) as tf.Tensor4D), [0, 3, 1, 2]);
  }

  protected explicitPadding(): [[number, number], [number, number], [number, number], [number, number]] {
    const [ph, pw] = this.padding;
    return [
      [0, 0],
      [ph, ph],
      [pw, pw],
      [0, 0],
    ];
  }
}

/** Max pooling over NCHW input, like `torch.nn.MaxPool2d` (padding counts as −∞). */
export class MaxPool2d extends Pool2d {
  constructor(kernelSize: Pair, options: Pool2dOptions = {}) {
    super("MaxPool2d", kernelSize, options);
  }

  protected pool(x: tf.Tensor4D): tf.Tensor4D {
    const [ph, pw] = this.padding;
    const padded =
      ph === 0 && pw === 0 ? x : (tf.pad(x, this.explicitPadding(), Number.NEGATIVE_INFINITY) as tf.Tensor4D);
    return tf.maxPool(padded, this.kernelSize, this.stride, "valid");
  }
}

/** Average pooling over NCHW input, like `torch.nn.AvgPool2d` (padding counts as zeros in the average). */
export class AvgPool2d extends Pool2d {
  constructor(kernelSize: Pair, options: Pool2dOptions = {}) {
    super("AvgPool2d", kernelSize, options);
  }

  protected pool(x: tf.Tensor4D): tf.Tensor4D {
    const [ph, pw] = this.padding;
    const padded = ph === 0 && pw === 0 ? x : (tf.pad(x, this.explicitPadding(), 0) as tf.Tensor4D);
    return tf.avgPool(padded, this.kernelSize, this.stride, "valid");
  }
}
