import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkOptionNames, describeValue } from "../../utils/options";

/**
 * `torch.nn.utils.rnn`: variable-length sequences as one padded tensor or one packed sequence, and back. A
 * packed sequence keeps PyTorch's layout (the steps of the longest sequences first, time-major), so its `data`
 * and `batchSizes` equal PyTorch's; `nn.RNN`/`LSTM`/`GRU` take one and return one, each sequence's recurrence
 * stopping at its own length.
 */

/** Options of {@link padSequence}. */
export interface PadSequenceOptions {
  /** `[B, T, *]` instead of `[T, B, *]` (default false). */
  batchFirst?: boolean;
  /** The value of padded positions (default 0). */
  paddingValue?: number;
  /** Pad after each sequence ("right", default) or before it ("left"). */
  paddingSide?: "right" | "left";
}

/** Options of {@link packPaddedSequence} and {@link packSequence}. */
export interface PackOptions {
  /** The padded input is `[B, T, *]` (default false: `[T, B, *]`); packPaddedSequence only. */
  batchFirst?: boolean;
  /**
   * The sequences come sorted by decreasing length (default true; an unsorted batch is an error). With false
   * they are sorted here and the order kept in `sortedIndices`/`unsortedIndices`.
   */
  enforceSorted?: boolean;
}

/** Options of {@link padPackedSequence}. */
export interface PadPackedOptions {
  /** Return `[B, T, *]` (default false: `[T, B, *]`). */
  batchFirst?: boolean;
  /** The value of padded positions (default 0). */
  paddingValue?: number;
  /** Pad to this many steps instead of the longest sequence's length (it must not be shorter). */
  totalLength?: number;
}

/** What {@link padPackedSequence} returns: the padded tensor and each sequence's length, in the original order. */
export type PaddedSequence = [padded: tf.Tensor, lengths: number[]];

/**
 * A batch of variable-length sequences packed step by step, like `torch.nn.utils.rnn.PackedSequence`: `data`
 * holds, for each time step, the elements of every sequence still running at that step (sequences sorted by
 * decreasing length); `batchSizes[t]` is how many. `sortedIndices[i]` is the original batch index of the i-th
 * sorted sequence, `unsortedIndices` its inverse (both null when the input was already sorted).
 */
export class PackedSequence {
  constructor(
    /** `[sum of lengths, *]`: the packed elements, step by step. */
    readonly data: tf.Tensor,
    /** How many sequences run at each step (non-increasing). */
    readonly batchSizes: readonly number[],
    /** The original batch index of each sorted sequence, or null when the batch came sorted. */
    readonly sortedIndices: readonly number[] | null = null,
    /** The sorted position of each original sequence (the inverse of `sortedIndices`), or null. */
    readonly unsortedIndices: readonly number[] | null = null,
  ) {
    const total = batchSizes.reduce((a, b) => a + b, 0);
    if (data.rank < 1 || data.shape[0] !== total) {
      throw new FulmenError(
        `PackedSequence: data has ${data.rank < 1 ? "no" : data.shape[0]} rows but batchSizes add up to ${total}.`,
      );
    }
  }

  /** The sequences' lengths in sorted order (decreasing), from `batchSizes`. */
  sortedLengths(): number[] {
    const batch = this.batchSizes[0] ?? 0;
    return Array.from({ length: batch }, (_, b) => this.batchSizes.filter((size) => size > b).length);
  }

  /** Frees `data`. */
  dispose(): void {
    this.data.dispose();
  }
}

/** Checks the `lengths` of a `batch` of sequences of at most `steps` steps. */
function checkLengths(owner: string, lengths: readonly number[], batch: number, steps: number): void {
  if (!Array.isArray(lengths) || lengths.length !== batch) {
    throw new FulmenError(
      `${owner}: expected ${batch} lengths (one per sequence in the batch), got ${describeValue(lengths)}.`,
    );
  }
  for (const [i, n] of lengths.entries()) {
    if (!Number.isInteger(n) || n <= 0) {
      throw new FulmenError(
        `${owner}: every length must be a positive integer (PyTorch: "Length of all samples has to be greater than 0"), got lengths[${i}] = ${describeValue(n)}.`,
      );
    }
    if (n > steps) {
      throw new FulmenError(`${owner}: lengths[${i}] = ${n} exceeds the padded input's ${steps} steps.`);
    }
  }
}

/** The order that sorts `lengths` by decreasing length (stable, as PyTorch's CPU sort gives it). */
function decreasingOrder(lengths: readonly number[]): number[] {
  return lengths.map((_, i) => i).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
}

