import { tf } from "../runtime/tfjs";
import { runFusedKernel } from "./fused-kernels";

// A recurrent layer's time loop as one kernel each way. Step by step, every time step is a GEMM, bias
// additions and a cell update forward (and twice that backward), each a kernel dispatch and a tape entry; a
// backend that runs the loop itself (Fulmen's native engine) also gets the weight gradient as one product over
// all steps.

/**
 * Kernel name of an LSTM layer in one direction over a whole sequence: inputs `{gi [T, B, 4H], weightHh [4H, H],
 * biasHh? [4H], h0 [B, H], c0 [B, H]}` (`gi` the input projection with `b_ih`, gates in PyTorch's order i, f, g,
 * o), attrs `{reverse}`; per step `gates = gi[t] + (h·W_hhᵀ + b_hh)` and the cell update of
 * `LSTM_CELL_KERNEL`. Outputs `[output [T, B, H], hN, cN [B, H], cells [T, B, H], act [T, B, 5H]]`, the
 * last two kept for {@link LSTM_SEQUENCE_GRAD_KERNEL}. The LSTM layers use it (without projections).
 */
export const LSTM_SEQUENCE_KERNEL = "FulmenLstmSequence";

/**
 * Kernel name of the whole-sequence LSTM's gradient: inputs `{dOutput, dhN, dcN, weightHh, h0, c0, output,
 * cells, act}`, attrs `{reverse}`; outputs `[dgi, dWeightHh, dBiasHh, dh0, dc0]`, all from one backward pass.
 */
export const LSTM_SEQUENCE_GRAD_KERNEL = "FulmenLstmSequenceGrad";

/**
 * Kernel name of a GRU layer in one direction over a whole sequence: inputs `{gi [T, B, 3H], weightHh [3H, H],
 * biasHh? [3H], h0 [B, H]}`, attrs `{reverse}`; per step `gh = h·W_hhᵀ + b_hh` and the update of
 * `GRU_CELL_KERNEL`. Outputs `[output [T, B, H], hN [B, H], gh [T, B, 3H], act [T, B, 3H]]`, the last two
 * kept for {@link GRU_SEQUENCE_GRAD_KERNEL}.
 */
export const GRU_SEQUENCE_KERNEL = "FulmenGruSequence";

/**
 * Kernel name of the whole-sequence GRU's gradient: inputs `{dOutput, dhN, weightHh, h0, output, gh, act}`,
 * attrs `{reverse}`; outputs `[dgi, dWeightHh, dBiasHh, dh0]`.
 */
export const GRU_SEQUENCE_GRAD_KERNEL = "FulmenGruSequenceGrad";

/**
 * The gradient closures tfjs's tape asks for, from one gradient kernel run computing them all. They are made
 * in the backward pass's own scope (which ends by disposing what no one took), not in the per-input scopes
 * tfjs wraps each closure in, which would dispose the ones asked for later.
 */
function allGradients(
  kernel: string,
  inputs: Record<string, tf.Tensor>,
  attrs: tf.NamedAttrMap,
  names: string[],
): Record<string, () => tf.Tensor> {
  const grads = runFusedKernel(kernel, inputs, attrs as Record<string, boolean>) as tf.Tensor[];
  return Object.fromEntries(names.map((name, i) => [name, () => grads[i]!]));
}

// The gradients, registered once per process: a second copy of core (its other build) finds them there.
if (tf.getGradient(LSTM_SEQUENCE_KERNEL) === undefined)
  tf.registerGradient({
    kernelName: LSTM_SEQUENCE_KERNEL,
    inputsToSave: ["weightHh", "h0", "c0"],
    outputsToSave: [true, false, false, true, true],
    gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: tf.NamedAttrMap) => {
      const [dOutput, dhN, dcN] = dys as tf.Tensor[];
      const [weightHh, h0, c0, output, cells, act] = saved as [tf.Tensor, ...tf.Tensor[]];
      const inputs = { dOutput: dOutput!, dhN: dhN!, dcN: dcN!, weightHh, h0: h0!, c0: c0! };
      const kept = { output: output!, cells: cells!, act: act! };
      return allGradients(LSTM_SEQUENCE_GRAD_KERNEL, { ...inputs, ...kept }, attrs ?? {}, [
        "gi",
        "weightHh",
        "biasHh",
        "h0",
        "c0",
      ]);
    },
  });

if (tf.getGradient(GRU_SEQUENCE_KERNEL) === undefined)
  tf.registerGradient({
    kernelName: GRU_SEQUENCE_KERNEL,
    inputsToSave: ["weightHh", "h0"],
    outputsToSave: [true, false, true, true],
    gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: tf.NamedAttrMap) => {
      const [dOutput, dhN] = dys as tf.Tensor[];
      const [weightHh, h0, output, gh, act] = saved as [tf.Tensor, ...tf.Tensor[]];
      const inputs = { dOutput: dOutput!, dhN: dhN!, weightHh, h0: h0!, output: output!, gh: gh!, act: act! };
      return allGradients(GRU_SEQUENCE_GRAD_KERNEL, inputs, attrs ?? {}, ["gi", "weightHh", "biasHh", "h0"]);
    },
  });

/** What a whole-sequence recurrent kernel gives its caller: the outputs and the final states. */
export interface FusedSequenceResult {
  /** `[T, B, H]`, the hidden state of every step, in time order. */
  output: tf.Tensor;
  /** `[B, H]`, the hidden state after the last step processed. */
  h: tf.Tensor;
  /** `[B, H]`, the LSTM's cell state after the last step processed (null for a GRU). */
  c: tf.Tensor | null;
}

/**
 * An LSTM layer in one direction through the backend's whole-sequence kernels (check `backendHasKernels` for
 * {@link LSTM_SEQUENCE_KERNEL} and its gradient first): `gi [T, B, 4H]` the input projection with `b_ih`.
 */
export function fusedLstmSequence(
  gi: tf.Tensor,
  weightHh: tf.Tensor,
  biasHh: tf.Tensor | null,
  h0: tf.Tensor,
  c0: tf.Tensor,
  reverse: boolean,
): FusedSequenceResult {
  const inputs: Record<string, tf.Tensor> = { gi, weightHh, h0, c0 };
  if (biasHh !== null) inputs.biasHh = biasHh;
  const [output, h, c, cells, act] = runFusedKernel(LSTM_SEQUENCE_KERNEL, inputs, { reverse }) as tf.Tensor[];
  // The tape keeps its own copies of the values the gradient needs, where it records one.
  tf.dispose([cells!, act!]);
  return { output: output!, h: h!, c: c! };
}

/**
 * A GRU layer in one direction through the backend's whole-sequence kernels (check `backendHasKernels` for
 * {@link GRU_SEQUENCE_KERNEL} and its gradient first): `gi [T, B, 3H]` the input projection with `b_ih`.
 */
export function fusedGruSequence(
  gi: tf.Tensor,
  weightHh: tf.Tensor,
  biasHh: tf.Tensor | null,
  h0: tf.Tensor,
  reverse: boolean,
): FusedSequenceResult {
  const inputs: Record<string, tf.Tensor> = { gi, weightHh, h0 };
  if (biasHh !== null) inputs.biasHh = biasHh;
  const [output, h, gh, act] = runFusedKernel(GRU_SEQUENCE_KERNEL, inputs, { reverse }) as tf.Tensor[];
  tf.dispose([gh!, act!]);
  return { output: output!, h: h!, c: null };
}
