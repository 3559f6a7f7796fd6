import { tf } from "../runtime/tfjs";

/**
 * Kernel name of a fused exact GELU forward pass: inputs `{x}` (float32), output `y = 0.5·x·(1 + erf(x/√2))`
 * with erf by Abramowitz–Stegun 7.1.26 (the formula of both tfjs's erf and PyTorch's vectorised CPU erf; the
 * native engines evaluate it in float32 as PyTorch does). A backend that registers it and
 * {@link GELU_GRAD_KERNEL} (Fulmen's native engines do) runs `nn.GELU` as two kernels instead of a dozen;
 * elsewhere GELU runs op by op.
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

/**
 * Kernel name of a fused LSTM cell update (gates in PyTorch's order i, f, g, o): inputs `{gates [B, 4H], c [B,
 * H]}` (the summed input and hidden projections, and the previous cell state), outputs `[h, cy, act]` with
 * `cy = σ(f)·c + σ(i)·tanh(g)`, `h = σ(o)·tanh(cy)` and `act [B, 5H]` the activations σ(i), σ(f), tanh(g), σ(o),
 * tanh(cy) (kept for the gradient). Registered with {@link LSTM_CELL_GRAD_KERNEL}, the LSTM layers and
 * `lstmCell` run each time step's update as one kernel instead of a dozen ops (and two dozen in backward).
 */
export const LSTM_CELL_KERNEL = "FulmenLstmCell";

/**
 * Kernel name of the fused LSTM cell update's gradient: inputs `{dh, dcy, c, act}`, attrs `{wrt}`; output the
 * gradient with respect to `gates` (`wrt: "gates"`, `[B, 4H]`) or to `c` (`wrt: "c"`, `[B, H]`) — one per
 * call, as tfjs's tape asks for each input's gradient in a scope of its own.
 */
export const LSTM_CELL_GRAD_KERNEL = "FulmenLstmCellGrad";

/**
 * Kernel name of a fused GRU cell update (gates in PyTorch's order r, z, n): inputs `{gi [B, 3H], gh [B, 3H],
 * h [B, H]}` (the input and hidden projections, biases included, and the previous hidden state), outputs
 * `[hy, act]` with `r = σ(gi_r + gh_r)`, `z = σ(gi_z + gh_z)`, `n = tanh(gi_n + r·gh_n)`, `hy = (h - n)·z + n`
 * and `act [B, 3H]` the activations r, z, n (kept for the gradient). Registered with
 * {@link GRU_CELL_GRAD_KERNEL}, the GRU layers and `gruCell` use it.
 */
export const GRU_CELL_KERNEL = "FulmenGruCell";

/**
 * Kernel name of the fused GRU cell update's gradient: inputs `{dhy, gh, h, act}`, attrs `{wrt}`; output the
 * gradient with respect to `gi` or `gh` (`[B, 3H]`) or `h` (`[B, H]`), one per call.
 */
export const GRU_CELL_GRAD_KERNEL = "FulmenGruCellGrad";

/** Whether the current backend registers every one of `names`. */
export function backendHasKernels(...names: string[]): boolean {
  const backend = tf.getBackend();
  return names.every((name) => tf.getKernel(name, backend) !== undefined);
}

/** Runs a kernel of the current backend by name (the fused kernels have no tfjs op of their own). */
export function runFusedKernel(
  name: string,
  inputs: Record<string, tf.Tensor>,
  attrs: Record<string, number | boolean | string> = {},
) {
  return tf
    .engine()
    .runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap);
}

const fusedGeluOp = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
  const input = x as tf.Tensor;
  (save as tf.GradSaveFunc)([input]);
  return {
    value: runFusedKernel(GELU_KERNEL, { x: input }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      runFusedKernel(GELU_GRAD_KERNEL, { dy, x: saved[0]! }) as tf.Tensor,
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
    const [y, mean, rstd] = runFusedKernel(LAYER_NORM_KERNEL, named, { eps, normalizedSize }) as tf.Tensor[];
    save([input!, mean!, rstd!, ...(weight !== null ? [named.weight!] : [])]);
    return {
      value: y!,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sMean, sRstd, sWeight] = saved;
        const inputs: Record<string, tf.Tensor> = { dy, x: sx!, mean: sMean!, rstd: sRstd! };
        if (sWeight !== undefined) inputs.weight = sWeight;
        return runFusedKernel(LAYER_NORM_GRAD_KERNEL, inputs, {
          normalizedSize,
          hasWeight: weight !== null,
          hasBias: bias !== null,
        }) as tf.Tensor[];
      },
    };
  });
  return op(x, ...affine);
}

// The gradient of the fused LSTM update, for tfjs's tape (a kernel with several outputs: customGrad takes one).
// Registered once per process: a second copy of core (its other build) finds it there.
if (tf.getGradient(LSTM_CELL_KERNEL) === undefined)
  tf.registerGradient({
    kernelName: LSTM_CELL_KERNEL,
    inputsToSave: ["c"],
    outputsToSave: [false, false, true],
    gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [dh, dcy] = dys as tf.Tensor[];
      const [c, act] = saved;
      return gradsOf(LSTM_CELL_GRAD_KERNEL, { dh: dh!, dcy: dcy!, c: c!, act: act! }, ["gates", "c"]);
    },
  });

/**
 * One LSTM cell update through the backend's fused kernels (check {@link backendHasKernels} first): `gates`
 * `[B, 4H]` (input and hidden projections summed, PyTorch's gate order i, f, g, o) and the previous cell state
 * `c` `[B, H]` give the new hidden and cell states `[h, cy]`.
 */
export function fusedLstmCell(gates: tf.Tensor, c: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const [h, cy, act] = runFusedKernel(LSTM_CELL_KERNEL, { gates, c }) as tf.Tensor[];
  // The tape keeps its own copy of the activations where it records one.
  act!.dispose();
  return [h!, cy!];
}

/** One gradient kernel's outputs by input name, each computed when tfjs's tape asks for it (`{wrt: name}`). */
function gradsOf(
  kernel: string,
  inputs: Record<string, tf.Tensor>,
  names: string[],
): Record<string, () => tf.Tensor> {
  return Object.fromEntries(
    names.map((wrt) => [wrt, () => runFusedKernel(kernel, inputs, { wrt }) as tf.Tensor]),
  );
}

// The gradient of the fused GRU update for tfjs's tape, registered once per process (see the LSTM's).
if (tf.getGradient(GRU_CELL_KERNEL) === undefined)
  tf.registerGradient({
    kernelName: GRU_CELL_KERNEL,
    inputsToSave: ["gh", "h"],
    outputsToSave: [false, true],
    gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [dhy] = dys as tf.Tensor[];
      const [gh, h, act] = saved;
      return gradsOf(GRU_CELL_GRAD_KERNEL, { dhy: dhy!, gh: gh!, h: h!, act: act! }, ["gi", "gh", "h"]);
    },
  });

/**
 * One GRU cell update through the backend's fused kernels (check {@link backendHasKernels} first): the input
 * and hidden projections `gi`, `gh` `[B, 3H]` (biases included, PyTorch's gate order r, z, n) and the previous
 * hidden state `h` `[B, H]` give the new hidden state.
 */
export function fusedGruCell(gi: tf.Tensor, gh: tf.Tensor, h: tf.Tensor): tf.Tensor {
  const [hy, act] = runFusedKernel(GRU_CELL_KERNEL, { gi, gh, h }) as tf.Tensor[];
  act!.dispose();
  return hy!;
}
