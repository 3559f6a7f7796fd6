import { describe, expect, it } from "vitest";
import {
  DataLoader,
  type Dataset,
  DistributedSampler,
  defaultCollate,
  Generator,
  TensorDataset,
  tf,
} from "../src/index";

describe("DistributedSampler", () => {
  it("pads by repeating the start and deals indices round-robin, as PyTorch does", () => {
    const ranks = [0, 1, 2].map((rank) =>
      new DistributedSampler(10, { numReplicas: 3, rank, shuffle: false }).indices(),
    );
    expect(ranks).toEqual([
      [0, 3, 6, 9],
      [1, 4, 7, 0],
      [2, 5, 8, 1],
    ]);
  });

  it("truncates with dropLast", () => {
    const ranks = [0, 1, 2].map((rank) =>
      new DistributedSampler(10, { numReplicas: 3, rank, shuffle: false, dropLast: true }).indices(),
    );
    expect(ranks).toEqual([
      [0, 3, 6],
      [1, 4, 7],
      [2, 5, 8],
    ]);
  });

  it("shuffles identically on every rank, differently per epoch, and covers the dataset", () => {
    const samplers = [0, 1].map((rank) => new DistributedSampler(9, { numReplicas: 2, rank, seed: 3 }));
    const epoch0 = samplers.map((s) => s.indices());
    expect(new Set(epoch0.flat())).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8]));
    expect(epoch0.flat()).toHaveLength(10);
    for (const s of samplers) s.setEpoch(1);
    expect(samplers.map((s) => s.indices())).not.toEqual(epoch0);
    expect(() => new DistributedSampler(4, { numReplicas: 2, rank: 2 })).toThrow(/invalid rank 2/);
  });
});

describe("DataLoader", () => {
  const items: Dataset<{ x: number[]; y: number }> = {
    length: 5,
    get: (i) => ({ x: [i, i + 0.5], y: i % 2 }),
  };

  it("batches in order, collating objects key by key", () => {
    const loader = new DataLoader(items, { batchSize: 2 });
    const batches = [...loader] as Array<{ x: tf.Tensor; y: tf.Tensor }>;
    expect(loader.length).toBe(3);
    expect(batches).toHaveLength(3);
    expect(batches[0]!.x.arraySync()).toEqual([
      [0, 0.5],
      [1, 1.5],
    ]);
    expect(batches[0]!.y.dtype).toBe("int32");
    expect(batches[2]!.x.shape).toEqual([1, 2]);
    expect([...new DataLoader(items, { batchSize: 2, dropLast: true })]).toHaveLength(2);
  });

  it("reshuffles every epoch from a seeded generator", () => {
    const order = (g: Generator) => {
      const loader = new DataLoader(items, { batchSize: 5, shuffle: true, generator: g });
      return [...loader].map((b) => Array.from((b as { y: tf.Tensor; x: tf.Tensor }).x.dataSync()));
    };
    expect(order(new Generator(1))).toEqual(order(new Generator(1)));
    const g = new Generator(1);
    const loader = new DataLoader(items, { batchSize: 5, shuffle: true, generator: g });
    const first = Array.from(([...loader][0] as { x: tf.Tensor }).x.dataSync());
    const second = Array.from(([...loader][0] as { x: tf.Tensor }).x.dataSync());
    expect(second).not.toEqual(first);
  });

  it("stacks TensorDataset rows without leaking the per-sample tensors", () => {
    const ds = new TensorDataset(
      tf.tensor2d([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
      tf.tensor1d([0, 1, 0], "int32"),
    );
    const before = tf.memory().numTensors;
    const batches = [...new DataLoader(ds, { batchSize: 2 })] as tf.Tensor[][];
    expect(batches[0]![0]!.arraySync()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(batches[1]![1]!.arraySync()).toEqual([0]);
    expect(tf.memory().numTensors).toBe(before + 4);
  });

  it("follows a sampler and rejects shuffle with one", () => {
    const sampler = new DistributedSampler(5, { numReplicas: 2, rank: 1, shuffle: false });
    const loader = new DataLoader(items, { batchSize: 10, sampler });
    expect(Array.from(([...loader][0] as { y: tf.Tensor }).y.dataSync())).toEqual([1, 1, 0]);
    expect(() => new DataLoader(items, { sampler, shuffle: true })).toThrow(/mutually exclusive/);
    expect(() => new DataLoader(items, { batchSize: 0 })).toThrow(/batchSize/);
  });

  it("names values it cannot collate", () => {
    expect(() => defaultCollate(["a", "b"])).toThrow(/collateFn/);
    expect(() => defaultCollate([[1, 2], [3]])).toThrow(/different lengths/);
  });
});
