import { describe, expect, it } from "vitest";
import { Generator, getDefaultGenerator, seedEverything } from "../src/index";

describe("Generator", () => {
  it("repeats a stream for a seed and differs between seeds", () => {
    const a = new Generator(7);
    const b = new Generator(7);
    const c = new Generator(8);
    const sa = Array.from({ length: 5 }, () => a.random());
    expect(Array.from({ length: 5 }, () => b.random())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.random())).not.toEqual(sa);
  });

  it("draws uniforms in [0, 1) and normals with the right moments", () => {
    const g = new Generator(1);
    const u = Array.from({ length: 20000 }, () => g.random());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const n = Array.from({ length: 20000 }, () => g.normal());
    const mean = n.reduce((s, v) => s + v, 0) / n.length;
    const variance = n.reduce((s, v) => s + (v - mean) ** 2, 0) / n.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });

  it("resumes from a saved state", () => {
    const g = new Generator(3);
    g.normal();
    const state = g.getState();
    const next = [g.normal(), g.random()];
    const h = new Generator(0);
    h.setState(state);
    expect([h.normal(), h.random()]).toEqual(next);
  });

  it("randperm is a permutation", () => {
    const p = new Generator(5).randperm(50);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("seedEverything seeds the default generator and exports PL_GLOBAL_SEED", () => {
    expect(seedEverything(123)).toBe(123);
    const first = getDefaultGenerator().random();
    seedEverything(123);
    expect(getDefaultGenerator().random()).toBe(first);
    expect(process.env.PL_GLOBAL_SEED).toBe("123");
  });
});
