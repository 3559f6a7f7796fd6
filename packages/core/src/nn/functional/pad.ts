import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { type AxisPadding, padAxes } from "../layers/conv-padding";
import { checkOptions } from "./tuples";

/** How {@link pad} fills, as `torch.nn.functional.pad`'s `mode`. */
export type PadMode = "constant" | "reflect" | "replicate" | "circular";

/** Options of {@link pad}, as PyTorch's keywords. */
export interface PadOptions {
  /** "constant" (default), "reflect" (mirror without the edge), "replicate" (repeat the edge), "circular" (wrap). */
  mode?: PadMode;
  /** The fill value of constant padding (default 0). */
  value?: number;
}

const MODES: readonly PadMode[] = ["constant", "reflect", "replicate", "circular"];

/**
 * Pads a tensor like `torch.nn.functional.pad`: `pad` lists (before, after) counts starting from the LAST
 * dimension — `[left, right]` pads the last, `[left, right, top, bottom]` the last two, and so on. A negative
 * count crops that side. Constant padding may pad any dimension; the other modes pad at most the last three
 * dimensions and never the first (PyTorch's `(N, C, ...)` or unbatched `(C, ...)` input), by at most the
 * size (less than it for reflect).
 */
export function pad(input: tf.Tensor, padding: readonly number[], options: PadOptions = {}): tf.Tensor {
  checkOptions("pad", options, ["mode", "value"]);
  const mode = options.mode ?? "constant";
  if (!MODES.includes(mode)) {
    throw new FulmenError(`pad: unknown mode '${String(mode)}'; use one of ${MODES.join(", ")}.`);
  }
  if (
    !Array.isArray(padding) ||
    padding.length % 2 !== 0 ||
    padding.some((p) => !Number.isInteger(p)) ||
    padding.length / 2 > input.rank
  ) {
    throw new FulmenError(
      `pad: padding must be an even number of integers, (before, after) per dimension from the last, at most 2 × rank (${2 * input.rank}); got ${JSON.stringify(padding)}.`,
    );
  }
  const value = options.value ?? 0;
  if (mode !== "constant" && options.value !== undefined && options.value !== 0) {
    throw new FulmenError(`pad: value applies to constant padding only; mode '${mode}' takes none.`);
  }
  const pads: AxisPadding[] = [];
  for (let k = 0; k < padding.length / 2; k++) {
    pads.push([input.rank - 1 - k, padding[2 * k]!, padding[2 * k + 1]!]);
  }
  return tf.tidy(() => (mode === "constant" ? constantPad(input, pads, value) : modePad(input, pads, mode)));
}

/** Constant padding: crop the negative counts, then pad the positive ones with `value`. */
function constantPad(x: tf.Tensor, pads: readonly AxisPadding[], value: number): tf.Tensor {
  const begin = x.shape.map(() => 0);
  const size = [...x.shape];
  let crop = false;
  for (const [axis, before, after] of pads) {
    const cutBefore = Math.max(-before, 0);
    const cutAfter = Math.max(-after, 0);
    if (cutBefore + cutAfter > 0) crop = true;
    begin[axis] = cutBefore;
    size[axis] = x.shape[axis]! - cutBefore - cutAfter;
    if (size[axis]! + Math.max(before, 0) + Math.max(after, 0) < 0) {
      throw new FulmenError(
        `pad: padding [${before}, ${after}] of dimension ${axis} (size ${x.shape[axis]}) leaves a negative size.`,
      );
    }
  }
  if (size.some((s) => s < 0)) {
    throw new FulmenError(`pad: the negative padding crops more than the input of shape [${x.shape}] has.`);
  }
  const cropped = crop ? tf.slice(x, begin, size) : x;
  const widths = x.shape.map((): [number, number] => [0, 0]);
  for (const [axis, before, after] of pads) widths[axis] = [Math.max(before, 0), Math.max(after, 0)];
  if (widths.every(([b, a]) => b + a === 0)) return crop ? cropped : tf.clone(x);
  return tf.pad(cropped, widths, value);
}

/** Reflect, replicate or circular padding of at most the last three dimensions, never the first. */
function modePad(x: tf.Tensor, pads: readonly AxisPadding[], mode: Exclude<PadMode, "constant">): tf.Tensor {
  if (pads.length > 3 || pads.length >= x.rank) {
    throw new FulmenError(
      `pad: ${mode} padding pads the last 1 to 3 dimensions of a (N, C, ...) or (C, ...) input; got ${pads.length * 2} values for an input of shape [${x.shape}]. Use constant padding for other dimensions.`,
    );
  }
  // PyTorch's padding order: the last dimension first, then the ones before it (its corners copy the padded rows).
  // A negative count crops that side after the others are padded: PyTorch maps output i to input i − before.
  const grown = pads.map(
    ([axis, before, after]): AxisPadding => [axis, Math.max(before, 0), Math.max(after, 0)],
  );
  const padded = padAxes(x, grown, mode, "pad");
  if (pads.every(([, before, after]) => before >= 0 && after >= 0)) return padded;
  const begin = padded.shape.map(() => 0);
  const size = [...padded.shape];
  for (const [axis, before, after] of pads) {
    begin[axis] = Math.max(-before, 0);
    size[axis] = padded.shape[axis]! - Math.max(-before, 0) - Math.max(-after, 0);
    if (size[axis]! < 0) {
      throw new FulmenError(
        `pad: padding [${before}, ${after}] of dimension ${axis} (size ${x.shape[axis]}) leaves a negative size.`,
      );
    }
  }
  return tf.slice(padded, begin, size);
}
