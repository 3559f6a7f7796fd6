import type { Generator } from "../random/generator";
import { getDefaultGenerator } from "../random/seed";
import { FulmenError } from "../utils/errors";
import { checkOptionNames, describeValue } from "../utils/options";

/** Options of {@link WeightedRandomSampler}, as in `torch.utils.data.WeightedRandomSampler`. */
export interface WeightedRandomSamplerOptions {
  /** Draw with replacement (default true); without it an index appears at most once per pass. */
  replacement?: boolean;
  /** The random source (default: the seeded default generator, read at each pass). */
  generator?: Generator;
}

/**
 * Indices 0…weights.length-1 drawn with probability proportional to their weight, like
 * `torch.utils.data.WeightedRandomSampler` (`torch.multinomial`'s semantics): `numSamples` per pass, with
 * replacement by default. Without replacement the draws are successive (each drawn index leaves the pool), so
 * `numSamples` may not exceed the number of positive weights. The stream differs from PyTorch's; the
 * distribution is the same.
 */
export class WeightedRandomSampler implements Iterable<number> {
  /** The weight of each index: finite and non-negative, not necessarily summing to 1. */
  readonly weights: readonly number[];
  /** Whether indices are drawn with replacement (default true). */
  readonly replacement: boolean;
  private readonly generator: Generator | undefined;

  constructor(
    weights: Iterable<number>,
    /** The number of indices drawn per pass: a positive integer. */
    readonly numSamples: number,
    options: WeightedRandomSamplerOptions = {},
  ) {
    checkOptionNames("WeightedRandomSampler", options, ["replacement", "generator"]);
    if (!Number.isInteger(numSamples) || numSamples <= 0) {
      throw new FulmenError(
        `WeightedRandomSampler: numSamples should be a positive integer value, but got numSamples=${describeValue(numSamples)}.`,
      );
    }
    this.replacement = options.replacement ?? true;
    if (typeof this.replacement !== "boolean") {
      throw new FulmenError(
        `WeightedRandomSampler: replacement should be a boolean value, but got replacement=${describeValue(this.replacement)}.`,
      );
    }
    this.weights = [...weights];
    for (const w of this.weights) {
      if (typeof w !== "number") {
        throw new FulmenError(
          `WeightedRandomSampler: weights should be a 1d sequence of numbers, but got ${describeValue(w)}.`,
        );
      }
    }
    if (this.weights.some((w) => !Number.isFinite(w) || w < 0)) {
      throw new FulmenError(
        "WeightedRandomSampler: probability tensor contains either `inf`, `nan` or element < 0; give finite, non-negative weights.",
      );
    }
    if (!(this.weights.reduce((a, b) => a + b, 0) > 0)) {
      throw new FulmenError(
        "WeightedRandomSampler: invalid multinomial distribution (sum of probabilities <= 0); give at least one positive weight.",
      );
    }
    if (!this.replacement) {
      if (numSamples > this.weights.length) {
        throw new FulmenError(
          `WeightedRandomSampler: cannot sample numSamples=${numSamples} > ${this.weights.length} weights without replacement; lower numSamples or set replacement: true.`,
        );
      }
      const positive = this.weights.filter((w) => w > 0).length;
      if (numSamples > positive) {
        throw new FulmenError(
          `WeightedRandomSampler: invalid multinomial distribution (with replacement=False, not enough non-negative category to sample): ${positive} positive weights for numSamples=${numSamples}; lower numSamples or set replacement: true.`,
        );
      }
    }
    this.generator = options.generator;
  }

  /** The number of indices per pass: `numSamples`. */
  get length(): number {
    return this.numSamples;
  }

  /** One pass's indices. */
  indices(): number[] {
    const generator = this.generator ?? getDefaultGenerator();
    return this.replacement ? this.withReplacement(generator) : this.withoutReplacement(generator);
  }

  /** One pass: `numSamples` freshly drawn indices ({@link WeightedRandomSampler.indices}). */
  [Symbol.iterator](): Iterator<number> {
    return this.indices()[Symbol.iterator]();
  }

  /** Inverse-CDF draws: a binary search of the running totals per sample. */
  private withReplacement(generator: Generator): number[] {
    const cumulative: number[] = [];
    let total = 0;
    for (const w of this.weights) {
      total += w;
      cumulative.push(total);
    }
    const out: number[] = [];
    for (let s = 0; s < this.numSamples; s++) {
      const u = generator.random() * total;
      // The first index whose running total exceeds u; a zero weight adds nothing, so it is never chosen.
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[mid]! > u) hi = mid;
        else lo = mid + 1;
      }
      out.push(lo);
    }
    return out;
  }

  /**
   * Successive draws without replacement in one pass (Efraimidis–Spirakis, as PyTorch's multinomial does with
   * exponential keys): each positive weight w gets the key E/w with E ~ Exp(1), and the smallest keys, in
   * order, are the draws — the same distribution as drawing one by one and removing each drawn index.
   */
  private withoutReplacement(generator: Generator): number[] {
    const keyed: Array<{ index: number; key: number }> = [];
    for (const [index, w] of this.weights.entries()) {
      if (w <= 0) continue;
      const e = -Math.log(1 - generator.random());
      keyed.push({ index, key: e / w });
    }
    keyed.sort((a, b) => a.key - b.key);
    return keyed.slice(0, this.numSamples).map((k) => k.index);
  }
}
