import { describe, expect, it } from "vitest";
import {
  BatchSampler,
  ChainDataset,
  ConcatDataset,
  DataLoader,
  type Dataset,
  DistributedSampler,
  defaultCollate,
  Generator,
  manualSeed,
  randomSplit,
  SequentialSampler,
  Subset,
  TensorDataset,
  tf,
  WeightedRandomSampler,
} from "../src/index";

/** A TensorDataset of `n` rows (x = [i, 10i], y = i) that counts and records its getBatch calls. */
function countingDataset(n: number, offset = 0) {
  const x = tf.tensor2d(
    Array.from({ length: n }, (_, i) => [i + offset, 10 * (i + offset)]),
    [n, 2],
  );
  const y = tf.tensor1d(
    Array.from({ length: n }, (_, i) => i + offset),
    "int32",
  );
  const dataset = new TensorDataset(x, y);
  const calls: number[][] = [];
  const original = dataset.getBatch.bind(dataset);
  dataset.getBatch = (indices) => {
    calls.push([...indices]);
    return original(indices);
  };
  return { dataset, calls, dispose: () => tf.dispose([x, y]) };
}

/** A map-style dataset of plain numbers, without getBatch. */
function numbers(values: number[]): Dataset<number> {
  return { length: values.length, get: (i) => values[i]! };
}

/** The batches of a loader as plain arrays, each batch disposed once read. */
function readAll(loader: Iterable<unknown>): unknown[] {
  const out: unknown[] = [];
  for (const batch of loader) {
    out.push(toArrays(batch));
    tf.dispose(batch as tf.TensorContainer);
  }
  return out;
}

function toArrays(value: unknown): unknown {
  if (value instanceof tf.Tensor) return { dtype: value.dtype, values: value.arraySync() };
  if (Array.isArray(value)) return value.map(toArrays);
  return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, toArrays(v)]));
}

/** The collate function a loader would use, but not the default one itself: forces the item-by-item path. */
const itemByItem = (samples: unknown[]) => defaultCollate(samples);

describe("randomSplit", () => {
  it("splits counts into disjoint subsets in the order of the DataLoader's shuffle (generator.randperm)", () => {
    const data = numbers(Array.from({ length: 10 }, (_, i) => 100 + i));
    const [a, b] = randomSplit(data, [3, 7], new Generator(5));
    const order = new Generator(5).randperm(10);
    expect(a!.indices).toEqual(order.slice(0, 3));
    expect(b!.indices).toEqual(order.slice(3));
    expect([...a!.indices, ...b!.indices].sort((p, q) => p - q)).toEqual(
      Array.from({ length: 10 }, (_, i) => i),
    );
    expect(a!.get(0)).toBe(100 + order[0]!);
  });

  it("hands out the remainder of fractions round-robin from the first split, as PyTorch does", () => {
    const sizes = (n: number, fractions: number[]) =>
      randomSplit(numbers(new Array(n).fill(0)), fractions, new Generator(0)).map((s) => s.length);
    // floor(7·[.25, .25, .5]) = [1, 1, 3]; the 2 left over go to splits 0 and 1.
    expect(sizes(7, [0.25, 0.25, 0.5])).toEqual([2, 2, 3]);
    // PyTorch's documented example: random_split(range(30), [0.3, 0.3, 0.4]) gives 9, 9 and 12 items.
    expect(sizes(30, [0.3, 0.3, 0.4])).toEqual([9, 9, 12]);
    expect(sizes(5, [0.5, 0.5])).toEqual([3, 2]);
    expect(sizes(10, [0.1, 0.2, 0.3, 0.4])).toEqual([1, 2, 3, 4]);
  });

  it("draws from the seeded default generator without one", () => {
    const data = numbers(new Array(20).fill(0));
    manualSeed(11);
    const first = randomSplit(data, [0.5, 0.5]).map((s) => s.indices);
    manualSeed(11);
    const second = randomSplit(data, [0.5, 0.5]).map((s) => s.indices);
    expect(second).toEqual(first);
    manualSeed(12);
    expect(randomSplit(data, [0.5, 0.5]).map((s) => s.indices)).not.toEqual(first);
  });

  it("refuses lengths that do not add up and fractions outside [0, 1]", () => {
    const data = numbers(new Array(10).fill(0));
    expect(() => randomSplit(data, [3, 3])).toThrow(/sum of input lengths \(6\) does not equal .*\(10\)/);
    expect(() => randomSplit(data, [1.5, -0.5])).toThrow(/fraction at index 0 is not between 0 and 1/);
    expect(() => randomSplit(data, [2.5, 7.5])).toThrow(/non-negative integer/);
  });
});

