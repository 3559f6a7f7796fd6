import { Parameter } from "../../autograd/parameter";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { describeValue } from "../../utils/options";
import { Module } from "../module";

/** A transformer layer's feed-forward activation: PyTorch's names, a function of a tensor, or a module. */
export type TransformerActivation = "relu" | "gelu" | ((x: tf.Tensor) => tf.Tensor) | Module;

/** The activation as a function; a module is called through its forward. */
export function resolveActivation(
  owner: string,
  activation: TransformerActivation,
): (x: tf.Tensor) => tf.Tensor {
  if (activation === "relu") return tf.relu;
  // PyTorch's F.gelu: the exact (erf) form.
  if (activation === "gelu") return (x) => tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  if (activation instanceof Module) return (x) => (activation.forward as (x: tf.Tensor) => tf.Tensor)(x);
  if (typeof activation === "function") return activation;
  throw new FulmenError(
    `${owner}: activation must be "relu", "gelu", a function of a tensor or a module, got ${describeValue(activation)}.`,
  );
}

/**
 * A deep copy of `module`, as Python's `copy.deepcopy` makes it (what PyTorch's TransformerEncoder and
 * TransformerDecoder do to their layer): the same class with fresh copies of every parameter, buffer and child
 * module, plain data (arrays, maps, objects) copied, and functions and other class instances (a random
 * generator) shared.
 */
export function deepCopyModule<M extends Module>(module: M): M {
  return copyValue(module, new Map()) as M;
}

function copyValue(value: unknown, memo: Map<unknown, unknown>): unknown {
  if (value === null || typeof value !== "object") return value; // primitives and functions are shared
  const seen = memo.get(value);
  if (seen !== undefined) return seen;
  if (value instanceof Parameter) {
    const p = value.copy();
    memo.set(value, p);
    return p;
  }
  if (value instanceof tf.Tensor) {
    const t = tf.keep(tf.clone(value));
    memo.set(value, t);
    return t;
  }
  if (value instanceof Map) {
    const m = new Map();
    memo.set(value, m);
    for (const [k, v] of value) m.set(copyValue(k, memo), copyValue(v, memo));
    return m;
  }
  if (value instanceof Set) {
    const s = new Set();
    memo.set(value, s);
    for (const v of value) s.add(copyValue(v, memo));
    return s;
  }
  if (Array.isArray(value)) {
    const a: unknown[] = [];
    memo.set(value, a);
    for (const v of value) a.push(copyValue(v, memo));
    return a;
  }
  const proto = Object.getPrototypeOf(value) as object | null;
  // Other class instances (a Dropout's random generator) are shared: the copies draw from the same stream.
  if (proto !== Object.prototype && proto !== null && !(value instanceof Module)) return value;
  const copy = Object.create(proto) as Record<string, unknown>;
  memo.set(value, copy);
  for (const key of Object.keys(value)) {
    Object.defineProperty(copy, key, {
      value: copyValue((value as Record<string, unknown>)[key], memo),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}
