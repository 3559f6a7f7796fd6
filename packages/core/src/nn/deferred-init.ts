import type { Parameter } from "../autograd/parameter";
import { processWide, withDepth } from "../runtime/process-wide";
import type { Module } from "./module";

// Whether a materialisation pass runs (once per process): initialisers skip parameters a sharding strategy has
// already sharded, which a parent's resetParameters may reach (MultiheadAttention resets its outProj's bias).
const pass = processWide("nn/materializing@1", () => ({ depth: 0 }));

/** Whether {@link materializeDeferred} (or a strategy's unit-by-unit setup) is running. */
export function isMaterializing(): boolean {
  return pass.depth > 0;
}

/**
 * Runs `fn` as a materialisation pass (see {@link isMaterializing}); sharding strategies wrap their unit-by-unit
 * setup of a deferred model in it.
 */
export function materializing<T>(fn: () => T): T {
  return withDepth(pass, fn);
}

/**
 * Gives one module's own deferred parameters their values: each gets the value it was created with, then the
 * module's `resetParameters()` (when it has one) draws its initialisation. Returns how many it materialised.
 */
export function materializeOwn(module: Module): number {
  const own = module.parameters(false).filter((p) => p.isDeferred);
  if (own.length === 0) return 0;
  for (const p of own) p.materialize();
  const reset = (module as { resetParameters?: () => void }).resetParameters;
  if (typeof reset === "function") materializing(() => reset.call(module));
  return own.length;
}

/**
 * Gives every deferred parameter of `module` (made under `fabric.initModule({ emptyInit: true })`) its value,
 * children before parents: the order in which the layers' constructors would have initialised them, so a
 * seeded model materialised here starts as the same model built eagerly. `visit` hears each module after its
 * own parameters are materialised (a sharding strategy shards a unit there). Returns how many parameters it
 * materialised.
 */
export function materializeDeferred(module: Module, visit?: (module: Module) => void): number {
  let count = 0;
  const seen = new Set<Module>();
  const walk = (m: Module): void => {
    if (seen.has(m)) return;
    seen.add(m);
    for (const child of m.children()) walk(child);
    count += materializeOwn(m);
    visit?.(m);
  };
  materializing(() => walk(module));
  return count;
}

/** Whether any parameter of `module` is deferred. */
export function hasDeferredParameters(module: Module): boolean {
  return module.parameters().some((p: Parameter) => p.isDeferred);
}