describe("Subset", () => {
  it("reads the dataset at its indices, with Python's negative indices", () => {
    const subset = new Subset(numbers([10, 11, 12, 13]), [3, 1]);
    expect(subset.length).toBe(2);
    expect([subset.get(0), subset.get(1), subset.get(-1), subset.get(-2)]).toEqual([13, 11, 11, 13]);
    expect(() => subset.get(2)).toThrow(/index 2 is out of range for 2 items/);
    expect(() => subset.get(-3)).toThrow(/out of range/);
    expect(() => new Subset(numbers([1]), [0.5])).toThrow(/not an integer/);
  });

  it("forwards whole batches to the dataset's getBatch, equal to the item-by-item batches, leaking nothing", () => {
    const { dataset, calls, dispose } = countingDataset(8);
    const subset = new Subset(dataset, [7, 5, 3, 1, 0]);
    const before = tf.memory().numTensors;
    const fast = readAll(new DataLoader(subset, { batchSize: 2 }));
    expect(calls).toEqual([[7, 5], [3, 1], [0]]);
    const slow = readAll(new DataLoader(subset, { batchSize: 2, collateFn: itemByItem }));
    expect(fast).toEqual(slow);
    expect((fast[0] as Array<{ values: unknown }>)[1]!.values).toEqual([7, 5]);
    expect(tf.memory().numTensors).toBe(before);
    dispose();
  });

  it("collates items itself over a dataset without getBatch", () => {
    const subset = new Subset(numbers([1, 2.5, 3]), [2, 1]);
    const batch = subset.getBatch([0, 1]) as tf.Tensor;
    expect(Array.from(batch.dataSync())).toEqual([3, 2.5]);
    batch.dispose();
  });
});

describe("ConcatDataset", () => {
  it("has PyTorch's cumulative sizes and negative indices", () => {
    const concat = new ConcatDataset([numbers([0, 1, 2]), numbers([]), numbers([3, 4])]);
    expect(concat.cumulativeSizes).toEqual([3, 3, 5]);
    expect(concat.length).toBe(5);
    expect([0, 1, 2, 3, 4].map((i) => concat.get(i))).toEqual([0, 1, 2, 3, 4]);
    expect([-1, -2, -5].map((i) => concat.get(i))).toEqual([4, 3, 0]);
    expect(() => concat.get(-6)).toThrow(/absolute value of index -6 should not exceed dataset length 5/);
    expect(() => concat.get(5)).toThrow(/out of range/);
    expect(() => new ConcatDataset([])).toThrow(/should not be an empty iterable/);
    expect(() => new ConcatDataset([new ChainDataset([[1, 2]])] as never)).toThrow(
      /does not support IterableDataset/,
    );
  });

  it("builds a shuffled batch with one getBatch per dataset, equal to the item-by-item batch, leaking nothing", () => {
    const a = countingDataset(5);
    const b = countingDataset(4, 100);
    const concat = new ConcatDataset([a.dataset, b.dataset]);
    const before = tf.memory().numTensors;
    const fast = readAll(
      new DataLoader(concat, { batchSize: 6, shuffle: true, generator: new Generator(3) }),
    );
    const slow = readAll(
      new DataLoader(concat, {
        batchSize: 6,
        shuffle: true,
        generator: new Generator(3),
        collateFn: itemByItem,
      }),
    );
    expect(fast).toEqual(slow);
    expect(a.calls.length + b.calls.length).toBeLessThanOrEqual(4);
    expect(tf.memory().numTensors).toBe(before);
    const direct = concat.getBatch([6, 0, -1, 2]) as tf.Tensor[];
    expect(direct[1]!.arraySync()).toEqual([101, 0, 103, 2]);
    tf.dispose(direct);
    a.dispose();
    b.dispose();
  });

  it("falls back to defaultCollate's decision when the parts' dtypes differ (integers here, a fraction there)", () => {
    const concat = new ConcatDataset([numbers([1, 2]), numbers([0.5])]);
    const batch = concat.getBatch([2, 0, 1]) as tf.Tensor;
    expect(batch.dtype).toBe("float32");
    expect(Array.from(batch.dataSync())).toEqual([0.5, 1, 2]);
    batch.dispose();
  });
});

