import { tf } from "../runtime/tfjs";

/**
 * The tensors of a value tree (tensors inside arrays and plain objects, as a module's forward may take or
 * return them), in a fixed order.
 */
export function tensorLeaves(value: unknown, out: tf.Tensor[] = []): tf.Tensor[] {
  if (value instanceof tf.Tensor) out.push(value);
  else if (Array.isArray(value)) for (const v of value) tensorLeaves(v, out);
  else if (isPlainObject(value)) for (const v of Object.values(value)) tensorLeaves(v, out);
  return out;
}

/** The value tree with its tensors replaced, in {@link tensorLeaves}' order, by `replacements`. */
export function replaceTensorLeaves(value: unknown, replacements: tf.Tensor[]): unknown {
  let next = 0;
  const walk = (v: unknown): unknown => {
    if (v instanceof tf.Tensor) return replacements[next++];
    if (Array.isArray(v)) return v.map(walk);
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
