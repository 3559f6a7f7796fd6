import type { Generator } from "../../random/generator";
import { getDefaultGenerator } from "../../random/seed";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import {
  backendHasKernels,
  fusedGruCell,
  fusedLstmCell,
  GRU_CELL_GRAD_KERNEL,
  GRU_CELL_KERNEL,
  LSTM_CELL_GRAD_KERNEL,
  LSTM_CELL_KERNEL,
} from "../fused-kernels";
import {
  type FusedSequenceResult,
  fusedGruSequence,
  fusedLstmSequence,
  GRU_SEQUENCE_GRAD_KERNEL,
  GRU_SEQUENCE_KERNEL,
  LSTM_SEQUENCE_GRAD_KERNEL,
  LSTM_SEQUENCE_KERNEL,
} from "../fused-sequence-kernels";
import { dropout } from "./dropout";

/**
 * The recurrent family's computations, written with tfjs ops so that autodiff differentiates through the time
 * loop. The formulas and their evaluation order are PyTorch's CPU kernels (aten/src/ATen/native/RNN.cpp), so
 * float32 results agree to rounding: gates in PyTorch's order (LSTM i, f, g, o; GRU r, z, n).
 */

/** Which recurrence: PyTorch's `RNN_TANH`, `RNN_RELU`, `LSTM` and `GRU` modes. */
export type RecurrentMode = "RNN_TANH" | "RNN_RELU" | "LSTM" | "GRU";

/** The weights of one layer in one direction (PyTorch's `weight_ih_lK`, `weight_hh_lK`, … tensors). */
export interface RecurrentWeights {
  /** `[gates·hidden, input]`. */
  weightIh: tf.Tensor;
  /** `[gates·hidden, hidden]` (`[4·hidden, projSize]` for an LSTM with a projection). */
  weightHh: tf.Tensor;
  /** `[gates·hidden]`, absent with bias=False. */
  biasIh?: tf.Tensor | null;
  /** `[gates·hidden]`, absent with bias=False. */
  biasHh?: tf.Tensor | null;
  /** LSTM projection `[projSize, hidden]` (`weight_hr_lK`), absent without one. */
  weightHr?: tf.Tensor | null;
}

/** Options of {@link recurrentSequence}. */
export interface RecurrentSequenceOptions {
  /** The recurrence. */
  mode: RecurrentMode;
  /** Stacked layers; `weights` holds `numLayers · directions` entries, layer-major. */
  numLayers: number;
  /** Run a second direction backwards in time and concatenate the features. */
  bidirectional: boolean;
  /** Dropout probability on every layer's output except the last (training only). */
  dropout: number;
  /** Whether dropout is active. */
  training: boolean;
  /** The generator dropout masks come from (default: the core's default generator). */
  generator?: Generator;
  /**
   * Each batch entry's length, non-increasing (a packed sequence's): its recurrence stops there, so its final
   * state is the state at its last step (the first, for the reverse direction, which starts at its last step),
   * and its outputs after it are 0. Absent: every entry runs all `T` steps.
   */
  lengths?: readonly number[];
}

/** What {@link recurrentSequence} returns. */
export type RecurrentSequenceResult = {
  /** `[time, batch, directions·hiddenOut]`, the last layer's features at every step. */
  output: tf.Tensor;
  /** `[layers·directions, batch, hiddenOut]`, the final hidden state of every layer and direction. */
  hN: tf.Tensor;
  /** LSTM only: `[layers·directions, batch, hidden]`, the final cell state. */
  cN?: tf.Tensor;
};

/**
 * `tf.unstack` along axis 0, safe to differentiate: tfjs's unstack gradient breaks when there is a single
 * piece (it receives one tensor, not a list), so one step or one state is a reshape instead.
 */
function unstack0(x: tf.Tensor): tf.Tensor[] {
  return x.shape[0] === 1 ? [tf.reshape(x, x.shape.slice(1))] : tf.unstack(x, 0);
}

/** `x Wᵀ + b`, b optional. */
function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor | null): tf.Tensor {
  const y = tf.matMul(x, w, false, true);
  return b == null ? y : tf.add(y, b);
}

