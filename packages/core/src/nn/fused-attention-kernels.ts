import { tf } from "../runtime/tfjs";
import { runFusedKernel } from "./fused-kernels";

// Scaled dot-product attention as one kernel each way: op by op it is a scale, two batched products, a mask
// addition and a softmax forward (a dozen kernels backward), each a dispatch and a tape entry.

/**
 * Kernel name of scaled dot-product attention: inputs `{q [N, L, E], k [N, S, E], v [N, S, Ev], bias?}`, attrs
 * `{scale, causal, outer, inner, strideOuter, strideInner, strideRow, strideCol, biasShape}`; outputs
 * `[output [N, L, Ev], weights [N, L, S]]` with `weights = softmax((q·scale)·kᵀ + bias)` and
 * `output = weights·v`, and with `causal` each query seeing the keys up to its own position only (PyTorch's
 * `is_causal`: as adding a 0/−∞ mask would). The N = outer·inner products read the additive mask `bias` at
 * `o·strideOuter + i·strideInner + l·strideRow + s·strideCol` (0 along what it broadcasts over; see
 * {@link attentionBiasLayout}). `nn.functional.scaledDotProductAttention` and `nn.MultiheadAttention` use it
 * (without dropout) where the backend registers it and {@link ATTENTION_GRAD_KERNEL}.
 */
export const ATTENTION_KERNEL = "FulmenAttention";

/**
 * Kernel name of the attention kernel's gradient: inputs `{dOutput, dWeights?, q, k, v, weights}`, the forward's
 * attrs plus `hasBias`; outputs `[dq, dk, dv, dBias]` (`dBias` flat, the mask's element count; empty without a
 * mask).
 */
export const ATTENTION_GRAD_KERNEL = "FulmenAttentionGrad";

/** How an additive attention mask broadcasts over the products: see {@link ATTENTION_KERNEL}'s attrs. */
export interface AttentionBiasLayout {
  /** Products along the leading dimensions before the split. */
  outer: number;
  /** Products along the leading dimensions after the split. */
  inner: number;
  /** The mask's step from one outer product to the next (0 when it broadcasts over them). */
  strideOuter: number;
  /** The mask's step from one inner product to the next (0 when it broadcasts over them). */
  strideInner: number;
  /** The mask's step from one query position to the next (0 when it broadcasts over them). */
  strideRow: number;
  /** The mask's step from one key position to the next (0 when it broadcasts over them). */
  strideCol: number;
}

const product = (dims: readonly number[]) => dims.reduce((p, d) => p * d, 1);

/**
 * The strides at which the attention kernel reads a mask of shape `biasShape` for products over the leading
 * dimensions `lead` of `[L, S]` scores (null without a mask: every stride 0), or undefined when the mask does not
 * broadcast that way — its leading dimensions must be, before and after one split point, all 1 or all equal to
 * `lead`'s (`[L, S]`, `[N, 1, 1, S]` and `[N, H, L, S]` against `[N, H]` all do).
 */
export function attentionBiasLayout(
  lead: readonly number[],
  biasShape: readonly number[] | null,
  l: number,
  s: number,
): AttentionBiasLayout | undefined {
  if (biasShape === null)
    return { outer: 1, inner: product(lead), strideOuter: 0, strideInner: 0, strideRow: 0, strideCol: 0 };
  if (biasShape.length > lead.length + 2 || biasShape.length < 2) return undefined;
  const [bl, bs] = biasShape.slice(-2) as [number, number];
  if ((bl !== 1 && bl !== l) || (bs !== 1 && bs !== s)) return undefined;
  const padded = [
    ...new Array<number>(lead.length + 2 - biasShape.length).fill(1),
    ...biasShape.slice(0, -2),
  ];
  const uniform = (dims: number[], full: number[]) =>
    dims.every((d) => d === 1) ? "broadcast" : dims.every((d, i) => d === full[i]) ? "full" : undefined;
  for (let split = 0; split <= lead.length; split++) {
    const outerKind = uniform(padded.slice(0, split), lead.slice(0, split));
    const innerKind = uniform(padded.slice(split), lead.slice(split));
    if (outerKind === undefined || innerKind === undefined) continue;
    const inner = product(lead.slice(split));
    const strideCol = bs === 1 ? 0 : 1;
    const strideRow = bl === 1 ? 0 : bs;
    const strideInner = innerKind === "full" ? bl * bs : 0;
    const strideOuter = outerKind === "full" ? (innerKind === "full" ? inner : 1) * bl * bs : 0;
    return { outer: product(lead.slice(0, split)), inner, strideOuter, strideInner, strideRow, strideCol };
  }
  return undefined;
}

