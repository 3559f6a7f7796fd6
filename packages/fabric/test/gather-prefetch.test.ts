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

/**
 * {@link fakeCollective} that can also start an all-gather in the background: records when each gather starts
 * and when it is waited for ("start:<first value>", "wait:<first value>").
 */
function startingCollective(): Collective & { calls: number; events: string[] } {
  const base = fakeCollective();
  const events: string[] = [];
  const collective = Object.assign(base, {
    events,
    allGatherStart(data: Float32Array) {
      events.push(`start:${data[0]}`);
      const out = base.allGather(data);
      return {
        wait: () => {
          events.push(`wait:${data[0]}`);
          return out;
        },
      };
    },
  });
  return collective as unknown as Collective & { calls: number; events: string[] };
}

describe("GatherPrefetch with a collective that starts gathers in the background", () => {
  it("starts the next unit's gather before this unit computes and waits for it only when that unit asks; the same values", () => {
    const collective = startingCollective();
    const [a, b, c] = [unit(collective, [1, 2]), unit(collective, [3, 4, 5]), unit(collective, [6, 7])];
    const prefetch = new GatherPrefetch(collective);
    const plain = new GatherPrefetch(fakeCollective(), false);
    const pass = (p: GatherPrefetch) => [
      Array.from(p.forForward(a)),
      Array.from(p.forForward(b)),
      Array.from(p.forForward(c)),
      Array.from(p.forBackward(c)),
      Array.from(p.forBackward(b)),
      Array.from(p.forBackward(a)),
    ];
    const expected = pass(plain);
    plain.endStep();
    expect(pass(prefetch)).toEqual(expected);
    prefetch.endStep();
    expect(collective.events).toEqual([]); // the first step learns the order
    const second = pass(prefetch);
    expect(second).toEqual(expected);
    // Forward: a gathered at once and b started, b waited for at its turn and c started, c waited for. Backward
    // (units in reverse): c gathered at once and b started, b waited for and a started, a waited for.
    expect(collective.events).toEqual([
      "start:3",
      "wait:3",
      "start:6",
      "wait:6",
      "start:3",
      "wait:3",
      "start:1",
      "wait:1",
    ]);
    prefetch.endStep();
  });

  it("waits for a started gather that was not used, and refuses a copy made before the values changed", () => {
    const collective = startingCollective();
    const [a, b] = [unit(collective, [1, 2]), unit(collective, [3, 4])];
    const prefetch = new GatherPrefetch(collective);
    prefetch.forForward(a);
    prefetch.forForward(b);
    prefetch.endStep();
    expect(Array.from(prefetch.forForward(a))).toEqual([1, 101]);
    expect(collective.events).toEqual(["start:3"]);
    b.setValues(tf.tensor1d([9]));
    expect(Array.from(prefetch.forForward(b))).toEqual([9, 109]);
    expect(collective.events).toEqual(["start:3", "wait:3"]);
    prefetch.endStep();
    // A step whose last unit was started but never asked for: endStep waits for it.
    prefetch.forForward(a);
    expect(collective.events.at(-1)).toBe("start:9");
    prefetch.endStep();
    expect(collective.events.at(-1)).toBe("wait:9");
  });
});

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
