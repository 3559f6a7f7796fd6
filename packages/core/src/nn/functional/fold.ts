import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkOptions, type IntTuple, tuple } from "./tuples";

/**
 * `F.unfold` (im2col: every sliding window's values as a column) and `F.fold` (col2im: columns summed back into
 * an image, where windows overlap), for `(N, C, H, W)` images as PyTorch's: unfold gathers, fold is a segment
 * sum (each the other's gradient).
 */

/** Options of {@link unfold} and {@link fold}, as PyTorch's keywords. */
export interface UnfoldOptions {
  /** The spacing between a window's taps (default 1). */
  dilation?: IntTuple;
  /** Zero padding on both sides of each spatial dimension (default 0). */
  padding?: IntTuple;
  /** The step between windows (default 1). */
  stride?: IntTuple;
}

/** Resolved window geometry. */
interface Windows {
  kernel: [number, number];
  dilation: [number, number];
  padding: [number, number];
  stride: [number, number];
}

function windowsOf(owner: string, kernelSize: IntTuple, options: UnfoldOptions): Windows {
  checkOptions(owner, options, ["dilation", "padding", "stride"]);
  return {
    kernel: tuple(owner, "kernelSize", kernelSize, 2, 1) as [number, number],
    dilation: tuple(owner, "dilation", options.dilation ?? 1, 2, 1) as [number, number],
    padding: tuple(owner, "padding", options.padding ?? 0, 2, 0) as [number, number],
    stride: tuple(owner, "stride", options.stride ?? 1, 2, 1) as [number, number],
  };
}

/** How many windows fit along each spatial dimension of a `[height, width]` image. */
function blocks(owner: string, size: readonly number[], w: Windows): [number, number] {
  const counts = [0, 1].map(
    (i) =>
      Math.floor((size[i]! + 2 * w.padding[i]! - w.dilation[i]! * (w.kernel[i]! - 1) - 1) / w.stride[i]!) + 1,
  ) as [number, number];
  if (counts[0] < 1 || counts[1] < 1) {
    throw new FulmenError(
      `${owner}: a ${w.kernel.join("×")} window (dilation ${w.dilation.join("×")}) does not fit a ${size.join("×")} image padded by ${w.padding.join("×")}; use a smaller kernel or more padding.`,
    );
  }
  return counts;
}

/** `(N, C, H, W)` → `(N, C·kh·kw, L)`: the windows' values, channel-major then kernel position (PyTorch's order). */
function im2col(x: tf.Tensor4D, w: Windows): tf.Tensor3D {
  const [n, c, h, wd] = x.shape;
  const [oh, ow] = blocks("unfold", [h, wd], w);
  const padded = tf.pad(x, [
    [0, 0],
    [0, 0],
    [w.padding[0], w.padding[0]],
    [w.padding[1], w.padding[1]],
  ]);
  const taps: tf.Tensor[] = [];
  for (let i = 0; i < w.kernel[0]; i++) {
    for (let j = 0; j < w.kernel[1]; j++) {
      const top = i * w.dilation[0];
      const left = j * w.dilation[1];
      // gathers rather than a strided slice, which tfjs cannot differentiate
      const rowsOf = tf.tensor1d(
        Array.from({ length: oh }, (_, k) => top + k * w.stride[0]),
        "int32",
      );
      const colsOf = tf.tensor1d(
        Array.from({ length: ow }, (_, k) => left + k * w.stride[1]),
        "int32",
      );
      taps.push(tf.gather(tf.gather(padded, rowsOf, 2), colsOf, 3));
    }
  }
  // [N, C, kh·kw, oh, ow] → [N, C·kh·kw, oh·ow]
  return tf.reshape(tf.stack(taps, 2), [n, c * w.kernel[0] * w.kernel[1], oh * ow]);
}

/** A 3D unbatched `(C, H, W)` input as a batch of one, and the result back. */
function batched<T extends tf.Tensor>(x: tf.Tensor, rank: number, fn: (b: tf.Tensor) => T): tf.Tensor {
  if (x.rank === rank) return fn(x);
  return tf.squeeze(fn(tf.expandDims(x, 0)), [0]);
}

