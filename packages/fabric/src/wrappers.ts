import type { Module, Optimizer, Precision, Strategy } from "@fulmen/core";

const SET_UP = Symbol("fulmen.setUp");

function bindTo<T extends object>(target: T, prop: string | symbol): unknown {
  const value = Reflect.get(target, prop, target);
  return typeof value === "function" ? value.bind(target) : value;
}

/**
 * The module as Fabric hands it back (Lightning's `_FabricModule`): the same object to the user, whose
 * `forward` runs under the precision's forward context.
 */
export function wrapModule<M extends Module>(module: M, precision: Precision): M {
  return new Proxy(module, {
    get(target, prop) {
      if (prop === SET_UP) return true;
      if (prop === "forward") {
        return (...inputs: never[]) => precision.forwardContext(() => target.forward(...inputs));
      }
      return bindTo(target, prop);
    },
  });
}

/**
 * The optimizer as Fabric hands it back (Lightning's `_FabricOptimizer`): `step()` goes through the strategy
 * (and so the precision's loss scaling) and then fires the callbacks' `onAfterOptimizerStep`.
 */
export function wrapOptimizer<O extends Optimizer>(
  optimizer: O,
  strategy: Strategy,
  afterStep: (o: O) => void,
): O {
  return new Proxy(optimizer, {
    get(target, prop) {
      if (prop === SET_UP) return true;
      if (prop === "step") {
        return () => {
          const taken = strategy.optimizerStep(target);
          afterStep(target);
          return taken;
        };
      }
      return bindTo(target, prop);
    },
  });
}

/** Whether an object was returned by Fabric's setup. */
export function isSetUp(value: object): boolean {
  return (value as Record<symbol, unknown>)[SET_UP] === true;
}