// The gradient, registered once per process: a second copy of core (its other build) finds it there. All four
// gradients come from one kernel run, made in the backward pass's scope (see fused-sequence-kernels.ts).
if (tf.getGradient(ATTENTION_KERNEL) === undefined)
  tf.registerGradient({
    kernelName: ATTENTION_KERNEL,
    inputsToSave: ["q", "k", "v"],
    outputsToSave: [false, true],
    gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: tf.NamedAttrMap) => {
      const [dOutput, dWeights] = dys as tf.Tensor[];
      const [q, k, v, weights] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const named = attrs as unknown as { biasShape: number[] } & Record<string, number | number[]>;
      const hasBias = named.biasShape.length > 0;
      const [dq, dk, dv, dBias] = runFusedKernel(
        ATTENTION_GRAD_KERNEL,
        { dOutput: dOutput!, dWeights: dWeights!, q, k, v, weights },
        { ...(attrs as Record<string, number>), hasBias },
      ) as tf.Tensor[];
      const grads: Record<string, () => tf.Tensor> = { q: () => dq!, k: () => dk!, v: () => dv! };
      if (hasBias) grads.bias = () => tf.reshape(dBias!, named.biasShape);
      return grads;
    },
  });

/** What {@link fusedAttention} returns. */
export interface FusedAttentionResult {
  /** `[...lead, L, Ev]`, the attended values. */
  output: tf.Tensor;
  /** `[...lead, L, S]`, the attention weights (each row sums to 1); null unless asked for. */
  weights: tf.Tensor | null;
}

/**
 * The output alone, differentiable: the weights are kept for the gradient but are no output of the op, so
 * tfjs's tape has no gradient of them to fill with zeros (an `[N, L, S]` array a step).
 */
function outputOnly(inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): tf.Tensor {
  const names = Object.keys(inputs);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const named = Object.fromEntries(names.map((name, i) => [name, args[i] as tf.Tensor]));
    const [output, weights] = runFusedKernel(
      ATTENTION_KERNEL,
      named,
      attrs as Record<string, number>,
    ) as tf.Tensor[];
    save([named.q!, named.k!, named.v!, weights!]);
    return {
      value: output!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [q, k, v, w] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const grads = runFusedKernel(
          ATTENTION_GRAD_KERNEL,
          { dOutput: dy, q, k, v, weights: w },
          { ...(attrs as Record<string, number>), hasBias: names.includes("bias") },
        ) as tf.Tensor[];
        const biasShape = attrs.biasShape as number[];
        return names.map((name, i) => (name === "bias" ? tf.reshape(grads[3]!, biasShape) : grads[i]!));
      },
    };
  });
  return op(...names.map((name) => inputs[name]!));
}

/**
 * Attention through the backend's fused kernels (check `backendHasKernels` for {@link ATTENTION_KERNEL} and
 * its gradient first): q `[...lead, L, E]`, k `[...lead, S, E]`, v `[...lead, S, Ev]` with the same leading
 * dimensions, `bias` an additive mask broadcastable to `[...lead, L, S]` as {@link attentionBiasLayout} allows
 * (undefined result when it does not: run op by op); `causal` masks the keys after each query. Returns the
 * output `[...lead, L, Ev]`, and the weights when `needWeights` (then differentiable too).
 */
export function fusedAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  bias: tf.Tensor | null,
  scale: number,
  causal = false,
  needWeights = true,
): FusedAttentionResult | undefined {
  const lead = q.shape.slice(0, -2);
  const [l, e] = q.shape.slice(-2) as [number, number];
  const [s, ev] = [k.shape.at(-2)!, v.shape.at(-1)!];
  const layout = attentionBiasLayout(lead, bias === null ? null : bias.shape, l, s);
  const n = product(lead);
  if (layout === undefined || n * l * s * e * ev === 0) return undefined;
  const result = tf.tidy((): { output: tf.Tensor; weights?: tf.Tensor } => {
    const inputs: Record<string, tf.Tensor> = {
      q: tf.reshape(q, [n, l, e]),
      k: tf.reshape(k, [n, s, e]),
      v: tf.reshape(v, [n, s, ev]),
    };
    if (bias !== null) inputs.bias = bias;
    const attrs = { ...layout, scale, causal, biasShape: bias === null ? [] : bias.shape };
    if (!needWeights) return { output: tf.reshape(outputOnly(inputs, attrs), [...lead, l, ev]) };
    const [output, weights] = runFusedKernel(
      ATTENTION_KERNEL,
      inputs,
      attrs as unknown as Record<string, number>,
    ) as [tf.Tensor, tf.Tensor];
    return { output: tf.reshape(output, [...lead, l, ev]), weights: tf.reshape(weights, [...lead, l, s]) };
  });
  return { output: result.output, weights: result.weights ?? null };
}