/**
 * Every sliding `kernelSize` window of `(N, C, H, W)` (or unbatched `(C, H, W)`) as a column: `(N, C·kh·kw, L)`
 * with `L` windows, like `F.unfold` (`nn.Unfold`).
 */
export function unfold(x: tf.Tensor, kernelSize: IntTuple, options: UnfoldOptions = {}): tf.Tensor {
  const w = windowsOf("unfold", kernelSize, options);
  if (x.rank !== 3 && x.rank !== 4) {
    throw new FulmenError(`unfold: expects a (N, C, H, W) or (C, H, W) input, got shape [${x.shape}].`);
  }
  return tf.tidy(() => batched(x, 4, (b) => im2col(b as tf.Tensor4D, w)));
}

/**
 * Sums columns `(N, C·kh·kw, L)` (or unbatched `(C·kh·kw, L)`) back into an image of `outputSize`, like
 * `F.fold` (`nn.Fold`): where windows overlap their values add up; the inverse of {@link unfold} when they do
 * not.
 */
export function fold(
  x: tf.Tensor,
  outputSize: IntTuple,
  kernelSize: IntTuple,
  options: UnfoldOptions = {},
): tf.Tensor {
  const w = windowsOf("fold", kernelSize, options);
  const size = tuple("fold", "outputSize", outputSize, 2, 1);
  if (x.rank !== 2 && x.rank !== 3) {
    throw new FulmenError(`fold: expects a (N, C·kh·kw, L) or (C·kh·kw, L) input, got shape [${x.shape}].`);
  }
  const window = w.kernel[0] * w.kernel[1];
  const [oh, ow] = blocks("fold", size, w);
  const columns = x.shape[x.rank - 2]!;
  if (columns % window !== 0 || x.shape[x.rank - 1] !== oh * ow) {
    throw new FulmenError(
      `fold: expected (N, C·${window}, ${oh * ow}) columns for a ${w.kernel.join("×")} kernel over a ${size.join("×")} output, got shape [${x.shape}].`,
    );
  }
  const channels = columns / window;
  return tf.tidy(() => batched(x, 3, (b) => col2im(b as tf.Tensor3D, channels, size as [number, number], w)));
}

/**
 * Columns `[N, C·kh·kw, L]` summed into `[N, C, H, W]`: each value goes to its window tap's pixel of the padded
 * image (one segment sum over all of them, whose gradient is the gather that unfold is), then the padding is
 * cropped.
 */
function col2im(cols: tf.Tensor3D, channels: number, size: [number, number], w: Windows): tf.Tensor4D {
  const n = cols.shape[0];
  const [oh, ow] = blocks("fold", size, w);
  const taps = w.kernel[0] * w.kernel[1];
  const paddedHeight = size[0] + 2 * w.padding[0];
  const paddedWidth = size[1] + 2 * w.padding[1];
  // the padded-image pixel of tap (i, j) in window (k, l), in the order of the rows below
  const target: number[] = [];
  for (let i = 0; i < w.kernel[0]; i++)
    for (let j = 0; j < w.kernel[1]; j++)
      for (let k = 0; k < oh; k++)
        for (let l = 0; l < ow; l++)
          target.push(
            (i * w.dilation[0] + k * w.stride[0]) * paddedWidth + (j * w.dilation[1] + l * w.stride[1]),
          );
  // [N, C·taps, L] → [taps·L, N·C]: one row per (tap, window), as `target` lists them
  const rows = tf.reshape(tf.transpose(tf.reshape(cols, [n, channels, taps * oh * ow]), [2, 0, 1]), [
    taps * oh * ow,
    n * channels,
  ]);
  const summed = tf.unsortedSegmentSum(rows, tf.tensor1d(target, "int32"), paddedHeight * paddedWidth);
  const image = tf.reshape(tf.transpose(summed, [1, 0]), [n, channels, paddedHeight, paddedWidth]);
  return tf.slice(image, [0, 0, w.padding[0], w.padding[1]], [n, channels, size[0], size[1]]) as tf.Tensor4D;
}
