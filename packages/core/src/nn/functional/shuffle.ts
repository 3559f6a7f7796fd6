import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkOptionNames } from "../../utils/options";

/**
 * Rearrangements of channels and pixels (`F.pixel_shuffle`, `F.pixel_unshuffle`, `F.channel_shuffle`): reshapes
 * and one transpose, so their gradients are exact.
 */

/** Options of {@link pixelShuffle}. */
export interface PixelShuffleOptions {
  /** The factor r each spatial side grows by (the channels shrink by r²). */
  upscaleFactor: number;
}

/** Options of {@link pixelUnshuffle}. */
export interface PixelUnshuffleOptions {
  /** The factor r each spatial side shrinks by (the channels grow by r²). */
  downscaleFactor: number;
}

/** Options of {@link channelShuffle}. */
export interface ChannelShuffleOptions {
  /** The number of groups the channels are split into and interleaved from. */
  groups: number;
}

/** A shuffle factor given as a number or in an options object, checked to be a positive integer. */
export function shuffleFactor<K extends string>(
  owner: string,
  key: K,
  given: number | Record<K, number>,
): number {
  let value: unknown = given;
  if (typeof given === "object" && given !== null) {
    checkOptionNames(owner, given, [key]);
    value = given[key];
  }
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new FulmenError(`${owner}: ${key} must be a positive integer, got ${String(value)}.`);
  }
  return value;
}

/** Splits a shape into its leading dimensions (flattened) and the trailing `n`, or errors when it has fewer. */
function splitLeading(owner: string, x: tf.Tensor, n: number, layout: string): [number, number[]] {
  if (x.rank < n) {
    throw new FulmenError(`${owner}: expects an input of ${layout}, got shape [${x.shape}].`);
  }
  const leading = x.shape.slice(0, x.rank - n).reduce((a, b) => a * b, 1);
  return [leading, x.shape.slice(x.rank - n)];
}

/**
 * `(*, C·r², H, W)` → `(*, C, H·r, W·r)`, like `F.pixel_shuffle(x, r)` (sub-pixel convolution's upsampling):
 * give `r` as a number or `{ upscaleFactor }`.
 */
export function pixelShuffle(x: tf.Tensor, upscaleFactor: number | PixelShuffleOptions): tf.Tensor {
  const r = shuffleFactor("pixelShuffle", "upscaleFactor", upscaleFactor);
  const [lead, [c, h, w]] = splitLeading("pixelShuffle", x, 3, "(*, C·r², H, W)");
  if (c! % (r * r) !== 0) {
    throw new FulmenError(
      `pixelShuffle: the channels (${c}, shape [${x.shape}]) must be divisible by upscaleFactor² (${r * r}).`,
    );
  }
  const out = c! / (r * r);
  return tf.tidy(() => {
    const split = tf.reshape(x, [lead, out, r, r, h!, w!]);
    const interleaved = tf.transpose(split, [0, 1, 4, 2, 5, 3]);
    return tf.reshape(interleaved, [...x.shape.slice(0, x.rank - 3), out, h! * r, w! * r]);
  });
}

/** `(*, C, H·r, W·r)` → `(*, C·r², H, W)`, like `F.pixel_unshuffle(x, r)`: the inverse of {@link pixelShuffle}. */
export function pixelUnshuffle(x: tf.Tensor, downscaleFactor: number | PixelUnshuffleOptions): tf.Tensor {
  const r = shuffleFactor("pixelUnshuffle", "downscaleFactor", downscaleFactor);
  const [lead, [c, h, w]] = splitLeading("pixelUnshuffle", x, 3, "(*, C, H·r, W·r)");
  if (h! % r !== 0 || w! % r !== 0) {
    throw new FulmenError(
      `pixelUnshuffle: height and width (shape [${x.shape}]) must be divisible by downscaleFactor (${r}).`,
    );
  }
  return tf.tidy(() => {
    const split = tf.reshape(x, [lead, c!, h! / r, r, w! / r, r]);
    const gathered = tf.transpose(split, [0, 1, 3, 5, 2, 4]);
    return tf.reshape(gathered, [...x.shape.slice(0, x.rank - 3), c! * r * r, h! / r, w! / r]);
  });
}

/**
 * Interleaves the channels of `(N, C, *)` from `groups` groups, like `F.channel_shuffle(x, groups)`
 * (ShuffleNet): channel `g·(C/groups) + i` moves to `i·groups + g`. Give `groups` as a number or `{ groups }`.
 */
export function channelShuffle(x: tf.Tensor, groups: number | ChannelShuffleOptions): tf.Tensor {
  const g = shuffleFactor("channelShuffle", "groups", groups);
  if (x.rank < 3) {
    throw new FulmenError(
      `channelShuffle: expects an input of (N, C, *) with at least one dimension after C, got shape [${x.shape}].`,
    );
  }
  const [n, c] = x.shape as [number, number];
  if (c % g !== 0) {
    throw new FulmenError(`channelShuffle: the channels (${c}) must be divisible by groups (${g}).`);
  }
  const rest = x.shape.slice(2).reduce((a, b) => a * b, 1);
  return tf.tidy(() => {
    const split = tf.reshape(x, [n, g, c / g, rest]);
    return tf.reshape(tf.transpose(split, [0, 2, 1, 3]), x.shape);
  });
}
