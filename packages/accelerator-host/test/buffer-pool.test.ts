import { tf } from "@fulmen/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOST_BACKEND, HostAccelerator, type HostEngineBackend } from "../src";
import { BufferPool } from "../src/buffer-pool";

const backend = () => tf.backend() as unknown as HostEngineBackend;

describe("BufferPool", () => {
  it("reuses an array once its last user is gone, never one a view still uses, never one that escaped", () => {
    const pool = new BufferPool(1 << 20);
    const a = pool.allocate(Float32Array, 8);
    pool.retain(a);
    const view = a.subarray(2, 4);
    pool.retain(view);
    pool.release(a);
    expect(pool.allocate(Float32Array, 8)).not.toBe(a); // the view still uses the memory
    pool.release(view);
    expect(pool.bytesPooled).toBe(32); // the last user was a view: the whole array returns
    expect(pool.allocate(Float32Array, 8)).toBe(a);
    const b = pool.allocate(Float32Array, 16);
    pool.retain(b);
    pool.release(b);
    expect(pool.bytesPooled).toBe(64);
    expect(pool.allocate(Int32Array, 16)).not.toBe(b); // kept by type and length
    expect(pool.allocate(Float32Array, 16)).toBe(b);
    const c = pool.allocate(Float32Array, 4);
    pool.retain(c);
    pool.escape(c);
    pool.release(c);
    expect(pool.allocate(Float32Array, 4)).not.toBe(c);
  });

  it("keeps no more than its limit", () => {
    const pool = new BufferPool(100);
    for (const n of [16, 16]) {
      const a = pool.allocate(Float32Array, n);
      pool.retain(a);
      pool.release(a);
    }
    expect(pool.bytesPooled).toBe(64);
  });
});

describe("the host engine's recycled outputs", () => {
  beforeAll(async () => {
    await new HostAccelerator().setup();
    expect(tf.getBackend()).toBe(HOST_BACKEND);
  });
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  it("recycles a disposed output for the next kernel of the same size", () => {
    const x = tf.tensor1d([1, 2, 3, 4, 5, 6]);
    const first = tf.exp(x);
    const firstValues = backend().floats(first);
    first.dispose();
    expect(backend().pooledBytes).toBeGreaterThan(0);
    const second = tf.neg(x);
    expect(backend().floats(second)).toBe(firstValues);
    expect(Array.from(second.dataSync())).toEqual([-1, -2, -3, -4, -5, -6]);
    tf.dispose([x, second]);
  });

  it("values read with dataSync stay as read after the tensor is disposed and other kernels run", () => {
    const x = tf.tensor1d([1, 2, 3, 4]);
    const y = tf.mul(x, 2);
    const read = y.dataSync();
    y.dispose();
    const others = Array.from({ length: 4 }, () => tf.mul(x, -7));
    expect(Array.from(read)).toEqual([2, 4, 6, 8]);
    tf.dispose([x, ...others]);
  });

  it("a slice that shares an output's memory survives the output's disposal", () => {
    const x = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const doubled = tf.mul(x, 2);
    // tfjs's CPU Slice returns a view on its input's memory for a contiguous block of rows.
    const row = tf.slice(doubled, [1, 0], [1, 3]);
    doubled.dispose();
    const others = Array.from({ length: 4 }, () => tf.mul(x, -1));
    expect(Array.from(row.dataSync())).toEqual([8, 10, 12]);
    tf.dispose([x, row, ...others]);
  });

  it("DDP staging: a bucket comes from the pool and returns once the gradients viewing it are gone", () => {
    const accelerator = new HostAccelerator();
    const bucket = accelerator.stagingBuffer(6);
    bucket.set([1, 2, 3, 4, 5, 6]);
    const first = tf.tensor(bucket.subarray(0, 2), [2]);
    const second = tf.tensor(bucket.subarray(2, 6), [2, 2]);
    const kept = tf.clone(second);
    first.dispose();
    second.dispose();
    expect(accelerator.stagingBuffer(6)).not.toBe(bucket); // the clone still uses it
    expect(Array.from(kept.dataSync())).toEqual([3, 4, 5, 6]);
    kept.dispose(); // read with dataSync: it left the backend, so it never returns
    expect(accelerator.stagingBuffer(6)).not.toBe(bucket);

    const again = accelerator.stagingBuffer(4);
    const view = tf.tensor(again.subarray(1, 3), [2]);
    const target = new Float32Array(3);
    accelerator.copyToHost(view, target, 1); // an in-place read, not an escape
    expect(Array.from(target)).toEqual([0, again[1], again[2]]);
    view.dispose();
    expect(accelerator.stagingBuffer(4)).toBe(again);
  });

  it("reshapes and clones share one stored array: it returns only after the last of them", () => {
    const x = tf.tensor1d([1, 2, 3, 4]);
    const y = tf.add(x, 1);
    const reshaped = tf.reshape(y, [2, 2]);
    const clone = tf.clone(y);
    y.dispose();
    reshaped.dispose();
    const other = tf.sub(x, 100);
    expect(Array.from(clone.dataSync())).toEqual([2, 3, 4, 5]);
    tf.dispose([x, clone, other]);
  });
});
