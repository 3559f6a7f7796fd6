import { type Accelerator, type Collective, Parameter, type ReduceOp, tf } from "@fulmen/core";
import { afterAll, describe, expect, it } from "vitest";
import { WasmAccelerator } from "../src/index";
import { GradientReducer } from "../src/strategies/ddp/gradient-reducer";

/** A world of two whose other rank always contributes 10 to every element (the reducer uses nothing else). */
function pairWithConstantPeer(): Collective & { calls: number } {
  const fake = {
    rank: 0,
    worldSize: 2,
    calls: 0,
    allReduce(data: Float32Array, op: ReduceOp): void {
      expect(op).toBe("mean");
      fake.calls++;
      for (let i = 0; i < data.length; i++) data[i] = (data[i]! + 10) / 2;
    },
  };
  return fake as unknown as Collective & { calls: number };
}

function paramsWithGrads(values: number[][]): Parameter[] {
  return values.map((v) => {
    const p = new Parameter(tf.zeros([v.length]));
    p.setGrad(tf.tensor1d(v));
    return p;
  });
}

/** Two reduction steps; returns the first step's gradients (kept by the caller) read after the second step. */
function twoSteps(accelerator: Pick<Accelerator, "copyToHost" | "uploadCopies">): {
  firstKept: number[][];
  second: number[][];
} {
  const collective = pairWithConstantPeer();
  const reducer = new GradientReducer(collective, 16, null, accelerator);
  // 16-byte buckets, filled in reverse parameter order: [third, second] and [first].
  const params = paramsWithGrads([[2, 4, 6], [8], [0, 0, 2]]);
  reducer.allReduce(params);
  expect(collective.calls).toBe(2);
  const expected = params.map((p) => Array.from(p.grad!.dataSync()));
  // Clones share the reduced gradients' memory, as a user's reference to a gradient would.
  const firstViews = params.map((p) => tf.keep(p.grad!.clone()));
  for (const [i, p] of params.entries()) p.setGrad(tf.fill([p.size], 20 + i));
  reducer.allReduce(params);
  const out = {
    firstKept: firstViews.map((t) => Array.from(t.dataSync())),
    second: params.map((p) => Array.from(p.grad!.dataSync())),
  };
  expect(out.firstKept).toEqual(expected);
  for (const t of firstViews) t.dispose();
  for (const p of params) p.dispose();
  return out;
}

describe("GradientReducer", () => {
  afterAll(async () => {
    await tf.setBackend("cpu");
  });

  it("averages each bucket; on the cpu backend (tensors share arrays) a kept gradient survives the next step", async () => {
    await tf.setBackend("cpu");
    const { firstKept, second } = twoSteps({});
    expect(firstKept).toEqual([[6, 7, 8], [9], [5, 5, 6]]);
    expect(second).toEqual([[15, 15, 15], [15.5], [16, 16, 16]]);
  });

  it("on wasm, reads gradients from the heap and reuses its bucket buffers, and results stay right", async () => {
    const wasm = new WasmAccelerator();
    await wasm.setup();
    const probe = tf.tensor1d([1.5, -2, 3]);
    const target = new Float32Array(5);
    wasm.copyToHost(probe, target, 1);
    expect(Array.from(target)).toEqual([0, 1.5, -2, 3, 0]);
    probe.dispose();
    const { firstKept, second } = twoSteps(wasm);
    expect(firstKept).toEqual([[6, 7, 8], [9], [5, 5, 6]]);
    expect(second).toEqual([[15, 15, 15], [15.5], [16, 16, 16]]);
  });

  it("a buffer reused where tensors share arrays would corrupt kept gradients (what uploadCopies guards)", async () => {
    await tf.setBackend("cpu");
    // The cpu backend keeps the array it is given: claiming it copies must show up as a corrupted first step.
    expect(() => twoSteps({ uploadCopies: true })).toThrow();
  });
});
