/**
 * State that must exist once per process, however many copies of this package are loaded.
 *
 * Every Fulmen package ships an ES module build and a CommonJS build, and a process can load both (a `require()`
 * user whose plugin package is `import()`ed, or two versions side by side): each copy has its own module-level
 * variables, so a plugin registering into one copy's registry is invisible to the other (`Unknown collective
 * backend "gloo". Valid names: .`). State kept here lives on the global object under a `Symbol.for` key, which
 * every copy and realm of the process resolves to the same symbol; tfjs keeps its engine and registries on the
 * global object for the same reason.
 */

import { FulmenError } from "../utils/errors";

const NAMESPACE = "@fulmen/core";

/**
 * The value stored under `key` for this whole process, made by `create` the first time any copy asks.
 *
 * `key` names the state and ends in the version of its layout (`"plugins/accelerator@1"`): bump the version
 * when the stored value's shape or meaning changes, so that copies of different layouts keep apart instead of
 * misreading each other's state.
 */
export function processWide<T>(key: string, create: () => T): T {
  if (!/@\d+$/.test(key))
    throw new FulmenError(`processWide key "${key}" must end in its layout version: use "${key}@1".`);
  const symbol = Symbol.for(`${NAMESPACE}/${key}`);
  const holder = globalThis as unknown as Record<symbol, T | undefined>;
  const existing = holder[symbol];
  if (existing !== undefined) return existing;
  const value = create();
  // Not enumerable (it stays out of listings of globalThis) and not replaceable: every copy must keep seeing
  // the one value it was first given.
  Object.defineProperty(holder, symbol, { value, enumerable: false, writable: false, configurable: false });
  return value;
}

/**
 * Runs `fn` with `holder[key]` set to `value`, restoring the previous value after (a region that nests, such as
 * autocast's): the process-wide state of a region, set and undone in one place.
 */
export function withSetting<H extends object, K extends keyof H, T>(
  holder: H,
  key: K,
  value: H[K],
  fn: () => T,
): T {
  const previous = holder[key];
  holder[key] = value;
  try {
    return fn();
  } finally {
    holder[key] = previous;
  }
}

/**
 * Runs `fn` with `counter.depth` raised by one (restored however `fn` ends): the process-wide "inside such a
 * region" flags (deferred initialisation, materialisation, recomputation) nest this way.
 */
export function withDepth<T>(counter: { depth: number }, fn: () => T): T {
  counter.depth += 1;
  try {
    return fn();
  } finally {
    counter.depth -= 1;
  }
}
