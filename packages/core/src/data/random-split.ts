import type { Generator } from "../random/generator";
import { getDefaultGenerator } from "../random/seed";
import { FulmenError } from "../utils/errors";
import type { Dataset } from "./dataset";
import { Subset } from "./subset";

/**
 * Splits a dataset into non-overlapping random subsets, like `torch.utils.data.random_split`: `lengths` are
 * counts that sum to the dataset's length, or fractions that sum to 1 (each split then gets
 * floor(length · fraction) items and the remainder is handed out one by one, round-robin from the first split).
 * The order is one `generator.randperm` of the whole dataset (the DataLoader's shuffle), from the seeded default
 * generator unless one is given; the streams differ from PyTorch's, so equal seeds give different splits there.
 */
export function randomSplit<T>(
  dataset: Dataset<T>,
  lengths: readonly number[],
  generator: Generator = getDefaultGenerator(),
): Subset<T>[] {
  const n = dataset.length;
  let counts = [...lengths];
  const sum = counts.reduce((a, b) => a + b, 0);
  // PyTorch's test: math.isclose(sum, 1) (relative tolerance 1e-9) and sum <= 1.
  if (Math.abs(sum - 1) <= 1e-9 * Math.max(Math.abs(sum), 1) && sum <= 1) {
    counts = counts.map((fraction, i) => {
      if (!(fraction >= 0 && fraction <= 1)) {
        throw new FulmenError(
          `randomSplit: fraction at index ${i} is not between 0 and 1 (got ${fraction}); give fractions in [0, 1] that sum to 1.`,
        );
      }
      return Math.floor(n * fraction);
    });
    const remainder = n - counts.reduce((a, b) => a + b, 0);
    for (let i = 0; i < remainder; i++) counts[i % counts.length] = counts[i % counts.length]! + 1;
  }
  for (const [i, c] of counts.entries()) {
    if (!Number.isInteger(c) || c < 0) {
      throw new FulmenError(
        `randomSplit: length at index ${i} must be a non-negative integer, got ${c}; give counts, or fractions that sum to 1.`,
      );
    }
  }
  if (counts.reduce((a, b) => a + b, 0) !== n) {
    throw new FulmenError(
      `randomSplit: sum of input lengths (${counts.reduce((a, b) => a + b, 0)}) does not equal the length of the input dataset (${n}); give counts that sum to ${n}, or fractions that sum to 1.`,
    );
  }
  const order = generator.randperm(n);
  let offset = 0;
  return counts.map((c) => {
    const part = new Subset(dataset, order.slice(offset, offset + c));
    offset += c;
    return part;
  });
}
