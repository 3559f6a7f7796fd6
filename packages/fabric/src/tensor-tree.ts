import { tf } from "@fulmen/core";

/** A tensor, a number, or arrays and plain objects of them (what Fabric's collectives accept, as Lightning's do). */
export type TensorTree = tf.Tensor | number | TensorTree[] | { [key: string]: TensorTree };

/** What a {@link TensorTree} becomes after a collective: the same shape of containers, with tensors as leaves. */
export type TensorTreeResult<T> = T extends tf.Tensor | number
  ? tf.Tensor
  : T extends Array<infer E>
    ? Array<TensorTreeResult<E>>
    : { [K in keyof T]: TensorTreeResult<T[K]> };

/**
 * Applies `fn` to every leaf of `tree` (numbers become float32 scalars first), keeping the containers' shape. The
 * leaves are visited in a fixed order (array order, then object keys in insertion order), so every process
 * issues its collectives in the same order.
 */
export function mapTensorTree<T extends TensorTree>(
  tree: T,
  fn: (t: tf.Tensor) => tf.Tensor,
): TensorTreeResult<T> {
  const visit = (node: TensorTree): unknown => {
    if (node instanceof tf.Tensor) return fn(node);
    if (typeof node === "number") {
      const scalar = tf.scalar(node);
      try {
        return fn(scalar);
      } finally {
        scalar.dispose();
      }
    }
    if (Array.isArray(node)) return node.map(visit);
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, visit(v)]));
  };
  return visit(tree) as TensorTreeResult<T>;
}
