import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkOptionNames, describeValue } from "../../utils/options";
import { detached } from "./detached";
import { resolvePaddingIdx } from "./embedding";

/** How {@link embeddingBag} reduces each bag. */
export type EmbeddingBagMode = "sum" | "mean" | "max";

/** Options of {@link embeddingBag}, PyTorch's keywords in camelCase. */
export interface EmbeddingBagOptions {
  /** With a 1-D input: where each bag starts (`[B]`, int32), as PyTorch's `offsets`. */
  offsets?: tf.Tensor | readonly number[] | null;
  /** "mean" (default), "sum" or "max". */
  mode?: EmbeddingBagMode;
  /** With mode "sum": each index's weight, the input's shape. */
  perSampleWeights?: tf.Tensor | null;
  /** The last offset is the end of the last bag (`[B + 1]` offsets), as PyTorch's `include_last_offset`. */
  includeLastOffset?: boolean;
  /** An index that belongs to no bag: it adds nothing, and does not count in a mean. */
  paddingIdx?: number | null;
}

/** The bags: for each, the positions of its indices in the flat input. */
function bagsOf(owner: string, input: tf.Tensor, options: EmbeddingBagOptions): number[][] {
  if (input.rank === 2) {
    if (options.offsets != null) {
      throw new FulmenError(`${owner}: offsets go with a 1-D input only; a 2-D input [B, N] is B bags of N.`);
    }
    const [bags, each] = input.shape as [number, number];
    return Array.from({ length: bags }, (_, b) => Array.from({ length: each }, (_, i) => b * each + i));
  }
  if (input.rank !== 1 || options.offsets == null) {
    throw new FulmenError(
      `${owner}: expected a 2-D input [B, N] (bags of equal size) or a 1-D input with offsets, got shape [${input.shape}]${input.rank === 1 ? " without offsets" : ""}.`,
    );
  }
  const offsets =
    options.offsets instanceof tf.Tensor ? Array.from(options.offsets.dataSync()) : [...options.offsets];
  const n = input.shape[0]!;
  const ends = options.includeLastOffset ? offsets.slice(1) : [...offsets.slice(1), n];
  const starts = options.includeLastOffset ? offsets.slice(0, -1) : offsets;
  if (
    offsets.length === 0 ||
    offsets[0] !== 0 ||
    offsets.some((o, i) => !Number.isInteger(o) || o > n || (i > 0 && o < offsets[i - 1]!))
  ) {
    throw new FulmenError(
      `${owner}: offsets must be non-decreasing integers starting at 0 and at most the input's length ${n}, got ${describeValue(offsets)}.`,
    );
  }
  return starts.map((s, b) => Array.from({ length: ends[b]! - s }, (_, i) => s + i));
}

/**
 * Sums, averages or takes the maximum of each bag of embeddings without materialising them one by one, like
 * `F.embedding_bag(input, weight, ...)`: a 2-D input `[B, N]` is B bags of N indices; a 1-D input is cut into
 * bags at `offsets`. Returns `[B, embeddingDim]` (an empty bag gives zeros).
 */
export function embeddingBag(
  input: tf.Tensor,
  weight: tf.Tensor,
  options: EmbeddingBagOptions = {},
): tf.Tensor {
  const owner = "embeddingBag";
  checkOptionNames(owner, options, [
    "offsets",
    "mode",
    "perSampleWeights",
    "includeLastOffset",
    "paddingIdx",
  ]);
  if (input.dtype !== "int32")
    throw new FulmenError(`${owner}: indices must be an int32 tensor, got ${input.dtype}.`);
  if (weight.rank !== 2) {
    throw new FulmenError(
      `${owner}: weight must be [numEmbeddings, embeddingDim], got shape [${weight.shape}].`,
    );
  }
  const mode = options.mode ?? "mean";
  if (mode !== "sum" && mode !== "mean" && mode !== "max") {
    throw new FulmenError(`${owner}: mode must be 'sum', 'mean' or 'max', got ${describeValue(mode)}.`);
  }
  const perSample = options.perSampleWeights ?? null;
  if (perSample !== null && (mode !== "sum" || perSample.shape.join() !== input.shape.join())) {
    throw new FulmenError(
      `${owner}: perSampleWeights go with mode 'sum' only and must have the input's shape [${input.shape}], got ${mode === "sum" ? `shape [${perSample.shape}]` : `mode '${mode}'`}.`,
    );
  }
  const rows = weight.shape[0]!;
  const indices = Array.from(input.dataSync());
  const bad = indices.find((i) => i < 0 || i >= rows);
  if (bad !== undefined) {
    throw new FulmenError(`${owner}: index ${bad} is out of range for ${rows} embeddings.`);
  }
  const paddingIdx = resolvePaddingIdx(owner, options.paddingIdx, rows);
  // each bag's positions, without the padding index's
  const bags = bagsOf(owner, input, options).map((bag) => bag.filter((p) => indices[p] !== paddingIdx));
  const dim = weight.shape[1]!;
  // no index at all (every bag empty): zeros, as PyTorch's
  if (bags.every((b) => b.length === 0)) return tf.zeros([bags.length, dim], weight.dtype);
  return tf.tidy(() => {
    const longest = Math.max(1, ...bags.map((b) => b.length));
    // [B, longest] positions into the flat input, -1 where a bag is shorter
    const slots = bags.flatMap((bag) => Array.from({ length: longest }, (_, i) => bag[i] ?? -1));
    const valid = tf.tensor2d(
      slots.map((s) => (s >= 0 ? 1 : 0)),
      [bags.length, longest],
      "float32",
    );
    const rowsOf = tf.tensor1d(
      slots.map((s) => (s >= 0 ? indices[s]! : 0)),
      "int32",
    );
    let vectors = tf.reshape(tf.gather(weight, rowsOf), [bags.length, longest, dim]);
    if (perSample !== null) {
      const w = tf.gather(
        tf.reshape(perSample, [-1]),
        tf.tensor1d(
          slots.map((s) => Math.max(s, 0)),
          "int32",
        ),
      );
      vectors = tf.mul(vectors, tf.reshape(w, [bags.length, longest, 1]));
    }
    const mask = tf.expandDims(valid, 2);
    const counts = bags.map((b) => b.length);
    if (mode === "max") {
      // The first largest element of each bag and dimension, picked by a constant one-hot mask so that only it
      // gets the gradient (a max over an index repeated in a bag would give every copy the full gradient;
      // PyTorch's `max_indices` keep one).
      const masked = tf.where(
        tf.cast(mask, "bool"),
        vectors,
        tf.fill(vectors.shape, Number.NEGATIVE_INFINITY),
      );
      const first = detached(tf.argMax(masked, 1));
      const slotIds = tf.reshape(tf.range(0, longest, 1, "int32"), [1, longest, 1]);
      const pick = tf.cast(tf.equal(tf.expandDims(first, 1), slotIds), vectors.dtype);
      const best = tf.sum(tf.mul(vectors, pick), 1);
      // an empty bag gives zeros, as PyTorch's
      const nonEmpty = tf.tensor2d(
        counts.map((c) => (c > 0 ? 1 : 0)),
        [bags.length, 1],
        "bool",
      );
      return tf.where(nonEmpty, best, tf.zerosLike(best));
    }
    const total = tf.sum(tf.mul(vectors, mask), 1);
    if (mode === "sum") return total;
    return tf.div(
      total,
      tf.tensor2d(
        counts.map((c) => Math.max(c, 1)),
        [bags.length, 1],
      ),
    );
  });
}
