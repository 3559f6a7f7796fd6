import { lowerPrecisionOp } from "../../amp/autocast";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { type PaddingMode, padAxes, spreadAxes } from "../layers/conv-padding";
import { type IntTuple, tuple } from "./tuples";

/** Padding of each spatial dimension, `[before, after]`, outermost first. */
export type AxisPads = Array<[number, number]>;

/** A 3-D convolution, every argument resolved: what {@link convolveNcdhw} runs. */
export interface Conv3dPlan {
  stride: [number, number, number];
  padding: AxisPads;
  dilation: [number, number, number];
  groups: number;
  paddingMode: PaddingMode;
}

/**
 * The pads a convolution adds per spatial dimension, as PyTorch computes them: "valid" none; "same" a total of
 * `dilation·(kernel − 1)`, the odd one at the end (stride 1 only); a count that many on both sides.
 */
export function resolvePads(
  owner: string,
  padding: IntTuple | "valid" | "same",
  kernel: readonly number[],
  stride: readonly number[],
  dilation: readonly number[],
): AxisPads {
  const n = kernel.length;
  if (padding === "same") {
    if (stride.some((s) => s !== 1)) {
      throw new FulmenError(
        `${owner}: padding='same' is not supported for strided convolutions (as in PyTorch).`,
      );
    }
    return kernel.map((k, i) => {
      const total = dilation[i]! * (k - 1);
      const before = Math.floor(total / 2);
      return [before, total - before];
    });
  }
  if (padding === "valid") return kernel.map(() => [0, 0]);
  return tuple(owner, "padding", padding, n, 0).map((p) => [p, p]);
}

/**
 * A 3-D convolution of NCDHW input with an OIDHW weight (`[out, in/groups, kD, kH, kW]`), the computation autocast
 * runs in half. tfjs convolves NDHWC only, with "valid"/"same" padding and no gradient for dilation or groups, so
 * the activations go to NDHWC and back, the padding is explicit, a dilated kernel is spread out with zeros (exact)
 * and groups convolve their slices of the channels one by one.
 */
export function convolveNcdhw(
  owner: string,
  input: tf.Tensor5D,
  weight: tf.Tensor,
  bias: tf.Tensor | null,
  plan: Conv3dPlan,
): tf.Tensor5D {
  const inputs = bias === null ? [input, weight] : [input, weight, bias];
  return lowerPrecisionOp(
    (v, w, b) => convolve3d(owner, v as tf.Tensor5D, w!, b, plan),
    inputs,
  ) as tf.Tensor5D;
}

function convolve3d(
  owner: string,
  input: tf.Tensor5D,
  weight: tf.Tensor,
  bias: tf.Tensor | undefined,
  plan: Conv3dPlan,
): tf.Tensor5D {
  const { stride, dilation, groups, paddingMode, padding } = plan;
  const dhwio = tf.transpose(weight, [2, 3, 4, 1, 0]) as tf.Tensor5D;
  const filter = dilation.some((d) => d > 1)
    ? (spreadAxes(dhwio, [0, 1, 2], dilation) as tf.Tensor5D)
    : dhwio;
  const extent = filter.shape.slice(0, 3);
  const padded = padInput(owner, input, padding, paddingMode);
  padded.shape.slice(2).forEach((size, i) => {
    if (size < extent[i]!) {
      throw new FulmenError(
        `${owner}: the kernel's extent [${extent}] (with dilation) is larger than the padded input [${padded.shape.slice(2)}] (input shape [${input.shape}]); use a smaller kernel or more padding.`,
      );
    }
  });
  const x = tf.transpose(padded, [0, 2, 3, 4, 1]) as tf.Tensor5D;
  const conv = (xg: tf.Tensor5D, wg: tf.Tensor5D) => tf.conv3d(xg, wg, stride, "valid", "NDHWC");
  let y: tf.Tensor5D;
  if (groups === 1) {
    y = conv(x, filter);
  } else {
    const xs = tf.split(x, groups, 4) as tf.Tensor5D[];
    const ws = tf.split(filter, groups, 4) as tf.Tensor5D[];
    y = tf.concat(
      xs.map((xg, g) => conv(xg, ws[g]!)),
      4,
    ) as tf.Tensor5D;
  }
  if (bias !== undefined) y = tf.add(y, bias);
  return tf.transpose(y, [0, 4, 1, 2, 3]);
}

/** The NCDHW input padded per `padding` with zeros or the padding mode's values. */
function padInput(owner: string, x: tf.Tensor5D, padding: AxisPads, mode: PaddingMode): tf.Tensor5D {
  if (padding.every(([a, b]) => a === 0 && b === 0)) return x;
  if (mode === "zeros") return tf.pad(x, [[0, 0], [0, 0], ...padding]);
  const pads = padding.map(([a, b], i) => [2 + i, a, b] as const);
  return padAxes(x, pads, mode, owner) as tf.Tensor5D;
}