/**
 * One step given the input's projection `gi = x W_ihᵀ + b_ih` (hoisted out of the time loop: one matmul for
 * every step at once). Returns the new hidden state (and cell state for an LSTM).
 */
function step(
  mode: RecurrentMode,
  gi: tf.Tensor,
  h: tf.Tensor,
  c: tf.Tensor | null,
  w: RecurrentWeights,
): [tf.Tensor, tf.Tensor | null] {
  const gh = linear(h, w.weightHh, w.biasHh);
  switch (mode) {
    case "RNN_TANH":
      return [tf.tanh(tf.add(gi, gh)), null];
    case "RNN_RELU":
      return [tf.relu(tf.add(gi, gh)), null];
    case "LSTM": {
      const [h, cy] = lstmUpdate(tf.add(gi, gh), c!);
      let hy = h;
      if (w.weightHr != null) hy = tf.matMul(hy, w.weightHr, false, true);
      return [hy, cy];
    }
    case "GRU": {
      if (backendHasKernels(GRU_CELL_KERNEL, GRU_CELL_GRAD_KERNEL)) return [fusedGruCell(gi, gh, h), null];
      const [ir, iz, inn] = tf.split(gi, 3, 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
      const [hr, hz, hn] = tf.split(gh, 3, 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
      const r = tf.sigmoid(tf.add(ir, hr));
      const z = tf.sigmoid(tf.add(iz, hz));
      const n = tf.tanh(tf.add(inn, tf.mul(r, hn)));
      // PyTorch's order: (h - n)·z + n, the same value as (1 - z)·n + z·h with its rounding
      return [tf.add(tf.mul(tf.sub(h, n), z), n), null];
    }
  }
}

/**
 * The LSTM cell update from the summed gates `[B, 4H]` and the cell state: the backend's fused kernels where it
 * has them (the host engine), else op by op.
 */
function lstmUpdate(gates: tf.Tensor, c: tf.Tensor): [tf.Tensor, tf.Tensor] {
  if (backendHasKernels(LSTM_CELL_KERNEL, LSTM_CELL_GRAD_KERNEL)) return fusedLstmCell(gates, c);
  const [i, f, g, o] = tf.split(gates, 4, 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const cy = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
  return [tf.mul(tf.sigmoid(o), tf.tanh(cy)), cy];
}

/** Runs one layer in one direction over `x [T, B, I]`; returns the outputs `[T, B, H]` and the final states. */
function runDirection(
  mode: RecurrentMode,
  x: tf.Tensor,
  w: RecurrentWeights,
  h0: tf.Tensor,
  c0: tf.Tensor | null,
  reverse: boolean,
  lengths?: readonly number[],
): { output: tf.Tensor; h: tf.Tensor; c: tf.Tensor | null } {
  const [T, B, I] = x.shape as [number, number, number];
  const gates = w.weightIh.shape[0]!;
  const projected = tf.reshape(linear(tf.reshape(x, [T * B, I]), w.weightIh, w.biasIh), [T, B, gates]);
  return lengths === undefined
    ? wholeSequence(mode, projected, w, h0, c0, reverse)
    : segmentedSequence(mode, projected, w, h0, c0, reverse, lengths);
}

/**
 * Every step of `projected` `[T, B, gates]` for every batch entry: the backend's whole-sequence kernels where it
 * has them, else one step at a time.
 */
function wholeSequence(
  mode: RecurrentMode,
  projected: tf.Tensor,
  w: RecurrentWeights,
  h0: tf.Tensor,
  c0: tf.Tensor | null,
  reverse: boolean,
): { output: tf.Tensor; h: tf.Tensor; c: tf.Tensor | null } {
  const T = projected.shape[0]!;
  if (T > 0 && hasFusedSequence(mode, w)) return fusedSequence(mode, projected, w, h0, c0, reverse)!;
  const steps = unstack0(projected);
  const outputs: tf.Tensor[] = new Array(T);
  let h = h0;
  let c = c0;
  for (let k = 0; k < T; k++) {
    const t = reverse ? T - 1 - k : k;
    [h, c] = step(mode, steps[t]!, h, c, w);
    outputs[t] = h;
  }
  return { output: tf.stack(outputs, 0), h, c };
}

/** Whether the backend has whole-sequence kernels for this recurrence (LSTMs without a projection, GRUs). */
function hasFusedSequence(mode: RecurrentMode, w: RecurrentWeights): boolean {
  if (mode === "LSTM")
    return w.weightHr == null && backendHasKernels(LSTM_SEQUENCE_KERNEL, LSTM_SEQUENCE_GRAD_KERNEL);
  return mode === "GRU" && backendHasKernels(GRU_SEQUENCE_KERNEL, GRU_SEQUENCE_GRAD_KERNEL);
}

/**
 * A packed batch (lengths non-increasing, as packing sorts them): while the number of running sequences stays the
 * same, they are a prefix of the batch, so each such stretch of steps runs unmasked on that prefix — one
 * whole-sequence kernel call where the backend has them. Forward, sequences drop out as they end (their state
 * frozen); in reverse they join at their last step with their initial state. Outputs after a sequence's end
 * are 0.
 */
function segmentedSequence(
  mode: RecurrentMode,
  projected: tf.Tensor,
  w: RecurrentWeights,
  h0: tf.Tensor,
  c0: tf.Tensor | null,
  reverse: boolean,
  lengths: readonly number[],
): { output: tf.Tensor; h: tf.Tensor; c: tf.Tensor | null } {
  const [T, B] = projected.shape as [number, number];
  const H = h0.shape[1]!;
  // stretches [start, end) of steps with the same number of running sequences
  const running = (t: number) => lengths.filter((n) => n > t).length;
  const stretches: Array<{ start: number; end: number; size: number }> = [];
  for (let t = 0; t < T; t++) {
    const size = running(t);
    const last = stretches.at(-1);
    if (last !== undefined && last.size === size) last.end = t + 1;
    else stretches.push({ start: t, end: t + 1, size });
  }
  const rows = (x: tf.Tensor, from: number, to: number) => tf.slice(x, [from, 0], [to - from, -1]);
  const padBatch = (out: tf.Tensor, size: number) =>
    size === B ? out : tf.concat([out, tf.zeros([out.shape[0]!, B - size, H])], 1);
  // one split in time (its gradient one concat), then each piece's running prefix: slicing the whole input per
  // stretch would make the gradient pad and add a full-size tensor per stretch
  const inputs =
    stretches.length === 1
      ? [projected]
      : tf.split(
          projected,
          stretches.map((r) => r.end - r.start),
          0,
        );
  const pieces = new Array<tf.Tensor>(stretches.length);
  let h = h0;
  let c = c0;
  const order = reverse ? [...stretches.keys()].reverse() : [...stretches.keys()];
  let carried = 0; // how many sequences carry a state from the previous stretch (reverse: the later one)
  for (const k of order) {
    const { start, end, size } = stretches[k]!;
    if (size === 0) {
      pieces[k] = tf.zeros([end - start, B, H]);
      continue;
    }
    const gi = size === B ? inputs[k]! : tf.slice(inputs[k]!, [0, 0, 0], [end - start, size, -1]);
    // in reverse, sequences [carried, size) start here, at their last step, from their initial state
    const hIn =
      reverse && carried < size
        ? tf.concat([rows(h, 0, carried), rows(h0, carried, size)], 0)
        : rows(h, 0, size);
    const cIn =
      c === null
        ? null
        : reverse && carried < size
          ? tf.concat([rows(c, 0, carried), rows(c0!, carried, size)], 0)
          : rows(c, 0, size);
    const r = wholeSequence(mode, gi, w, hIn, cIn, reverse);
    pieces[k] = padBatch(r.output, size);
    // the sequences that did not run keep their state (forward: ended; they hold their final state)
    h = size === B ? r.h : tf.concat([r.h, rows(h, size, B)], 0);
    if (c !== null) c = size === B ? r.c! : tf.concat([r.c!, rows(c, size, B)], 0);
    carried = size;
  }
  return { output: tf.concat(pieces, 0), h, c };
}

/**
 * The whole direction through the backend's sequence kernels where it has them (LSTMs without a projection,
 * GRUs): the same values as the loop below, in one kernel each way. Null where the loop must run.
 */
function fusedSequence(
  mode: RecurrentMode,
  projected: tf.Tensor,
  w: RecurrentWeights,
  h0: tf.Tensor,
  c0: tf.Tensor | null,
  reverse: boolean,
): FusedSequenceResult | null {
  const biasHh = w.biasHh ?? null;
  if (
    mode === "LSTM" &&
    w.weightHr == null &&
    backendHasKernels(LSTM_SEQUENCE_KERNEL, LSTM_SEQUENCE_GRAD_KERNEL)
  )
    return fusedLstmSequence(projected, w.weightHh, biasHh, h0, c0!, reverse);
  if (mode === "GRU" && backendHasKernels(GRU_SEQUENCE_KERNEL, GRU_SEQUENCE_GRAD_KERNEL))
    return fusedGruSequence(projected, w.weightHh, biasHh, h0, reverse);
  return null;
}

/**
 * A stacked, optionally bidirectional recurrence over a time-major sequence `x [T, B, I]`, like the kernel
 * behind `torch.nn.RNN`/`LSTM`/`GRU`: `weights[layer · directions + direction]`, initial states `h0
 * [layers·directions, B, hiddenOut]` (and `c0 [layers·directions, B, hidden]` for an LSTM). Dropout applies to
 * every layer's output but the last, in training only. Differentiable by autodiff through the loop.
 */
export function recurrentSequence(
  x: tf.Tensor,
  weights: readonly RecurrentWeights[],
  h0: tf.Tensor,
  c0: tf.Tensor | null,
  options: RecurrentSequenceOptions,
): RecurrentSequenceResult {
  const { mode, numLayers, bidirectional } = options;
  const directions = bidirectional ? 2 : 1;
  if (weights.length !== numLayers * directions) {
    throw new FulmenError(
      `recurrentSequence: got ${weights.length} weight sets for ${numLayers} layer(s) × ${directions} direction(s); pass one per layer and direction, layer-major.`,
    );
  }
  if (x.rank !== 3) {
    throw new FulmenError(
      `recurrentSequence: expected a time-major input [time, batch, features], got shape [${x.shape}].`,
    );
  }
  if ((mode === "LSTM") !== (c0 !== null)) {
    throw new FulmenError(
      `recurrentSequence: ${mode === "LSTM" ? "an LSTM needs an initial cell state c0" : `mode ${mode} takes no cell state; pass null`}.`,
    );
  }
  if (options.lengths !== undefined) {
    const [T, B] = x.shape as [number, number];
    const lengths = options.lengths;
    if (
      lengths.length !== B ||
      lengths.some((n, i) => !Number.isInteger(n) || n < 1 || n > T || (i > 0 && n > lengths[i - 1]!))
    ) {
      throw new FulmenError(
        `recurrentSequence: lengths must give each of the ${B} batch entries a whole number of steps in 1..${T}, longest first (as packing sorts them), got [${lengths}].`,
      );
    }
  }
  const generator = options.generator ?? getDefaultGenerator();
  return tf.tidy(() => stackedLayers(x, weights, h0, c0, options, generator));
}

/** The body of {@link recurrentSequence}, inside its tidy scope. */
function stackedLayers(
  x: tf.Tensor,
  weights: readonly RecurrentWeights[],
  h0: tf.Tensor,
  c0: tf.Tensor | null,
  options: RecurrentSequenceOptions,
  generator: Generator,
): RecurrentSequenceResult {
  const { mode, numLayers, bidirectional } = options;
  const directions = bidirectional ? 2 : 1;
  const hs = unstack0(h0);
  const cs = c0 === null ? null : unstack0(c0);
  const hN: tf.Tensor[] = [];
  const cN: tf.Tensor[] = [];
  let layerInput = x;
  for (let layer = 0; layer < numLayers; layer++) {
    const outs: tf.Tensor[] = [];
    for (let d = 0; d < directions; d++) {
      const k = layer * directions + d;
      const r = runDirection(
        mode,
        layerInput,
        weights[k]!,
        hs[k]!,
        cs === null ? null : cs[k]!,
        d === 1,
        options.lengths,
      );
      outs.push(r.output);
      hN.push(r.h);
      if (r.c !== null) cN.push(r.c);
    }
    layerInput = directions === 1 ? outs[0]! : tf.concat(outs, 2);
    if (options.training && options.dropout > 0 && layer < numLayers - 1) {
      layerInput = dropout(layerInput, { p: options.dropout, generator });
    }
  }
  const result: RecurrentSequenceResult = { output: layerInput, hN: tf.stack(hN, 0) };
  if (mode === "LSTM") result.cN = tf.stack(cN, 0);
  return result;
}

/** Checks a cell's input `[B, I]` and state `[B, H]` agree, naming the cell and the fix. */
function checkCell(owner: string, input: tf.Tensor, hx: tf.Tensor, w: tf.Tensor): void {
  if (input.rank !== 2 || hx.rank !== 2 || input.shape[0] !== hx.shape[0]) {
    throw new FulmenError(
      `${owner}: expected input [batch, inputSize] and state [batch, hidden] with the same batch, got [${input.shape}] and [${hx.shape}].`,
    );
  }
  if (input.shape[1] !== w.shape[1]) {
    throw new FulmenError(
      `${owner}: input has ${input.shape[1]} features but weightIh expects ${w.shape[1]}; pass [batch, ${w.shape[1]}].`,
    );
  }
}

/**
 * One step of a cell whose state is a single tensor (Elman RNNs, the GRU): checks the shapes, naming `owner`,
 * then projects the input and runs {@link step} on it.
 */
function singleStateCell(
  owner: string,
  mode: Exclude<RecurrentMode, "LSTM">,
  input: tf.Tensor,
  hx: tf.Tensor,
  w: RecurrentWeights,
): tf.Tensor {
  checkCell(owner, input, hx, w.weightIh);
  return tf.tidy(() => step(mode, linear(input, w.weightIh, w.biasIh), hx, null, w)[0]);
}

/** One Elman step `tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)`, like `torch.rnn_tanh_cell`. Inputs `[B, I]`, `[B, H]`. */
export function rnnTanhCell(
  input: tf.Tensor,
  hx: tf.Tensor,
  weightIh: tf.Tensor,
  weightHh: tf.Tensor,
  biasIh?: tf.Tensor | null,
  biasHh?: tf.Tensor | null,
): tf.Tensor {
  return singleStateCell("rnnTanhCell", "RNN_TANH", input, hx, { weightIh, weightHh, biasIh, biasHh });
}

/** One Elman step with ReLU, like `torch.rnn_relu_cell`. Inputs `[B, I]`, `[B, H]`. */
export function rnnReluCell(
  input: tf.Tensor,
  hx: tf.Tensor,
  weightIh: tf.Tensor,
  weightHh: tf.Tensor,
  biasIh?: tf.Tensor | null,
  biasHh?: tf.Tensor | null,
): tf.Tensor {
  return singleStateCell("rnnReluCell", "RNN_RELU", input, hx, { weightIh, weightHh, biasIh, biasHh });
}

/** One LSTM step (gates i, f, g, o), like `torch.lstm_cell`: returns `[h, c]`. Inputs `[B, I]`, `[B, H]`, `[B, H]`. */
export function lstmCell(
  input: tf.Tensor,
  hx: readonly [tf.Tensor, tf.Tensor],
  weightIh: tf.Tensor,
  weightHh: tf.Tensor,
  biasIh?: tf.Tensor | null,
  biasHh?: tf.Tensor | null,
): [tf.Tensor, tf.Tensor] {
  checkCell("lstmCell", input, hx[0], weightIh);
  return tf.tidy(() => {
    const [h, c] = step("LSTM", linear(input, weightIh, biasIh), hx[0], hx[1], {
      weightIh,
      weightHh,
      biasHh,
    });
    return [h, c!] as [tf.Tensor, tf.Tensor];
  });
}

/**
 * One GRU step (gates r, z, n; `n = tanh(W_in x + b_in + r·(W_hn h + b_hn))`, `h' = (1 - z)·n + z·h`), like
 * `torch.gru_cell`. Inputs `[B, I]`, `[B, H]`.
 */
export function gruCell(
  input: tf.Tensor,
  hx: tf.Tensor,
  weightIh: tf.Tensor,
  weightHh: tf.Tensor,
  biasIh?: tf.Tensor | null,
  biasHh?: tf.Tensor | null,
): tf.Tensor {
  return singleStateCell("gruCell", "GRU", input, hx, { weightIh, weightHh, biasIh, biasHh });
}
