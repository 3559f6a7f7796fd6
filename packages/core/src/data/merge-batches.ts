import { tf } from "../runtime/tfjs";
import type { CollatedTree } from "./collate";

/**
 * One batch from parts built separately (each a `defaultCollate` result of some of the rows), with row `k` of the
 * result taken from row `order[k]` of the parts concatenated: tensors at the same place of every part are
 * concatenated along the first dimension and gathered. Returns null (nothing made) when the parts differ in
 * structure or in a leaf's dtype or row shape: `defaultCollate` of all the rows at once would then decide
 * differently (numbers become float32 when any one is fractional), so the caller collates items instead.
 */
export function mergeBatches(parts: readonly unknown[], order: readonly number[]): CollatedTree | null {
  if (!compatible(parts)) return null;
  const identity = order.every((v, i) => v === i);
  return tf.tidy(() => merge(parts as CollatedTree[], order, identity));
}

function compatible(parts: readonly unknown[]): boolean {
  const first = parts[0];
  if (first instanceof tf.Tensor) {
    const { dtype, rank, shape } = first;
    return parts.every(
      (p) =>
        p instanceof tf.Tensor &&
        p.dtype === dtype &&
        p.rank === rank &&
        p.shape.slice(1).every((d: number, i: number) => d === shape[i + 1]),
    );
  }
  if (Array.isArray(first)) {
    if (!parts.every((p) => Array.isArray(p) && p.length === first.length)) return false;
    return first.every((_, i) => compatible(parts.map((p) => (p as unknown[])[i])));
  }
  if (first !== null && typeof first === "object") {
    const keys = Object.keys(first).sort().join("\u0000");
    if (
      !parts.every(
        (p) =>
          p !== null &&
          typeof p === "object" &&
          !Array.isArray(p) &&
          !(p instanceof tf.Tensor) &&
          Object.keys(p).sort().join("\u0000") === keys,
      )
    )
      return false;
    return Object.keys(first).every((k) => compatible(parts.map((p) => (p as Record<string, unknown>)[k])));
  }
  return false;
}

function merge(parts: CollatedTree[], order: readonly number[], identity: boolean): CollatedTree {
  const first = parts[0]!;
  if (first instanceof tf.Tensor) {
    const joined = parts.length === 1 ? (first as tf.Tensor).clone() : tf.concat(parts as tf.Tensor[], 0);
    return identity ? joined : tf.gather(joined, tf.tensor1d(order as number[], "int32"));
  }
  if (Array.isArray(first))
    return first.map((_, i) =>
      merge(
        parts.map((p) => (p as CollatedTree[])[i]!),
        order,
        identity,
      ),
    );
  const out: Record<string, CollatedTree> = {};
  for (const key of Object.keys(first))
    out[key] = merge(
      parts.map((p) => (p as Record<string, CollatedTree>)[key]!),
      order,
      identity,
    );
  return out;
}