/** The inverse permutation of `order`. */
function inverse(order: readonly number[]): number[] {
  const out = new Array<number>(order.length);
  order.forEach((original, sorted) => {
    out[original] = sorted;
  });
  return out;
}

/** How many of the sorted `lengths` (decreasing) run at each step. */
function batchSizesOf(sortedLengths: readonly number[]): number[] {
  const steps = sortedLengths[0] ?? 0;
  return Array.from({ length: steps }, (_, t) => sortedLengths.filter((n) => n > t).length);
}

/**
 * Packs a padded batch `[T, B, *]` (`[B, T, *]` with batchFirst) of sequences of the given lengths, like
 * `torch.nn.utils.rnn.pack_padded_sequence`. With `enforceSorted` (the default) the lengths must decrease; pass
 * `enforceSorted: false` to pack any order. Differentiable (a gather).
 */
export function packPaddedSequence(
  input: tf.Tensor,
  lengths: readonly number[] | tf.Tensor,
  options: PackOptions = {},
): PackedSequence {
  checkOptionNames("packPaddedSequence", options, ["batchFirst", "enforceSorted"]);
  const owner = "packPaddedSequence";
  if (input.rank < 2) {
    throw new FulmenError(
      `${owner}: expected a padded batch [T, B, *] or [B, T, *], got shape [${input.shape}].`,
    );
  }
  const given = lengths instanceof tf.Tensor ? Array.from(lengths.dataSync()) : [...lengths];
  const batchFirst = options.batchFirst ?? false;
  const [steps, batch] = batchFirst ? [input.shape[1]!, input.shape[0]!] : [input.shape[0]!, input.shape[1]!];
  checkLengths(owner, given, batch, steps);
  const enforceSorted = options.enforceSorted ?? true;
  let order: number[] | null = null;
  if (enforceSorted) {
    if (given.some((n, i) => i > 0 && n > given[i - 1]!)) {
      throw new FulmenError(
        `${owner}: the lengths [${given}] must be in decreasing order when enforceSorted is true; pass enforceSorted: false to pack them in any order.`,
      );
    }
  } else {
    order = decreasingOrder(given);
  }
  const sorted = order === null ? given : order.map((i) => given[i]!);
  const sizes = batchSizesOf(sorted);
  // row t·B + b of the time-major input is step t of batch entry b
  const rows: number[] = [];
  sizes.forEach((size, t) => {
    for (let k = 0; k < size; k++) rows.push(t * batch + (order === null ? k : order[k]!));
  });
  const data = tf.tidy(() => {
    const timeMajor = batchFirst
      ? tf.transpose(input, [1, 0, ...input.shape.slice(2).map((_, i) => i + 2)])
      : input;
    const flat = tf.reshape(timeMajor, [steps * batch, ...input.shape.slice(2)]);
    return tf.gather(flat, tf.tensor1d(rows, "int32"));
  });
  return new PackedSequence(data, sizes, order, order === null ? null : inverse(order));
}

/**
 * The padded batch `[T, B, *]` (`[B, T, *]` with batchFirst) of a packed sequence and each sequence's length,
 * in the original batch order, like `torch.nn.utils.rnn.pad_packed_sequence`. Differentiable (a gather).
 */
export function padPackedSequence(sequence: PackedSequence, options: PadPackedOptions = {}): PaddedSequence {
  checkOptionNames("padPackedSequence", options, ["batchFirst", "paddingValue", "totalLength"]);
  if (!(sequence instanceof PackedSequence)) {
    throw new FulmenError(`padPackedSequence: expected a PackedSequence, got ${describeValue(sequence)}.`);
  }
  const sortedLengths = sequence.sortedLengths();
  const longest = sequence.batchSizes.length;
  const steps = options.totalLength ?? longest;
  if (!Number.isInteger(steps) || steps < longest) {
    throw new FulmenError(
      `padPackedSequence: totalLength must be at least the longest sequence's ${longest} steps, got ${describeValue(options.totalLength)}.`,
    );
  }
  const padded = paddedTimeMajor(sequence, steps, options.paddingValue ?? 0, true);
  const lengths =
    sequence.unsortedIndices === null
      ? sortedLengths
      : sequence.unsortedIndices.map((s) => sortedLengths[s]!);
  if (!options.batchFirst) return [padded, lengths];
  const out = tf.tidy(() => tf.transpose(padded, [1, 0, ...padded.shape.slice(2).map((_, i) => i + 2)]));
  padded.dispose();
  return [out, lengths];
}

