import { describe, expect, it } from "vitest";
import { LightningEnvironment, SingleProcessCollective } from "../src/index";
import { PluginRegistry } from "../src/plugin";

describe("SingleProcessCollective", () => {
  it("is the identity for a world of one, with the right shapes", () => {
    const c = new SingleProcessCollective();
    const data = Float32Array.from([1, 2, 3]);
    c.allReduce(data, "sum");
    expect(Array.from(data)).toEqual([1, 2, 3]);
    const gathered = c.allGather(data);
    expect(Array.from(gathered)).toEqual([1, 2, 3]);
    expect(gathered).not.toBe(data);
    expect(() => c.broadcast(data, 1)).toThrow(/src 1 does not exist/);
    // Into the caller's arrays, when given.
    const into = new Float32Array(3);
    expect(c.allGather(data, into)).toBe(into);
    expect(Array.from(into)).toEqual([1, 2, 3]);
    const scattered = new Float32Array(3);
    expect(c.reduceScatterStart(data, "mean", undefined, scattered).wait()).toBe(scattered);
    expect(Array.from(scattered)).toEqual([1, 2, 3]);
    expect(() => c.allGather(data, new Float32Array(4))).toThrow(
      /allGather: the output array \(4 elements\) does not fit the result \(3 elements\)/,
    );
  });
});

describe("LightningEnvironment", () => {
  it("reads Lightning's variables, with its defaults", () => {
    const env = new LightningEnvironment(
      { MASTER_PORT: "29500", WORLD_SIZE: "4", NODE_RANK: "1", LOCAL_RANK: "1" },
      2,
    );
    expect([
      env.mainAddress(),
      env.mainPort(),
      env.worldSize(),
      env.nodeRank(),
      env.localRank(),
      env.globalRank(),
    ]).toEqual(["127.0.0.1", 29500, 4, 1, 1, 3]);
    expect(env.creatorIsExternal).toBe(true);
    expect(new LightningEnvironment({}).globalRank()).toBe(0);
    expect(() => new LightningEnvironment({}).mainPort()).toThrow(/MASTER_PORT is not set/);
    expect(() => new LightningEnvironment({ WORLD_SIZE: "two" }).worldSize()).toThrow(
      /WORLD_SIZE=two is not a non-negative integer/,
    );
  });
});

describe("PluginRegistry", () => {
  it("creates registered plugins and names the valid ones and where others live", () => {
    const registry = new PluginRegistry<{ id: string }>("widget");
    registry.register("a", () => ({ id: "a" }), { description: "the first", packageName: "pkg-a" });
    registry.knownIn("b", { packageName: "pkg-b" });
    expect(registry.create("a").id).toBe("a");
    expect(() => registry.create("b")).toThrow(/provided by pkg-b, which is not loaded: install pkg-b/);
    expect(() => registry.create("c")).toThrow(
      /Unknown widget "c". Valid names: "a" \(pkg-a\); from other packages: "b" \(pkg-b\)/,
    );
  });
});
