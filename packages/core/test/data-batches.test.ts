import { describe, expect, expectTypeOf, it } from "vitest";
import {
  type Collated,
  DataLoader,
  type Dataset,
  DistributedSampler,
  defaultCollate,
  Generator,
  TensorDataset,
  tf,
} from "../src/index";

/** The same rows as a TensorDataset, without its batch-at-once path. */
function perItem<T>(dataset: Dataset<T>): Dataset<T> {
  return { length: dataset.length, get: (i) => dataset.get(i) };
}

function table(n = 10) {
  const x = tf.tensor2d(
    Array.from({ length: n * 3 }, (_, i) => i * 0.5 - 3),
    [n, 3],
  );
  const y = tf.tensor1d(
    Array.from({ length: n }, (_, i) => i % 4),
    "int32",
  );
  return { x, y, dataset: new TensorDataset(x, y) };
}

/** Every batch's tensors as plain values (shape, dtype, data), read while the batch is alive. */
function contents(loader: Iterable<unknown>): unknown[] {
  const out: unknown[] = [];
  for (const batch of loader) {
    out.push((batch as tf.Tensor[]).map((t) => ({ shape: t.shape, dtype: t.dtype, data: t.arraySync() })));
    tf.dispose(batch as tf.Tensor[]);
  }
  return out;
}

describe("DataLoader over a TensorDataset", () => {
  it("builds each batch at once, without a slice per row and a stack", async () => {
    const { dataset } = table(10);
    const loader = new DataLoader(dataset, { batchSize: 4, shuffle: true, generator: new Generator(1) });
    const before = tf.memory().numTensors;
    let batches = 0;
    const info = await tf.profile(() => {
      for (const batch of loader) {
        batches += 1;
        tf.dispose(batch);
      }
    });
    expect(batches).toBe(3);
    // On the cpu backend the rows are copied out of its arrays; per-row work would show as Slice and Pack kernels.
    expect(info.kernels.map((k) => k.name).filter((k) => ["Slice", "Pack", "Concat"].includes(k))).toEqual(
      [],
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it("gives the same batches as stacking rows one by one, with shuffle, dropLast and samplers", () => {
    const { dataset } = table(10);
    const cases = [
      { batchSize: 3 },
      { batchSize: 3, dropLast: true },
      { batchSize: 4, shuffle: true },
      { batchSize: 2, sampler: new DistributedSampler(10, { numReplicas: 3, rank: 2, seed: 5 }) },
    ];
    for (const options of cases) {
      const fast = new DataLoader(dataset, { ...options, generator: new Generator(9) });
      const slow = new DataLoader(perItem(dataset), { ...options, generator: new Generator(9) });
      expect(fast.length).toBe(slow.length);
      expect(contents(fast)).toEqual(contents(slow));
    }
  });

  it("keeps a given collateFn: it receives the rows one by one", () => {
    const { dataset } = table(5);
    const seen: number[] = [];
    const loader = new DataLoader(dataset, {
      batchSize: 2,
      collateFn: (rows) => {
        seen.push(rows.length);
        return defaultCollate(rows) as tf.Tensor[];
      },
    });
    expect(contents(loader)).toHaveLength(3);
    expect(seen).toEqual([2, 2, 1]);
  });

  it("refuses rows out of range by name", () => {
    const { dataset } = table(4);
    expect(() => dataset.getBatch([0, 4])).toThrow(/index 4 is out of range for 4 rows/);
    expect(() => dataset.getBatch([1.5])).toThrow(/index 1.5 is out of range/);
  });

  it("types a batch from its dataset", () => {
    const { x, y } = { x: tf.zeros([4, 3]) as tf.Tensor2D, y: tf.zeros([4], "int32") as tf.Tensor1D };
    const rows = new TensorDataset(x, y);
    expectTypeOf(rows.get(0)).toEqualTypeOf<[tf.Tensor1D, tf.Scalar]>();
    expectTypeOf(new DataLoader(rows)).toEqualTypeOf<
      DataLoader<[tf.Tensor1D, tf.Scalar], [tf.Tensor2D, tf.Tensor1D]>
    >();
    const items: Dataset<{ x: Float32Array; y: number; tags: number[] }> = {
      length: 1,
      get: () => ({ x: new Float32Array(2), y: 1, tags: [1, 2] }),
    };
    expectTypeOf<Collated<{ x: Float32Array; y: number; tags: number[] }>>().toEqualTypeOf<{
      x: tf.Tensor2D;
      y: tf.Tensor1D;
      tags: tf.Tensor2D;
    }>();
    // A typed loader is still a loader of unknown items, where an API takes any (the Trainer's trainDataloaders).
    const anyLoader: DataLoader<unknown, unknown> = new DataLoader(items);
    expect(anyLoader.length).toBe(1);
    tf.dispose([x, y]);
  });
});