/**
 * The packed data as a time-major `[steps, B, *]` batch with `paddingValue` after each sequence: in the original
 * batch order with `unsort`, else in the packed (sorted) order, as the recurrent layers run it.
 */
export function paddedTimeMajor(
  sequence: PackedSequence,
  steps: number,
  paddingValue: number,
  unsort: boolean,
): tf.Tensor {
  const { data, batchSizes } = sequence;
  const batch = batchSizes[0] ?? 0;
  const fill = data.shape[0]!; // the index of the padding row appended below
  const offsets: number[] = [];
  batchSizes.reduce((offset, size) => {
    offsets.push(offset);
    return offset + size;
  }, 0);
  const indices: number[] = [];
  for (let t = 0; t < steps; t++) {
    for (let b = 0; b < batch; b++) {
      const s = unsort && sequence.unsortedIndices !== null ? sequence.unsortedIndices[b]! : b;
      indices.push(t < batchSizes.length && s < batchSizes[t]! ? offsets[t]! + s : fill);
    }
  }
  return tf.tidy(() => {
    const feature = data.shape.slice(1);
    const withPadding = tf.concat([data, tf.fill([1, ...feature], paddingValue, data.dtype)], 0);
    return tf.reshape(tf.gather(withPadding, tf.tensor1d(indices, "int32")), [steps, batch, ...feature]);
  });
}

/**
 * Stacks sequences of different lengths `[L_i, *]` into one padded batch `[T, B, *]` (`[B, T, *]` with
 * batchFirst), like `torch.nn.utils.rnn.pad_sequence`.
 */
export function padSequence(sequences: readonly tf.Tensor[], options: PadSequenceOptions = {}): tf.Tensor {
  checkOptionNames("padSequence", options, ["batchFirst", "paddingValue", "paddingSide"]);
  if (!Array.isArray(sequences) || sequences.length === 0) {
    throw new FulmenError("padSequence: give a non-empty list of sequences [L_i, *].");
  }
  const tail = sequences[0]!.shape.slice(1).join();
  sequences.forEach((s, i) => {
    if (!(s instanceof tf.Tensor) || s.rank < 1 || s.shape.slice(1).join() !== tail) {
      throw new FulmenError(
        `padSequence: every sequence must be [L_i, ${tail || "…"}] with the same trailing dimensions; sequence ${i} is ${s instanceof tf.Tensor ? `shape [${s.shape}]` : describeValue(s)}.`,
      );
    }
  });
  const side = options.paddingSide ?? "right";
  if (side !== "right" && side !== "left") {
    throw new FulmenError(`padSequence: paddingSide must be 'right' or 'left', got ${describeValue(side)}.`);
  }
  const steps = Math.max(...sequences.map((s) => s.shape[0]!));
  const value = options.paddingValue ?? 0;
  return tf.tidy(() => {
    const padded = sequences.map((s) => {
      const missing = steps - s.shape[0]!;
      if (missing === 0) return s;
      const fill = tf.fill([missing, ...s.shape.slice(1)], value, s.dtype);
      return tf.concat(side === "right" ? [s, fill] : [fill, s], 0);
    });
    return tf.stack(padded, options.batchFirst ? 0 : 1);
  });
}

/**
 * Packs a list of sequences `[L_i, *]`, like `torch.nn.utils.rnn.pack_sequence`: decreasing lengths unless
 * `enforceSorted: false`.
 */
export function packSequence(
  sequences: readonly tf.Tensor[],
  options: Omit<PackOptions, "batchFirst"> = {},
): PackedSequence {
  checkOptionNames("packSequence", options, ["enforceSorted"]);
  const padded = padSequence(sequences);
  try {
    return packPaddedSequence(
      padded,
      sequences.map((s) => s.shape[0]!),
      options,
    );
  } finally {
    padded.dispose();
  }
}

/** The sequences of a packed batch, each `[L_i, *]`, in the original order, like `torch.nn.utils.rnn.unpack_sequence`. */
export function unpackSequence(sequence: PackedSequence): tf.Tensor[] {
  const [padded, lengths] = padPackedSequence(sequence, { batchFirst: true });
  try {
    return tf.tidy(() =>
      lengths.map((n, b) => tf.reshape(tf.slice(padded, [b, 0], [1, n]), [n, ...padded.shape.slice(2)])),
    );
  } finally {
    padded.dispose();
  }
}
