import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL, fusedAttention } from "../fused-attention-kernels";
import { backendHasKernels } from "../fused-kernels";
import { dropout } from "./dropout";

/*
 * The attention arithmetic that scaledDotProductAttention and MultiheadAttention share; internal (not part
 * of nn.functional, which holds PyTorch's functions only).
 */

/**
 * `softmax(q·kᵀ·scale + bias) · v` over the last two dimensions, with optional dropout on the weights.
 * Returns the output and the (post-dropout) weights; `bias` is additive (0 or −∞ for masks); `causal` hides
 * from each query the keys after its position (PyTorch's `is_causal`); without `needWeights` the weights may be
 * null (the fused kernels then keep them for the gradient only).
 */
export function attend(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  bias: tf.Tensor | null,
  scale: number,
  dropoutP: number,
  { causal = false, needWeights = true }: { causal?: boolean; needWeights?: boolean } = {},
): { output: tf.Tensor; weights: tf.Tensor | null } {
  const fused = fusedPath(q, k, v, bias, scale, dropoutP, causal, needWeights);
  if (fused !== undefined) return fused;
  return tf.tidy(() => {
    let scores = tf.matMul(tf.mul(q, scale), k, false, true);
    if (bias !== null) scores = tf.add(scores, bias);
    if (causal) scores = tf.add(scores, causalBias(q.shape.at(-2)!, k.shape.at(-2)!));
    const weights = dropout(tf.softmax(scores, -1), { p: dropoutP });
    return { output: tf.matMul(weights, v), weights };
  });
}

/**
 * The backend's fused attention kernels where it has them and the call fits them: no dropout, float32 q, k and v
 * with the same leading dimensions, a mask that broadcasts as the kernel reads it. Undefined: run op by op.
 */
function fusedPath(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  bias: tf.Tensor | null,
  scale: number,
  dropoutP: number,
  causal: boolean,
  needWeights: boolean,
): { output: tf.Tensor; weights: tf.Tensor | null } | undefined {
  if (dropoutP !== 0 || !backendHasKernels(ATTENTION_KERNEL, ATTENTION_GRAD_KERNEL)) return undefined;
  if (
    [q, k, v].some((t) => t.dtype !== "float32" || t.rank < 2) ||
    (bias !== null && bias.dtype !== "float32")
  )
    return undefined;
  const lead = q.shape.slice(0, -2);
  const sameLead = (t: tf.Tensor) => tf.util.arraysEqual(t.shape.slice(0, -2), lead);
  if (!sameLead(k) || !sameLead(v) || q.shape.at(-1) !== k.shape.at(-1) || k.shape.at(-2) !== v.shape.at(-2))
    return undefined;
  return fusedAttention(q, k, v, bias, scale, causal, needWeights);
}

/** A lower-triangular causal mask `[L, S]` as an additive bias: 0 where `j <= i`, −∞ above the diagonal. */
export function causalBias(l: number, s: number): tf.Tensor2D {
  return tf.tidy(() => {
    const rows = tf.reshape(tf.range(0, l, 1, "int32"), [l, 1]);
    const cols = tf.reshape(tf.range(0, s, 1, "int32"), [1, s]);
    return tf.where(tf.lessEqual(cols, rows), tf.zeros([l, s]), tf.fill([l, s], Number.NEGATIVE_INFINITY));
  }) as tf.Tensor2D;
}

/**
 * A mask as an additive float bias: a boolean mask becomes 0/−∞ (`blockedWhen` says which boolean value
 * blocks a position), a float mask is used as it is (cast to float32).
 */
export function maskToBias(mask: tf.Tensor, blockedWhen: boolean, owner: string, name: string): tf.Tensor {
  return tf.tidy(() => {
    if (mask.dtype === "bool") {
      const blocked = blockedWhen ? mask : tf.logicalNot(mask);
      return tf.where(blocked, tf.fill(mask.shape, Number.NEGATIVE_INFINITY), tf.zeros(mask.shape));
    }
    if (mask.dtype === "float32") return mask;
    throw new FulmenError(
      `${owner}: ${name} must be a boolean or float32 tensor, got ${mask.dtype}. Cast it with tf.cast(mask, "bool").`,
    );
  });
}
