import { createRequire } from "node:module";
import { beforeAll, describe, expect, it } from "vitest";

// Both builds of core in one process, as a `require()` user whose plugin package is `import()`ed gets them: the
// ES module build (dist/index.js, dist/plugin.js) and the CommonJS build (dist/index.cjs, dist/plugin.cjs), each
// with its own module variables; each build's two entries (the user API and `@fulmen/core/plugin`) share them.
type Core = typeof import("../src/index") & typeof import("../src/plugin");
let esm: Core;
let cjs: Core;
let esmEntries: [Record<string, unknown>, Record<string, unknown>];
let cjsEntries: [Record<string, unknown>, Record<string, unknown>];

beforeAll(async () => {
  // Computed paths: the typecheck runs before the build, so the compiler must not look for dist/ itself.
  const esmBuild = ["../dist/index.js", "../dist/plugin.js"];
  esmEntries = [await import(/* @vite-ignore */ esmBuild[0]!), await import(/* @vite-ignore */ esmBuild[1]!)];
  const require = createRequire(import.meta.url);
  cjsEntries = [require("../dist/index.cjs"), require("../dist/plugin.cjs")];
  esm = { ...esmEntries[0], ...esmEntries[1] } as Core;
  cjs = { ...cjsEntries[0], ...cjsEntries[1] } as Core;
});

const info = { description: "a probe", packageName: "dual-build-test" };

describe("the ES module and CommonJS builds of core share one process-wide state", () => {
  it("are two copies of the code, each with one copy behind its two entries", () => {
    expect(esm.PluginRegistry).not.toBe(cjs.PluginRegistry);
    expect(esm.acceleratorRegistry).not.toBe(cjs.acceleratorRegistry);
    for (const [user, plugin] of [esmEntries, cjsEntries]) {
      for (const name of ["Strategy", "Precision", "SingleProcessCollective", "LightningEnvironment"])
        expect(plugin[name], name).toBe(user[name]);
      // Classes keep their names in both builds (the CommonJS chunks are rewritten from the ES ones).
      for (const name of ["FulmenError", "Generator", "Module", "AdamW", "Strategy"])
        expect((user[name] ?? plugin[name]) as { name: string }, name).toHaveProperty("name", name);
      expect((user.nn as { Linear: { name: string } }).Linear.name).toBe("Linear");
      // The plugin authors' API is not in the user API.
      expect(user.acceleratorRegistry).toBeUndefined();
      expect(plugin.acceleratorRegistry).toBeDefined();
    }
  });

  it("see each other's plugins in every registry", () => {
    const pairs = [
      [cjs.acceleratorRegistry, esm.acceleratorRegistry],
      [esm.strategyRegistry, cjs.strategyRegistry],
      [cjs.precisionRegistry, esm.precisionRegistry],
      [esm.collectiveRegistry, cjs.collectiveRegistry],
    ] as const;
    for (const [registering, reading] of pairs) {
      const made = { made: registering.kind };
      (registering as { register(n: string, f: () => unknown, i: typeof info): void }).register(
        "dual-build-probe",
        () => made,
        info,
      );
      expect(reading.has("dual-build-probe")).toBe(true);
      expect(reading.create("dual-build-probe")).toBe(made);
      expect(reading.list().map((e) => e.name)).toContain("dual-build-probe");
    }
    cjs.strategyRegistry.knownIn("dual-build-elsewhere", { packageName: "pkg-x", note: "install pkg-x" });
    expect(() => esm.strategyRegistry.create("dual-build-elsewhere")).toThrow(/provided by pkg-x/);
  });

  it("keep a registry made without a shared store to itself", () => {
    const own = new cjs.PluginRegistry<number>("accelerator");
    own.register("dual-build-own", () => 1, info);
    expect(esm.acceleratorRegistry.has("dual-build-own")).toBe(false);
    expect(new esm.PluginRegistry<number>("accelerator").has("dual-build-own")).toBe(false);
  });

  it("share the backend features a plugin declares", () => {
    cjs.declareBackendFeatures("dual-build-backend", { channelsFirst: true });
    expect(esm.backendFeatures("dual-build-backend").channelsFirst).toBe(true);
  });

  it("share the autocast region and the half marks of tensors", () => {
    const format = { dtype: "bfloat16" as const, round: (t: InstanceType<typeof esm.tf.Tensor>) => t };
    const state = { format, mode: "mixed" as const };
    const seen = esm.withAutocast(state, () => cjs.currentAutocast());
    expect(seen).toBe(state);
    expect(cjs.currentAutocast()).toBeNull();
    const t = esm.tf.scalar(1);
    cjs.markHalf(t, format);
    expect(esm.halfFormatOf(t)).toBe(format);
    t.dispose();
  });

  it("share PyTorch's one default generator", () => {
    esm.manualSeed(123);
    expect(cjs.getDefaultGenerator()).toBe(esm.getDefaultGenerator());
    expect(cjs.getDefaultGenerator().nextUint32()).toBe(new esm.Generator(123).nextUint32());
  });

  it("recognise each other's FulmenErrors", () => {
    expect(new cjs.FulmenError("from CommonJS")).toBeInstanceOf(esm.FulmenError);
    expect(new esm.FulmenError("from ESM") instanceof cjs.FulmenError).toBe(true);
    expect(new Error("plain") instanceof esm.FulmenError).toBe(false);
    expect((null as unknown) instanceof esm.FulmenError).toBe(false);
  });
});
