import type { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber } from "../../utils/options";
import { type PadMode, pad } from "../functional/pad";
import { Module } from "../module";

/**
 * The padding modules of `torch.nn` (`ZeroPad2d`, `ConstantPad1d`, `ReflectionPad2d`, `ReplicationPad3d`,
 * `CircularPad1d`, …): each pads the last 1, 2 or 3 dimensions through {@link pad}, with `padding` one count
 * for every side or PyTorch's tuple `(left, right[, top, bottom[, front, back]])`.
 */

/** A padding module's `padding`: one count for every side, or (before, after) per dimension from the last. */
export type PaddingSize = number | readonly number[];

/** The full (before, after) list of an `n`-dimensional padding module, checked. */
function paddingList(owner: string, padding: PaddingSize, n: number): number[] {
  const list = typeof padding === "number" ? Array<number>(2 * n).fill(padding) : [...padding];
  if (list.length !== 2 * n || list.some((p) => !Number.isInteger(p))) {
    throw new FulmenError(
      `${owner}: padding must be one integer or ${2 * n} integers (before, after per padded dimension from the last), got ${JSON.stringify(padding)}.`,
    );
  }
  return list;
}

/** The shared body of the padding modules: `mode` over the last `n` dimensions. */
abstract class PadNd extends Module {
  /** The (before, after) counts per padded dimension, from the last, as PyTorch's `padding` tuple. */
  readonly padding: readonly number[];

  protected constructor(
    owner: string,
    padding: PaddingSize,
    n: number,
    /** How the border is filled. */
    readonly mode: PadMode,
    /** The fill value of constant padding. */
    readonly value = 0,
  ) {
    super();
    this.padding = paddingList(owner, padding, n);
    if (mode === "constant") checkNumber(owner, "value", value, () => true, "a number");
  }

  forward(x: tf.Tensor): tf.Tensor {
    return pad(x, this.padding, this.mode === "constant" ? { value: this.value } : { mode: this.mode });
  }

  protected override extraRepr(): string {
    return `padding=[${this.padding}]${this.mode === "constant" ? `, value=${this.value}` : ""}`;
  }
}

/** Pads the last dimension with `value`, like `torch.nn.ConstantPad1d(padding, value)`. */
export class ConstantPad1d extends PadNd {
  constructor(padding: PaddingSize, value: number) {
    super("ConstantPad1d", padding, 1, "constant", value);
  }
}

/** Pads the last two dimensions with `value`, like `torch.nn.ConstantPad2d(padding, value)`. */
export class ConstantPad2d extends PadNd {
  constructor(padding: PaddingSize, value: number) {
    super("ConstantPad2d", padding, 2, "constant", value);
  }
}

/** Pads the last three dimensions with `value`, like `torch.nn.ConstantPad3d(padding, value)`. */
export class ConstantPad3d extends PadNd {
  constructor(padding: PaddingSize, value: number) {
    super("ConstantPad3d", padding, 3, "constant", value);
  }
}

/** Pads the last dimension with zeros, like `torch.nn.ZeroPad1d`. */
export class ZeroPad1d extends PadNd {
  constructor(padding: PaddingSize) {
    super("ZeroPad1d", padding, 1, "constant");
  }
}

/** Pads the last two dimensions with zeros, like `torch.nn.ZeroPad2d`. */
export class ZeroPad2d extends PadNd {
  constructor(padding: PaddingSize) {
    super("ZeroPad2d", padding, 2, "constant");
  }
}

/** Pads the last three dimensions with zeros, like `torch.nn.ZeroPad3d`. */
export class ZeroPad3d extends PadNd {
  constructor(padding: PaddingSize) {
    super("ZeroPad3d", padding, 3, "constant");
  }
}

/** Mirrors the last dimension at its edges (without repeating the edge), like `torch.nn.ReflectionPad1d`. */
export class ReflectionPad1d extends PadNd {
  constructor(padding: PaddingSize) {
    super("ReflectionPad1d", padding, 1, "reflect");
  }
}

/** Mirrors the last two dimensions at their edges, like `torch.nn.ReflectionPad2d`. */
export class ReflectionPad2d extends PadNd {
  constructor(padding: PaddingSize) {
    super("ReflectionPad2d", padding, 2, "reflect");
  }
}

/** Mirrors the last three dimensions at their edges, like `torch.nn.ReflectionPad3d`. */
export class ReflectionPad3d extends PadNd {
  constructor(padding: PaddingSize) {
    super("ReflectionPad3d", padding, 3, "reflect");
  }
}

/** Repeats the edge values of the last dimension, like `torch.nn.ReplicationPad1d`. */
export class ReplicationPad1d extends PadNd {
  constructor(padding: PaddingSize) {
    super("ReplicationPad1d", padding, 1, "replicate");
  }
}

/** Repeats the edge values of the last two dimensions, like `torch.nn.ReplicationPad2d`. */
export class ReplicationPad2d extends PadNd {
  constructor(padding: PaddingSize) {
    super("ReplicationPad2d", padding, 2, "replicate");
  }
}

/** Repeats the edge values of the last three dimensions, like `torch.nn.ReplicationPad3d`. */
export class ReplicationPad3d extends PadNd {
  constructor(padding: PaddingSize) {
    super("ReplicationPad3d", padding, 3, "replicate");
  }
}

/** Wraps the last dimension around (the far end pads the near side), like `torch.nn.CircularPad1d`. */
export class CircularPad1d extends PadNd {
  constructor(padding: PaddingSize) {
    super("CircularPad1d", padding, 1, "circular");
  }
}

/** Wraps the last two dimensions around, like `torch.nn.CircularPad2d`. */
export class CircularPad2d extends PadNd {
  constructor(padding: PaddingSize) {
    super("CircularPad2d", padding, 2, "circular");
  }
}

/** Wraps the last three dimensions around, like `torch.nn.CircularPad3d`. */
export class CircularPad3d extends PadNd {
  constructor(padding: PaddingSize) {
    super("CircularPad3d", padding, 3, "circular");
  }
}
