import { toFloat32 } from "../../amp/autocast";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { attend, maskToBias } from "./attention-core";

/** Options of {@link scaledDotProductAttention}, as in `torch.nn.functional.scaled_dot_product_attention`. */
export interface ScaledDotProductAttentionOptions {
  /**
   * A mask broadcastable to `[..., L, S]`: boolean, where **true means the position takes part** (PyTorch's
   * convention for this function, the opposite of `MultiheadAttention`'s), or float, added to the scores.
   */
  attnMask?: tf.Tensor | null;
  /** Dropout probability on the attention weights (default 0); applied whenever it is above 0, as in PyTorch. */
  dropoutP?: number;
  /** Apply a causal (lower-triangular, top-left aligned) mask; cannot be combined with attnMask. */
  isCausal?: boolean;
  /** Scale of the scores (default 1/√E, E the last dimension of the query). */
  scale?: number | null;
}

/**
 * `torch.nn.functional.scaled_dot_product_attention` (today's PyTorch; PyTorch 1.13 lacks it):
 * `softmax(Q·Kᵀ·scale + mask) · V` for `query [..., L, E]`, `key [..., S, E]`, `value [..., S, Ev]`, giving
 * `[..., L, Ev]`. A boolean `attnMask` marks the positions that take part (true = attend); a float one is added
 * to the scores. `isCausal` masks the upper triangle (top-left aligned). Dropout, when `dropoutP > 0`, draws
 * from the core generator.
 */
export function scaledDotProductAttention(
  query: tf.Tensor,
  key: tf.Tensor,
  value: tf.Tensor,
  options: ScaledDotProductAttentionOptions = {},
): tf.Tensor {
  const owner = "scaledDotProductAttention";
  checkOptionNames(owner, options, ["attnMask", "dropoutP", "isCausal", "scale"]);
  const dropoutP = options.dropoutP ?? 0;
  checkNumber(owner, "dropoutP", dropoutP, (v) => v >= 0 && v <= 1, "a probability between 0 and 1");
  for (const [name, t] of [
    ["query", query],
    ["key", key],
    ["value", value],
  ] as const) {
    if (!(t instanceof tf.Tensor) || t.rank < 2) {
      throw new FulmenError(
        `${owner}: ${name} must be a tensor of rank 2 or more ([..., seq, features]), got ${t instanceof tf.Tensor ? `shape [${t.shape}]` : typeof t}.`,
      );
    }
  }
  const e = query.shape[query.rank - 1]!;
  if (key.shape[key.rank - 1] !== e) {
    throw new FulmenError(
      `${owner}: query's last dimension is ${e} but key's is ${key.shape[key.rank - 1]} (shapes [${query.shape}] and [${key.shape}]); they must match.`,
    );
  }
  if (key.shape[key.rank - 2] !== value.shape[value.rank - 2]) {
    throw new FulmenError(
      `${owner}: key has ${key.shape[key.rank - 2]} positions but value has ${value.shape[value.rank - 2]} (shapes [${key.shape}] and [${value.shape}]); they must match.`,
    );
  }
  const mask = options.attnMask ?? null;
  if (options.isCausal === true && mask !== null) {
    throw new FulmenError(
      `${owner}: isCausal and attnMask cannot be given together (as in PyTorch); pass one of them, e.g. combine the causal mask into attnMask.`,
    );
  }
  const scale = options.scale ?? 1 / Math.sqrt(e);
  checkNumber(owner, "scale", scale, Number.isFinite, "a finite number");
  return tf.tidy(() => {
    const bias = mask === null ? null : maskToBias(mask, false, owner, "attnMask");
    const [q, k, v] = [query, key, value].map(toFloat32) as [tf.Tensor, tf.Tensor, tf.Tensor];
    return attend(q, k, v, bias, scale, dropoutP, { causal: options.isCausal === true, needWeights: false })
      .output;
  });
}
