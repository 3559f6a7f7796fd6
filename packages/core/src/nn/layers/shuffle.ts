import type { tf } from "../../runtime/tfjs";
import { channelShuffle, pixelShuffle, pixelUnshuffle, shuffleFactor } from "../functional/shuffle";
import { Module } from "../module";

/** `(*, C·r², H, W)` → `(*, C, H·r, W·r)`, like `torch.nn.PixelShuffle(upscaleFactor)`. */
export class PixelShuffle extends Module {
  constructor(
    /** The factor r each spatial side grows by. */
    readonly upscaleFactor: number,
  ) {
    super();
    shuffleFactor("PixelShuffle", "upscaleFactor", upscaleFactor);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return pixelShuffle(x, this.upscaleFactor);
  }

  protected override extraRepr(): string {
    return `upscaleFactor=${this.upscaleFactor}`;
  }
}

/** `(*, C, H·r, W·r)` → `(*, C·r², H, W)`, like `torch.nn.PixelUnshuffle(downscaleFactor)`. */
export class PixelUnshuffle extends Module {
  constructor(
    /** The factor r each spatial side shrinks by. */
    readonly downscaleFactor: number,
  ) {
    super();
    shuffleFactor("PixelUnshuffle", "downscaleFactor", downscaleFactor);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return pixelUnshuffle(x, this.downscaleFactor);
  }

  protected override extraRepr(): string {
    return `downscaleFactor=${this.downscaleFactor}`;
  }
}

/** Interleaves the channels of `(N, C, *)` from `groups` groups, like `torch.nn.ChannelShuffle(groups)`. */
export class ChannelShuffle extends Module {
  constructor(
    /** The number of groups the channels are split into. */
    readonly groups: number,
  ) {
    super();
    shuffleFactor("ChannelShuffle", "groups", groups);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return channelShuffle(x, this.groups);
  }

  protected override extraRepr(): string {
    return `groups=${this.groups}`;
  }
}
