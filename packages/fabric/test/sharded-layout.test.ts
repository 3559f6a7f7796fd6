import { FulmenError, nn, Parameter, tf } from "@fulmen/core";
import { describe, expect, it } from "vitest";
import { assignParameters, FlatShard } from "../src/index";
import { HostArrayPool } from "../src/strategies/sharded/host-array-pool";
import { HostStaging } from "../src/strategies/sharded/host-staging";

describe("FlatShard (ZeRO's partition of a flat, padded buffer)", () => {
  it("splits parameters of uneven sizes into equal shards, padding the last, and maps values both ways", () => {
    const params = [new Parameter(tf.range(0, 5)), new Parameter(tf.reshape(tf.range(5, 11), [2, 3]))];
    const shards = [0, 1, 2, 3].map((rank) => new FlatShard(params, rank, 4));
    expect(shards[0]!.shardSize).toBe(3);
    expect(shards[0]!.paddedNumel).toBe(12);
    const values = shards.map((s) => {
      const t = s.shardOf((p) => p.data);
      const out = Array.from(t.dataSync());
      t.dispose();
      return out;
    });
    expect(values).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
      [9, 10, 0],
    ]);
    const flat = shards[0]!.flatten((p) => p.data);
    expect(Array.from(flat)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0]);
    const seen: number[][] = [];
    shards[0]!.unflatten(
      flat.map((v) => v * 2),
      (p, v) => {
        expect(v.shape).toEqual(p.shape);
        seen.push(Array.from(v.dataSync()));
      },
    );
    expect(seen).toEqual([
      [0, 2, 4, 6, 8],
      [10, 12, 14, 16, 18, 20],
    ]);
    for (const p of params) p.data.dispose();
  });
});

describe("FlatShard pieces", () => {
  it("says where each parameter's part of this rank's shard sits", () => {
    const params = [new Parameter(tf.range(0, 5)), new Parameter(tf.range(5, 11))];
    const layout = new FlatShard(params, 1, 4);
    expect(layout.pieces.map(({ from, length, at }) => [from, length, at])).toEqual([
      [3, 2, 0],
      [0, 1, 2],
    ]);
    expect(layout.pieces.map((p) => p.param)).toEqual(params);
    for (const p of params) p.dispose();
  });
});

class Pair extends nn.Module {
  a = new nn.Linear(2, 2);
  b = new nn.Linear(2, 2);
  forward(x: tf.Tensor): tf.Tensor {
    return this.b.forward(this.a.forward(x));
  }
}

describe("assignParameters (which sharding unit owns which parameter)", () => {
  it("gives each parameter to the innermost unit holding it, and the rest to the root", () => {
    const root = new nn.Sequential(new Pair(), new nn.Linear(2, 1));
    const pair = root.children()[0] as Pair;
    const { units, rootParams } = assignParameters(root, [pair, pair.b]);
    expect(units.map((u) => u.name)).toEqual(["0", "0.b"]);
    expect(units[0]!.owned).toEqual(pair.a.parameters());
    expect(units[1]!.owned).toEqual(pair.b.parameters());
    expect(rootParams).toEqual(root.children()[1]!.parameters());
    root.dispose();
  });

  it("gives a module shared by two units to the root", () => {
    const shared = new nn.Linear(2, 2);
    const first = new nn.Sequential(new nn.Linear(2, 2), shared);
    const second = new nn.Sequential(shared, new nn.Linear(2, 2));
    const root = new nn.Sequential(first, second);
    const { units, rootParams } = assignParameters(root, [first, second]);
    expect(rootParams).toEqual(shared.parameters());
    for (const unit of units) expect(unit.owned.some((p) => shared.parameters().includes(p))).toBe(false);
    root.dispose();
  });

  it("refuses the root as a unit and modules outside the model", () => {
    const root = new nn.Sequential(new nn.Linear(2, 2));
    expect(() => assignParameters(root, [root])).toThrow(FulmenError);
    expect(() => assignParameters(root, [new nn.Linear(1, 1)])).toThrow(/not part of the model/);
    root.dispose();
  });
});

describe("FlatShard.flatten into a reused array", () => {
  it("overwrites whatever the array held: values where given, zeros for missing tensors and the padding", () => {
    const params = [new Parameter(tf.range(0, 5)), new Parameter(tf.range(5, 11))];
    const layout = new FlatShard(params, 0, 4);
    const reused = new Float32Array(12).fill(7);
    const copied: number[] = [];
    const flat = layout.flatten(
      (p) => (p === params[0] ? null : p.data),
      reused,
      (t, target, offset) => {
        copied.push(offset);
        target.set(t.dataSync() as Float32Array, offset);
      },
    );
    expect(flat).toBe(reused);
    expect(Array.from(flat)).toEqual([0, 0, 0, 0, 0, 5, 6, 7, 8, 9, 10, 0]);
    expect(copied).toEqual([5]);
    expect(() => layout.flatten((p) => p.data, new Float32Array(11))).toThrow(
      /an array of 11 elements for a flat buffer of 12/,
    );
    for (const p of params) p.dispose();
  });
});

describe("HostArrayPool and HostStaging (the sharded strategies' host arrays)", () => {
  it("reuses a returned array of the same length, keeps no more than its limit", () => {
    const pool = new HostArrayPool();
    pool.maxBytes = 64;
    const a = pool.acquire(8);
    pool.release(a);
    expect(pool.acquire(4)).not.toBe(a); // by length
    expect(pool.acquire(8)).toBe(a);
    expect(pool.acquire(8)).not.toBe(a); // handed out once
    const big = pool.acquire(16);
    pool.release(a);
    pool.release(big); // 32 + 64 bytes: over the limit, left to the garbage collector
    expect(pool.acquire(16)).not.toBe(big);
    expect(pool.acquire(8)).toBe(a);
  });

  it("reads tensors through the accelerator's copyToHost and takes tensor arrays from its staging buffers", () => {
    const staged = new Float32Array(3);
    const reads: number[] = [];
    const staging = new HostStaging({
      copyToHost: (t, target, offset) => {
        reads.push(offset);
        target.set(t.dataSync() as Float32Array, offset);
      },
      stagingBuffer: (length) => (length === 3 ? staged : new Float32Array(length)),
    });
    const t = tf.tensor1d([1, 2, 3]);
    const out = staging.copyOut(t);
    expect(Array.from(out)).toEqual([1, 2, 3]);
    staging.scratch.maxBytes = 1024;
    staging.scratch.release(out);
    expect(staging.scratch.acquire(3)).toBe(out);
    expect(reads).toEqual([0]);
    expect(staging.tensorArray(3)).toBe(staged);
    // Without the accelerator's help: dataSync and new arrays.
    const plain = new HostStaging();
    const target = new Float32Array(4);
    plain.copy(t, target, 1);
    expect(Array.from(target)).toEqual([0, 1, 2, 3]);
    expect(plain.tensorArray(3)).not.toBe(staged);
    t.dispose();
  });
});
