import { tf } from "../runtime/tfjs";

/**
 * Kernel name of a fused exact GELU forward pass: inputs `{x}` (float32), output `y = 0.5·x·(1 + erf(x/√2))`
 * with tfjs's erf. A backend that registers it and {@link GELU_GRAD_KERNEL} (Fulmen's native engine does) runs
 * `nn.GELU` as two kernels instead of a dozen; elsewhere GELU runs op by op.
 */
export const GELU_KERNEL = "FulmenGelu";

/** Kernel name of the fused GELU's gradient: inputs `{dy, x}`, output dx. */
export const GELU_GRAD_KERNEL = "FulmenGeluGrad";

/**
 * Kernel name of a fused layer normalisation over the trailing `normalizedSize` values: inputs `{x, weight?,
 * bias?}`, attrs `{eps, normalizedSize}`; outputs `[y, mean, rstd]` (mean and 1/√(var + eps) per row, kept for
 * the backward pass). Registered with {@link LAYER_NORM_GRAD_KERNEL}, `nn.LayerNorm` uses it.
 */
export const LAYER_NORM_KERNEL = "FulmenLayerNorm";

/**
 * Kernel name of the fused layer normalisation's gradient: inputs `{dy, x, mean, rstd, weight?}`, attrs
 * `{normalizedSize, hasWeight, hasBias}`; outputs `[dx, dWeight?, dBias?]`.
 */
export const LAYER_NORM_GRAD_KERNEL = "FulmenLayerNormGrad";

/** Whether the current backend registers every one of `names`. */
export function backendHasKernels(...names: string[]): boolean {
  const backend = tf.getBackend();
  return names.every((name) => tf.getKernel(name, backend) !== undefined);
}

function run(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, number | boolean> = {}) {
  return tf
    .engine()
    .runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap);
}

const fusedGeluOp = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
  const input = x as tf.Tensor;
  (save as tf.GradSaveFunc)([input]);
  return {
    value: run(GELU_KERNEL, { x: input }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => run(GELU_GRAD_KERNEL, { dy, x: saved[0]! }) as tf.Tensor,
  };
});

/** Exact GELU through the backend's fused kernels (check {@link backendHasKernels} first). */
export function fusedGelu(x: tf.Tensor): tf.Tensor {
  return fusedGeluOp(x);
}

/**
 * Layer normalisation of `x` over its trailing `normalizedSize` values through the backend's fused kernels
 * (check {@link backendHasKernels} first); `weight` and `bias` are optional.
 */
export function fusedLayerNorm(
  x: tf.Tensor,
  weight: tf.Tensor | null,
  bias: tf.Tensor | null,
  normalizedSize: number,
  eps: number,
): tf.Tensor {
  const affine = [weight, bias].filter((t): t is tf.Tensor => t !== null);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [input, ...params] = args as tf.Tensor[];
    const named: Record<string, tf.Tensor> = { x: input! };
    if (weight !== null) named.weight = params[0]!;
    if (bias !== null) named.bias = params[weight !== null ? 1 : 0]!;
    const [y, mean, rstd] = run(LAYER_NORM_KERNEL, named, { eps, normalizedSize }) as tf.Tensor[];
    save([input!, mean!, rstd!, ...(weight !== null ? [named.weight!] : [])]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sMean, sRstd, sWeight] = saved;
        const inputs: Record<string, tf.Tensor> = { dy, x: sx!, mean: sMean!, rstd: sRstd! };
        if (sWeight !== undefined) inputs.weight = sWeight;
        return run(LAYER_NORM_GRAD_KERNEL, inputs, {
          normalizedSize,
          hasWeight: weight !== null,
          hasBias: bias !== null,
        }) as tf.Tensor[];
      },
    };
  });
  return op(x, ...affine);
}
