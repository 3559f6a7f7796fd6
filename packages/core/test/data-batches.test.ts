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

describe("defaultCollate over typed arrays", () => {
  it("stacks integer typed arrays (a Uint8Array image) as int32 rows and Float64Array as float32 rows", () => {
    const items: Dataset<{ pixels: Uint8Array; depth: Float64Array; small: Int16Array }> = {
      length: 3,
      get: (i) => ({
        pixels: Uint8Array.from([i, 255 - i, 7]),
        depth: Float64Array.from([i / 4, -i]),
        small: Int16Array.from([i * 1000 - 1000]),
      }),
    };
    const loader = new DataLoader(items, { batchSize: 3 });
    expectTypeOf<
      (typeof loader extends DataLoader<unknown, infer B> ? B : never)["pixels"]
    >().toEqualTypeOf<tf.Tensor2D>();
    for (const batch of loader) {
      // Until now a Uint8Array was collated as an object: one tensor per pixel, keyed "0", "1", …
      expect(batch.pixels).toBeInstanceOf(tf.Tensor);
      expect([batch.pixels.dtype, batch.pixels.shape, batch.pixels.arraySync()]).toEqual([
        "int32",
        [3, 3],
        [
          [0, 255, 7],
          [1, 254, 7],
          [2, 253, 7],
        ],
      ]);
      expect([batch.depth.dtype, batch.depth.arraySync()]).toEqual([
        "float32",
        [
          [0, -0],
          [0.25, -1],
          [0.5, -2],
        ],
      ]);
      expect([batch.small.dtype, batch.small.arraySync()]).toEqual(["int32", [[-1000], [0], [1000]]]);
      tf.dispose([batch.pixels, batch.depth, batch.small]);
    }
  });

  it("refuses views no tfjs dtype holds exactly, and rows of different kinds", () => {
    expect(() => defaultCollate([Uint32Array.from([1]), Uint32Array.from([2])])).toThrow(
      /cannot collate a Uint32Array, which no tfjs dtype holds exactly; convert it/,
    );
    expect(() => defaultCollate([Int32Array.from([1]), [2]])).toThrow(/different lengths or kinds/);
  });
});

describe("a TensorDataset subclass that overrides get", () => {
  it("gives batches of its own items (the gather does not bypass the override)", () => {
    class Doubled extends TensorDataset<[tf.Tensor2D]> {
      override get(index: number): [tf.Tensor1D] {
        const [row] = super.get(index);
        const doubled = tf.mul(row, 2) as tf.Tensor1D;
        row.dispose();
        return [doubled];
      }
    }
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    const dataset = new Doubled(x);
    const before = tf.memory().numTensors;
    expect(contents(new DataLoader(dataset, { batchSize: 2 }))).toEqual([
      [
        {
          shape: [2, 2],
          dtype: "float32",
          data: [
            [2, 4],
            [6, 8],
          ],
        },
      ],
      [{ shape: [1, 2], dtype: "float32", data: [[10, 12]] }],
    ]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe("DataLoader's numWorkers (PyTorch's num_workers)", () => {
  it("takes 0, and names the spelling and why for other values", () => {
    const { dataset, x, y } = table(4);
    expect(new DataLoader(dataset, { numWorkers: 0 }).length).toBe(4);
    expect(() => new DataLoader(dataset, { num_workers: 4 } as never)).toThrow(
      /unknown option 'num_workers' \(did you mean 'numWorkers'\?\)/,
    );
    expect(() => new DataLoader(dataset, { numWorkers: 4 })).toThrow(
      /DataLoader: numWorkers 4 is not supported: batches are built in this process \(numWorkers 0\); leave it out/,
    );
    tf.dispose([x, y]);
  });
});
