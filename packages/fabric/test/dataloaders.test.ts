import { DataLoader, type Dataset, Generator, manualSeed, nn, tf } from "@fulmen/core";
import { describe, expect, it } from "vitest";
import { Fabric, SingleDeviceStrategy } from "../src/index";

const items: Dataset<{ x: number[]; y: number }> = { length: 10, get: (i) => ({ x: [i], y: i % 2 }) };
/** Each batch's x values, read while the batch is current (Fabric's loader releases it when the next is drawn). */
const xsOf = (loader: Iterable<unknown>) => {
  const out: number[][] = [];
  for (const b of loader) out.push(Array.from((b as { x: tf.Tensor }).x.dataSync()));
  return out;
};

/** The view one rank of a two-process run has; its collectives are not needed here. */
class SecondOfTwo extends SingleDeviceStrategy {
  override get worldSize(): number {
    return 2;
  }
  override get globalRank(): number {
    return 1;
  }
}

describe("fabric.setupDataloaders", () => {
  it("keeps a single process's batches as they were, reshuffling each epoch", () => {
    const fabric = new Fabric({ accelerator: "cpu" });
    const loader = fabric.setupDataloaders(
      new DataLoader(items, { batchSize: 4, shuffle: true, generator: new Generator(3) }),
    );
    expect(loader.length).toBe(3);
    const first = xsOf(loader).flat();
    const second = xsOf(loader).flat();
    expect([...first].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(second).not.toEqual(first);
    const plain = fabric.setupDataloaders(new DataLoader(items, { batchSize: 4 }));
    expect(xsOf(plain)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
  });

  it("gives each of several processes its shard through a DistributedSampler", () => {
    const fabric = new Fabric({ accelerator: "cpu", devices: 2, strategy: new SecondOfTwo() });
    const [a, b] = fabric.setupDataloaders(
      new DataLoader(items, { batchSize: 2 }),
      new DataLoader(items, { batchSize: 5 }),
    );
    expect(xsOf(a)).toEqual([[1, 3], [5, 7], [9]]);
    expect(xsOf(b)).toEqual([[1, 3, 5, 7, 9]]);
    const shuffled = fabric.setupDataloaders(new DataLoader(items, { batchSize: 5, shuffle: true }));
    const epoch0 = xsOf(shuffled).flat();
    const epoch1 = xsOf(shuffled).flat();
    expect(epoch0).toHaveLength(5);
    expect(epoch1).not.toEqual(epoch0);
    const unsharded = fabric.setupDataloaders(new DataLoader(items, { batchSize: 10 }), {
      useDistributedSampler: false,
    });
    expect(xsOf(unsharded).flat()).toHaveLength(10);
  });

  it("initModule converts a new module to the precision at once; toDevice returns its argument", () => {
    const fabric = new Fabric({ accelerator: "cpu", precision: "bf16-true" });
    const model = fabric.initModule(() => new nn.Linear(8, 8));
    const bits = new Uint32Array(Float32Array.from(model.weight.data.dataSync()).buffer);
    expect(bits.every((b) => (b & 0xffff) === 0)).toBe(true);
    const t = tf.ones([2]);
    expect(fabric.toDevice(t)).toBe(t);
    expect(() => (fabric.setupDataloaders as (...a: unknown[]) => unknown)()).toThrow(
      /at least one DataLoader/,
    );
  });

  it("initModule({ emptyInit: true }) makes the module without values; setup gives it the eager initialisation", () => {
    const fabric = new Fabric({ accelerator: "cpu", precision: "bf16-true" });
    manualSeed(5);
    const eager = new nn.Linear(8, 8);
    manualSeed(5);
    const model = fabric.initModule(() => new nn.Linear(8, 8), { emptyInit: true });
    expect(model.weight.isDeferred).toBe(true);
    const set = fabric.setup(model);
    // Materialised (as eagerly seeded), then converted to the precision (bf16-true rounds the weights).
    const bits = new Uint32Array(Float32Array.from(set.weight.data.dataSync()).buffer);
    expect(bits.every((b) => (b & 0xffff) === 0)).toBe(true);
    const rounded = Array.from(eager.weight.data.dataSync()).map((v) => Math.fround(v));
    Array.from(set.weight.data.dataSync()).forEach((v, i) => {
      expect(Math.abs(v - rounded[i]!)).toBeLessThan(Math.abs(rounded[i]!) / 100 + 1e-6);
    });
    expect(() => fabric.initModule(() => 1, { emptyInit: true, empty: 1 } as never)).toThrow(/empty/);
    eager.dispose();
  });
});
