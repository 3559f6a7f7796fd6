import { FulmenError, type Module, type Optimizer, type Precision, type Strategy, tf } from "@fulmen/core";

const SET_UP = Symbol("fulmen.setUp");

const boundMethods = new WeakMap<object, Map<string | symbol, { fn: unknown; bound: unknown }>>();

/** The target's property, with methods bound to the target (cached, so a training step allocates nothing). */
function bindTo<T extends object>(target: T, prop: string | symbol): unknown {
  const value = Reflect.get(target, prop, target);
  // Classes (the constructor) stay as they are, so that `.constructor.name` and `instanceof` keep working.
  if (typeof value !== "function" || prop === "constructor") return value;
  let cache = boundMethods.get(target);
  if (cache === undefined) {
    cache = new Map();
    boundMethods.set(target, cache);
  }
  const hit = cache.get(prop);
  if (hit !== undefined && hit.fn === value) return hit.bound;
  const bound = value.bind(target);
  cache.set(prop, { fn: value, bound });
  return bound;
}

/**
 * The module as Fabric hands it back (Lightning's `_FabricModule`): the same object to the user, whose
 * `forward` converts tensor inputs to the precision, runs under its forward context (autocast), and converts a
 * tensor output back.
 */
export function wrapModule<M extends Module>(module: M, precision: Precision): M {
  const forward = (...inputs: unknown[]) => {
    const converted = inputs.map((x) => (x instanceof tf.Tensor ? precision.convertInput(x) : x));
    const output = precision.forwardContext(() => module.forward(...(converted as never[])));
    return output instanceof tf.Tensor ? precision.convertOutput(output) : output;
  };
  return new Proxy(module, {
    get(target, prop) {
      if (prop === SET_UP) return true;
      if (prop === "forward") return forward;
      return bindTo(target, prop);
    },
  });
}

/**
 * The optimizer as Fabric hands it back (Lightning's `_FabricOptimizer`): `step()` goes through the strategy
 * (and so the precision's loss scaling) and then fires the callbacks' `onAfterOptimizerStep`, returning whether
 * the step was taken. `step(closure)` hands the closure through the strategy and precision to the optimizer,
 * which may call it several times (LBFGS; the closure runs `fabric.backward`, so DDP averages the gradients of
 * every evaluation), and returns the closure's first result, as `optimizer.step(closure)` does.
 */
export function wrapOptimizer<O extends Optimizer>(
  optimizer: O,
  strategy: Strategy,
  afterStep: (o: O) => void,
): O {
  const step = (closure?: () => unknown) => {
    if (closure === undefined) {
      const taken = strategy.optimizerStep(optimizer);
      afterStep(optimizer);
      return taken;
    }
    if (typeof closure !== "function")
      throw new FulmenError(
        "optimizer.step(closure): the closure must be a function that clears the gradients, computes the loss with fabric.backward and returns it.",
      );
    let calls = 0;
    let first: unknown;
    const counted = () => {
      const result = closure();
      if (calls === 0) first = result;
      calls += 1;
      return result;
    };
    const taken = strategy.optimizerStep(optimizer, counted);
    // A strategy or precision plugin written before closures existed would step on stale gradients unnoticed.
    if (taken && calls === 0)
      throw new FulmenError(
        `optimizer.step(closure): the strategy "${strategy.name}" or its precision plugin stepped without calling the closure; its optimizerStep(optimizer, closure) must pass the closure on to optimizer.step(closure).`,
      );
    afterStep(optimizer);
    return first;
  };
  return new Proxy(optimizer, {
    get(target, prop) {
      if (prop === SET_UP) return true;
      if (prop === "step") return step;
      return bindTo(target, prop);
    },
  });
}

/** Whether an object was returned by Fabric's setup. */
export function isSetUp(value: object): boolean {
  return (value as Record<symbol, unknown>)[SET_UP] === true;
}