describe("ChainDataset and iterable datasets in the DataLoader", () => {
  /** An iterable dataset that makes a new tensor per item and records how far it was read. */
  function stream(start: number, count: number, log: string[], withLength = true) {
    const iterable = {
      *[Symbol.iterator]() {
        for (let i = start; i < start + count; i++) {
          log.push(`read ${i}`);
          yield { x: tf.tensor1d([i, -i]), y: i };
        }
      },
    };
    return withLength ? Object.assign(iterable, { length: count }) : iterable;
  }

  it("chains lazily and sums lengths; refuses map-style datasets", () => {
    const log: string[] = [];
    const chain = new ChainDataset([stream(0, 2, log), stream(10, 1, log)]);
    expect(chain.length).toBe(3);
    const it = chain[Symbol.iterator]();
    it.next();
    expect(log).toEqual(["read 0"]);
    tf.dispose((it.next().value as { x: tf.Tensor }).x);
    expect(new ChainDataset([stream(0, 1, log, false)]).length).toBeUndefined();
    expect(() => new ChainDataset([numbers([1])] as never)).toThrow(
      /ChainDataset only supports iterable datasets/,
    );
  });

  it("batches an iterable dataset as its items come, with dropLast, freeing the items' tensors", () => {
    const log: string[] = [];
    const chain = new ChainDataset([stream(0, 3, log), stream(10, 2, log)]);
    const before = tf.memory().numTensors;
    const loader = new DataLoader(chain, { batchSize: 2 });
    expect(loader.length).toBe(3);
    const batches = readAll(loader) as Array<{ x: { values: number[][] }; y: { values: number[] } }>;
    expect(batches.map((b) => b.y.values)).toEqual([[0, 1], [2, 10], [11]]);
    expect(batches[1]!.x.values).toEqual([
      [2, -2],
      [10, -10],
    ]);
    const dropped = new DataLoader(chain, { batchSize: 2, dropLast: true });
    expect(dropped.length).toBe(2);
    expect(readAll(dropped)).toHaveLength(2);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("refuses shuffle, sampler and batchSampler with PyTorch's messages, and a length it does not have", () => {
    const chain = new ChainDataset([stream(0, 3, [])]);
    expect(() => new DataLoader(chain, { shuffle: true })).toThrow(
      /DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle=true/,
    );
    expect(() => new DataLoader(chain, { sampler: [0, 1] })).toThrow(/expected unspecified sampler option/);
    expect(() => new DataLoader(chain, { batchSampler: [[0]] })).toThrow(
      /expected unspecified batchSampler option/,
    );
    expect(() => new DataLoader(new ChainDataset([stream(0, 3, [], false)])).length).toThrow(/has no length/);
  });
});

describe("WeightedRandomSampler", () => {
  it("draws with replacement in proportion to the weights, never a zero weight, repeatably per generator", () => {
    const sampler = new WeightedRandomSampler([1, 2, 0, 5], 40_000, { generator: new Generator(1) });
    const counts = [0, 0, 0, 0];
    for (const i of sampler) counts[i]! += 1;
    expect(counts[2]).toBe(0);
    for (const [i, w] of [1, 2, 0, 5].entries())
      expect(Math.abs(counts[i]! / 40_000 - w / 8)).toBeLessThan(0.01);
    expect(sampler.length).toBe(40_000);
    const a = [...new WeightedRandomSampler([1, 2, 3], 50, { generator: new Generator(9) })];
    const b = [...new WeightedRandomSampler([1, 2, 3], 50, { generator: new Generator(9) })];
    expect(a).toEqual(b);
  });

  it("draws without replacement successively: distinct indices with torch.multinomial's first and second draw laws", () => {
    const weights = [1, 2, 3, 4, 0];
    const p = weights.map((w) => w / 10);
    const sampler = new WeightedRandomSampler(weights, 2, {
      replacement: false,
      generator: new Generator(4),
    });
    const passes = 20_000;
    const first = [0, 0, 0, 0, 0];
    const second = [0, 0, 0, 0, 0];
    let repeats = 0;
    for (let pass = 0; pass < passes; pass++) {
      const [i, j] = sampler.indices();
      if (i === j) repeats++;
      first[i!]! += 1;
      second[j!]! += 1;
    }
    expect(repeats).toBe(0);
    // P(second = j) = Σ_i p_i · p_j / (1 − p_i), i ≠ j.
    const secondLaw = p.map((pj, j) => p.reduce((s, pi, i) => (i === j ? s : s + (pi * pj) / (1 - pi)), 0));
    for (let k = 0; k < 5; k++) {
      expect(Math.abs(first[k]! / passes - p[k]!)).toBeLessThan(0.015);
      expect(Math.abs(second[k]! / passes - secondLaw[k]!)).toBeLessThan(0.015);
    }
    const all = [...new WeightedRandomSampler(weights, 4, { replacement: false })].sort();
    expect(all).toEqual([0, 1, 2, 3]);
  });

  it("refuses what torch.multinomial refuses", () => {
    expect(() => new WeightedRandomSampler([1, 1], 3, { replacement: false })).toThrow(
      /cannot sample numSamples=3 > 2 weights without replacement/,
    );
    expect(() => new WeightedRandomSampler([1, 0, 0], 2, { replacement: false })).toThrow(
      /not enough non-negative category/,
    );
    expect(() => new WeightedRandomSampler([1, -1], 2)).toThrow(/element < 0/);
    expect(() => new WeightedRandomSampler([0, 0], 2)).toThrow(/sum of probabilities <= 0/);
    expect(() => new WeightedRandomSampler([1], 0)).toThrow(/numSamples should be a positive integer value/);
    expect(() => new WeightedRandomSampler([1], 1, { replacement: 1 as never })).toThrow(
      /replacement should be a boolean/,
    );
  });
});

describe("BatchSampler and the DataLoader's sampler options", () => {
  it("groups a sampler's indices as PyTorch's documentation shows", () => {
    const sequential = new SequentialSampler({ length: 10 });
    expect([...new BatchSampler(sequential, 3, false)]).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
    expect([...new BatchSampler(sequential, 3, true)]).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
    ]);
    expect(new BatchSampler(sequential, 3, false).length).toBe(4);
    expect(new BatchSampler(sequential, 3, true).length).toBe(3);
    expect(() => new BatchSampler(sequential, 0, false)).toThrow(
      /batchSize should be a positive integer value/,
    );
    expect(() => new BatchSampler(sequential, 2, "no" as never)).toThrow(
      /dropLast should be a boolean value/,
    );
  });

  it("drives a DataLoader through getBatch, exposes its inner sampler, and re-reads it every epoch", () => {
    const { dataset, calls, dispose } = countingDataset(6);
    const inner = new DistributedSampler(6, { numReplicas: 1, rank: 0, shuffle: true, seed: 2 });
    const loader = new DataLoader(dataset, { batchSampler: new BatchSampler(inner, 4, false) });
    expect(loader.sampler).toBe(inner);
    expect(loader.batchSize).toBe(4);
    expect(loader.length).toBe(2);
    const before = tf.memory().numTensors;
    const order0 = inner.indices();
    const epoch0 = readAll(loader);
    inner.setEpoch(1);
    const order1 = inner.indices();
    readAll(loader);
    expect(calls).toEqual([order0.slice(0, 4), order0.slice(4), order1.slice(0, 4), order1.slice(4)]);
    expect(order0).not.toEqual(order1);
    expect(epoch0).toHaveLength(2);
    expect(tf.memory().numTensors).toBe(before);
    // Any iterable of index lists is a batch sampler; without an inner sampler the loader reports a sequential one.
    const plain = new DataLoader(dataset, { batchSampler: [[5, 0], [2]] });
    expect(plain.sampler).toBeInstanceOf(SequentialSampler);
    expect(plain.length).toBe(2);
    expect((readAll(plain)[0] as Array<{ values: unknown }>)[1]!.values).toEqual([5, 0]);
    dispose();
  });

  it("takes a WeightedRandomSampler as sampler", () => {
    const { dataset, dispose } = countingDataset(4);
    const sampler = new WeightedRandomSampler([0, 0, 1, 0], 5, { generator: new Generator(0) });
    const loader = new DataLoader(dataset, { sampler, batchSize: 5 });
    expect((readAll(loader)[0] as Array<{ values: unknown }>)[1]!.values).toEqual([2, 2, 2, 2, 2]);
    dispose();
  });

  it("refuses options that exclude each other, with PyTorch's messages", () => {
    const data = numbers([1, 2, 3]);
    const batches = new BatchSampler([0, 1, 2], 2, false);
    const exclusive =
      /batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last/;
    expect(() => new DataLoader(data, { batchSampler: batches, batchSize: 2 })).toThrow(exclusive);
    expect(() => new DataLoader(data, { batchSampler: batches, shuffle: true })).toThrow(exclusive);
    expect(() => new DataLoader(data, { batchSampler: batches, sampler: [0] })).toThrow(exclusive);
    expect(() => new DataLoader(data, { batchSampler: batches, dropLast: true })).toThrow(exclusive);
    expect(() => new DataLoader(data, { sampler: [0], shuffle: true })).toThrow(
      /sampler option is mutually exclusive with shuffle/,
    );
    // batchSize 1 is PyTorch's default, so it is allowed beside a batch sampler.
    expect(new DataLoader(data, { batchSampler: batches, batchSize: 1 }).length).toBe(2);
  });
});
