import { type Collective, Parameter, tf } from "@fulmen/core";
import { describe, expect, it } from "vitest";
import { FlatParameter } from "../src/index";
import { GatherPrefetch } from "../src/strategies/sharded/gather-prefetch";

/** Rank 0 of two, whose peer's shard holds its own values plus 100; counts the all-gather calls. */
function fakeCollective(): Collective & { calls: number } {
  const collective = {
    rank: 0,
    worldSize: 2,
    calls: 0,
    allGather(data: Float32Array) {
      collective.calls++;
      const out = new Float32Array(2 * data.length);
      out.set(data, 0);
      out.set(
        data.map((v) => v + 100),
        data.length,
      );
      return out;
    },
  };
  return collective as unknown as Collective & { calls: number };
}

function unit(collective: Collective, values: number[]): FlatParameter {
  const flat = new FlatParameter([new Parameter(tf.tensor1d(values))], collective, "a test unit");
  flat.shardValues();
  return flat;
}

describe("GatherPrefetch (the next unit gathered in the same call)", () => {
  it("learns the order from a step, then gathers each next unit with the current one: half the calls, the same values", () => {
    const collective = fakeCollective();
    const [a, b, c] = [unit(collective, [1, 2]), unit(collective, [3, 4, 5]), unit(collective, [6, 7])];
    const prefetch = new GatherPrefetch(collective);
    const pass = () => [
      Array.from(prefetch.forForward(a)),
      Array.from(prefetch.forForward(b)),
      Array.from(prefetch.forForward(c)),
      Array.from(prefetch.forBackward(c)),
      Array.from(prefetch.forBackward(b)),
      Array.from(prefetch.forBackward(a)),
    ];
    const first = pass();
    prefetch.endStep();
    expect(collective.calls).toBe(6);
    // Rank 0's shard, then the peer's (its values + 100 here): b's 3 values pad to 4, 2 a rank.
    expect(first[0]).toEqual([1, 101]);
    expect(first[1]).toEqual([3, 4, 103, 104]);
    collective.calls = 0;
    const second = pass();
    prefetch.endStep();
    expect(second).toEqual(first);
    // Forward: (a, b) then c alone; backward: (c, b) then a alone.
    expect(collective.calls).toBe(4);
  });

  it("never hands out values gathered before they changed (an optimizer step between)", () => {
    const collective = fakeCollective();
    const [a, b] = [unit(collective, [1, 2]), unit(collective, [3, 4])];
    const prefetch = new GatherPrefetch(collective);
    prefetch.forForward(a);
    prefetch.forForward(b);
    prefetch.endStep();
    expect(Array.from(prefetch.forForward(a))).toEqual([1, 101]);
    // b came with a; its values change before its turn.
    b.setValues(tf.tensor1d([9]));
    expect(Array.from(prefetch.forForward(b))).toEqual([9, 109]);
    prefetch.endStep();
  });
});
