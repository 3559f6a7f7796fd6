import { Parameter } from "../../autograd/parameter";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames, describeValue } from "../../utils/options";
import {
  type RecurrentMode,
  type RecurrentSequenceOptions,
  type RecurrentWeights,
  recurrentSequence,
} from "../functional/recurrent";
import { uniform_ } from "../init";
import { Module } from "../module";
import { PackedSequence, paddedTimeMajor } from "../utils/rnn";

/** What a recurrent layer's run gives: the output (a tensor, or packed like a packed input) and final states. */
export type RecurrentRun<O> = {
  /** The last layer's h at every step, in the input's layout, its features `directions · outputHidden`. */
  output: O;
  /** Every layer and direction's last h: `[layers·directions, B, outputHidden]` (no `B` unbatched). */
  hN: tf.Tensor;
  /** An LSTM's last cell states, `[layers·directions, B, hiddenSize]` (no `B` unbatched); else absent. */
  cN?: tf.Tensor;
};

/** Options shared by {@link RNN}, {@link LSTM} and {@link GRU} (PyTorch's keywords in camelCase). */
export interface RNNBaseOptions {
  /** Stacked recurrent layers (default 1). */
  numLayers?: number;
  /** Learn the biases `bias_ih_lK`, `bias_hh_lK` (default true). */
  bias?: boolean;
  /** Inputs and outputs are `[batch, time, features]` instead of `[time, batch, features]` (default false). */
  batchFirst?: boolean;
  /**
   * Dropout probability on each layer's output except the last, in training mode only (default 0). As in
   * PyTorch, it changes nothing with one layer.
   */
  dropout?: number;
  /** Add a layer running backwards in time and concatenate both directions' features (default false). */
  bidirectional?: boolean;
}

/** Options of {@link RNN}. */
export interface RNNOptions extends RNNBaseOptions {
  /** `tanh` (default) or `relu`. */
  nonlinearity?: "tanh" | "relu";
}

/** Options of {@link LSTM}. */
export interface LSTMOptions extends RNNBaseOptions {
  /** Project the hidden state to this size with `weight_hr_lK` (default 0: no projection); below hiddenSize. */
  projSize?: number;
}

/** Options of {@link GRU}. */
export type GRUOptions = RNNBaseOptions;

const BASE_OPTIONS = ["numLayers", "bias", "batchFirst", "dropout", "bidirectional"] as const;

function gatesOf(mode: RecurrentMode): number {
  return mode === "LSTM" ? 4 : mode === "GRU" ? 3 : 1;
}

/**
 * What `torch.nn.RNN`, `LSTM` and `GRU` share: PyTorch's parameters (`weight_ih_l0`, `weight_hh_l0`,
 * `bias_ih_l0`, `bias_hh_l0`, [`weight_hr_l0`], then `…_reverse` for the backward direction, layer by layer),
 * its initialisation U(±1/√hidden) for all of them, and the forward over batched `[T, B, I]` (or `[B, T, I]`
 * with batchFirst) or unbatched `[T, I]` inputs.
 */
abstract class RNNBase extends Module {
  /** The number of stacked recurrent layers (default 1). */
  readonly numLayers: number;
  /** Whether the layers have the biases `bias_ih_lK` and `bias_hh_lK` (default true). */
  readonly bias: boolean;
  /** Whether batched inputs and outputs are `[batch, time, features]` (default false: time first). */
  readonly batchFirst: boolean;
  /** Dropout probability on each layer's output except the last, in training mode only (default 0). */
  readonly dropout: number;
  /** Whether each layer also runs backwards in time, doubling the output's features (default false). */
  readonly bidirectional: boolean;
  /** The LSTM projection size (0: none). */
  readonly projSize: number;
  /** The parameters of each layer and direction, layer-major (the same objects as the named fields). */
  private readonly weightSets: Array<{
    ih: Parameter;
    hh: Parameter;
    bih: Parameter | null;
    bhh: Parameter | null;
    hr: Parameter | null;
  }> = [];

  protected constructor(
    private readonly owner: string,
    /** PyTorch's mode string: `"RNN_TANH"`, `"RNN_RELU"`, `"LSTM"` or `"GRU"`. */
    protected readonly mode: RecurrentMode,
    /** The number of features of each input step: the input's last dimension. */
    readonly inputSize: number,
    /** The number of features of the hidden state h (of the cell state c for an LSTM with `projSize`). */
    readonly hiddenSize: number,
    options: RNNBaseOptions & { projSize?: number },
  ) {
    super();
    const positiveInt = (v: number) => Number.isInteger(v) && v > 0;
    checkNumber(owner, "inputSize", inputSize, positiveInt, "a positive integer");
    checkNumber(owner, "hiddenSize", hiddenSize, positiveInt, "a positive integer");
    this.numLayers = options.numLayers ?? 1;
    checkNumber(owner, "numLayers", this.numLayers, positiveInt, "a positive integer");
    this.dropout = options.dropout ?? 0;
    checkNumber(owner, "dropout", this.dropout, (v) => v >= 0 && v <= 1, "a probability between 0 and 1");
    this.bias = checkFlag(owner, "bias", options.bias, true);
    this.batchFirst = checkFlag(owner, "batchFirst", options.batchFirst, false);
    this.bidirectional = checkFlag(owner, "bidirectional", options.bidirectional, false);
    this.projSize = options.projSize ?? 0;
    checkNumber(
      owner,
      "projSize",
      this.projSize,
      (v) => Number.isInteger(v) && v >= 0 && v < hiddenSize,
      `a non-negative integer below hiddenSize (${hiddenSize}); 0 means no projection`,
    );
    const gates = gatesOf(mode) * hiddenSize;
    const realHidden = this.projSize > 0 ? this.projSize : hiddenSize;
    const directions = this.bidirectional ? 2 : 1;
    for (let layer = 0; layer < this.numLayers; layer++) {
      const layerInput = layer === 0 ? inputSize : realHidden * directions;
      for (let d = 0; d < directions; d++) {
        const suffix = `_l${layer}${d === 1 ? "_reverse" : ""}`;
        const ih = Parameter.full([gates, layerInput], 0);
        const hh = Parameter.full([gates, realHidden], 0);
        const bih = this.bias ? Parameter.full([gates], 0) : null;
        const bhh = this.bias ? Parameter.full([gates], 0) : null;
        const hr = this.projSize > 0 ? Parameter.full([this.projSize, hiddenSize], 0) : null;
        // PyTorch's order within a layer and direction: w_ih, w_hh, b_ih, b_hh, w_hr
        this.registerParameter(`weight_ih${suffix}`, ih);
        this.registerParameter(`weight_hh${suffix}`, hh);
        if (bih !== null && bhh !== null) {
          this.registerParameter(`bias_ih${suffix}`, bih);
          this.registerParameter(`bias_hh${suffix}`, bhh);
        }
        if (hr !== null) this.registerParameter(`weight_hr${suffix}`, hr);
        this.weightSets.push({ ih, hh, bih, bhh, hr });
      }
    }
    this.resetParameters();
  }

  /** Re-draws every parameter from U(±1/√hiddenSize), PyTorch's initialisation, in PyTorch's order. */
  resetParameters(): void {
    const stdv = 1 / Math.sqrt(this.hiddenSize);
    for (const p of this.parameters(false)) uniform_(p, -stdv, stdv);
  }

  /** The size of the hidden state h (projSize when projecting). */
  protected get outputHidden(): number {
    return this.projSize > 0 ? this.projSize : this.hiddenSize;
  }

  /** Runs the recurrence; `h0`/`c0` as the caller passed them (undefined: zeros). */
  protected run(
    input: tf.Tensor,
    h0: tf.Tensor | undefined,
    c0: tf.Tensor | undefined,
  ): RecurrentRun<tf.Tensor>;
  /** Runs the recurrence over a packed sequence, each sequence stopping at its own length. */
  protected run(
    input: tf.Tensor | PackedSequence,
    h0: tf.Tensor | undefined,
    c0: tf.Tensor | undefined,
  ): RecurrentRun<tf.Tensor | PackedSequence>;
  protected run(
    input: tf.Tensor | PackedSequence,
    h0: tf.Tensor | undefined,
    c0: tf.Tensor | undefined,
  ): RecurrentRun<tf.Tensor | PackedSequence> {
    const owner = this.owner;
    if (input instanceof PackedSequence) return this.runPacked(input, h0, c0);
    if (!(input instanceof tf.Tensor)) {
      throw new FulmenError(
        `${owner}: expected a tensor or a PackedSequence input, got ${describeValue(input)}.`,
      );
    }
    if (input.rank !== 2 && input.rank !== 3) {
      throw new FulmenError(
        `${owner}: expected a 3-D input ${this.batchFirst ? "[batch, time, features]" : "[time, batch, features]"} or an unbatched 2-D [time, features], got shape [${input.shape}].`,
      );
    }
    this.checkFeatures(input);
    const batched = input.rank === 3;
    return tf.tidy(() => {
      // unbatched input is [T, I] whatever batchFirst says, as in PyTorch
      const x = !batched ? tf.expandDims(input, 1) : this.batchFirst ? tf.transpose(input, [1, 0, 2]) : input;
      const batch = x.shape[1]!;
      const states = this.numLayers * (this.bidirectional ? 2 : 1);
      const h = this.initialState("h0", h0, [states, batch, this.outputHidden], batched);
      const c =
        this.mode === "LSTM" ? this.initialState("c0", c0, [states, batch, this.hiddenSize], batched) : null;
      const r = recurrentSequence(x, this.weightTensors(), h, c, this.sequenceOptions());
      const output = !batched
        ? tf.squeeze(r.output, [1])
        : this.batchFirst
          ? tf.transpose(r.output, [1, 0, 2])
          : r.output;
      const hN = batched ? r.hN : tf.squeeze(r.hN, [1]);
      const result: RecurrentRun<tf.Tensor> = { output, hN };
      if (r.cN !== undefined) result.cN = batched ? r.cN : tf.squeeze(r.cN, [1]);
      return result;
    });
  }

  /**
   * The recurrence over a packed sequence, as PyTorch runs one: the initial states given in the batch's original
   * order, each sequence's recurrence stopping at its own length; the output packed like the input and the
   * final states (each sequence's state at its last step) in the original order.
   */
  private runPacked(
    sequence: PackedSequence,
    h0: tf.Tensor | undefined,
    c0: tf.Tensor | undefined,
  ): RecurrentRun<PackedSequence> {
    if (sequence.data.rank !== 2) {
      throw new FulmenError(
        `${this.owner}: a packed input's data must be [sum of lengths, inputSize], got shape [${sequence.data.shape}].`,
      );
    }
    this.checkFeatures(sequence.data);
    const lengths = sequence.sortedLengths();
    const steps = sequence.batchSizes.length;
    const batch = lengths.length;
    const { data, hN, cN } = tf.tidy(() => {
      const x = paddedTimeMajor(sequence, steps, 0, false);
      const states = this.numLayers * (this.bidirectional ? 2 : 1);
      const toSorted = (t: tf.Tensor | null) =>
        t === null || sequence.sortedIndices === null
          ? t
          : tf.gather(t, tf.tensor1d([...sequence.sortedIndices], "int32"), 1);
      const toOriginal = (t: tf.Tensor) =>
        sequence.unsortedIndices === null
          ? t
          : tf.gather(t, tf.tensor1d([...sequence.unsortedIndices], "int32"), 1);
      const h = toSorted(this.initialState("h0", h0, [states, batch, this.outputHidden], true))!;
      const c =
        this.mode === "LSTM"
          ? toSorted(this.initialState("c0", c0, [states, batch, this.hiddenSize], true))
          : null;
      const r = recurrentSequence(x, this.weightTensors(), h, c, { ...this.sequenceOptions(), lengths });
      // the packed rows: step t's first batchSizes[t] (sorted) entries
      const rows: number[] = [];
      sequence.batchSizes.forEach((size, t) => {
        for (let k = 0; k < size; k++) rows.push(t * batch + k);
      });
      const features = r.output.shape[2]!;
      const packed = tf.gather(tf.reshape(r.output, [steps * batch, features]), tf.tensor1d(rows, "int32"));
      return { data: packed, hN: toOriginal(r.hN), cN: r.cN === undefined ? undefined : toOriginal(r.cN) };
    });
    const output = new PackedSequence(
      data,
      sequence.batchSizes,
      sequence.sortedIndices,
      sequence.unsortedIndices,
    );
    const result: RecurrentRun<PackedSequence> = { output, hN };
    if (cN !== undefined) result.cN = cN;
    return result;
  }

  /** Throws unless the input's last dimension is `inputSize`. */
  private checkFeatures(input: tf.Tensor): void {
    if (input.shape[input.rank - 1] !== this.inputSize) {
      throw new FulmenError(
        `${this.owner}: input's last dimension is ${input.shape[input.rank - 1]} (shape [${input.shape}]) but inputSize is ${this.inputSize}.`,
      );
    }
  }

  /** The weights of every layer and direction as {@link recurrentSequence} takes them. */
  private weightTensors(): RecurrentWeights[] {
    return this.weightSets.map((w) => ({
      weightIh: w.ih.data,
      weightHh: w.hh.data,
      biasIh: w.bih?.data ?? null,
      biasHh: w.bhh?.data ?? null,
      weightHr: w.hr?.data ?? null,
    }));
  }

  /** The layer's recurrence options for {@link recurrentSequence}. */
  private sequenceOptions(): RecurrentSequenceOptions {
    return {
      mode: this.mode,
      numLayers: this.numLayers,
      bidirectional: this.bidirectional,
      dropout: this.dropout,
      training: this.training,
    };
  }

  /** The given initial state checked against `shape` (batched layout), or zeros. */
  private initialState(
    name: string,
    given: tf.Tensor | undefined,
    shape: number[],
    batched: boolean,
  ): tf.Tensor {
    if (given === undefined || given === null) return tf.zeros(shape);
    const expected = batched ? shape : [shape[0]!, shape[2]!];
    if (!(given instanceof tf.Tensor) || given.shape.join() !== expected.join()) {
      const got = given instanceof tf.Tensor ? `shape [${given.shape}]` : describeValue(given);
      throw new FulmenError(
        `${this.owner}: initial state ${name} must have shape [${expected}] ([layers·directions, ${batched ? "batch, " : ""}hidden] for a${batched ? " batched" : "n unbatched"} input), got ${got}.`,
      );
    }
    return batched ? given : tf.expandDims(given, 1);
  }

  /** The sizes and every option that differs from its default, for `toString`. */
  protected override extraRepr(): string {
    const parts = [`${this.inputSize}`, `${this.hiddenSize}`];
    if (this.numLayers !== 1) parts.push(`numLayers=${this.numLayers}`);
    if (!this.bias) parts.push("bias=false");
    if (this.batchFirst) parts.push("batchFirst=true");
    if (this.dropout !== 0) parts.push(`dropout=${this.dropout}`);
    if (this.bidirectional) parts.push("bidirectional=true");
    if (this.projSize !== 0) parts.push(`projSize=${this.projSize}`);
    return parts.join(", ");
  }
}

/** A boolean option, with its default, or an error naming it. */
function checkFlag(owner: string, name: string, value: boolean | undefined, defaultValue: boolean): boolean {
  if (value === undefined) return defaultValue;
  if (typeof value !== "boolean") {
    throw new FulmenError(`${owner}: ${name} must be true or false, got ${describeValue(value)}.`);
  }
  return value;
}

/**
 * An Elman RNN, `h_t = act(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh)`, like `torch.nn.RNN`.
 * `forward(input, h0?)` returns `[output, hN]`.
 */
export class RNN extends RNNBase {
  /** `tanh` or `relu`. */
  readonly nonlinearity: "tanh" | "relu";

  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    checkOptionNames("RNN", options, [...BASE_OPTIONS, "nonlinearity"]);
    const nonlinearity = options.nonlinearity ?? "tanh";
    if (nonlinearity !== "tanh" && nonlinearity !== "relu") {
      throw new FulmenError(
        `RNN: unknown nonlinearity ${describeValue(nonlinearity)}; use 'tanh' or 'relu'.`,
      );
    }
    super("RNN", nonlinearity === "tanh" ? "RNN_TANH" : "RNN_RELU", inputSize, hiddenSize, options);
    this.nonlinearity = nonlinearity;
  }

  /**
   * `input` `[T, B, inputSize]` (`[B, T, inputSize]` with batchFirst) or unbatched `[T, inputSize]`; `hx`
   * `[layers·directions, B, hidden]` (unbatched `[layers·directions, hidden]`), zeros when absent. Returns
   * `[output, hN]`.
   */
  forward(input: tf.Tensor, hx?: tf.Tensor | null): [tf.Tensor, tf.Tensor];
  /** A packed batch (`nn.utils.rnn.packPaddedSequence`): returns `[packed output, hN]`, hN in the batch's order. */
  forward(input: PackedSequence, hx?: tf.Tensor | null): [PackedSequence, tf.Tensor];
  forward(input: tf.Tensor | PackedSequence, hx?: tf.Tensor | null): [tf.Tensor | PackedSequence, tf.Tensor] {
    const r = this.run(input, hx ?? undefined, undefined);
    return [r.output, r.hN];
  }

  /** The base sizes and options, and the nonlinearity when it is `relu`, for `toString`. */
  protected override extraRepr(): string {
    return `${super.extraRepr()}${this.nonlinearity === "relu" ? ", nonlinearity='relu'" : ""}`;
  }
}

/**
 * A long short-term memory network, like `torch.nn.LSTM` (gates i, f, g, o; optional projection of h with
 * projSize). `forward(input, [h0, c0]?)` returns `[output, [hN, cN]]`.
 */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: LSTMOptions = {}) {
    checkOptionNames("LSTM", options, [...BASE_OPTIONS, "projSize"]);
    super("LSTM", "LSTM", inputSize, hiddenSize, options);
  }

  /**
   * `input` as {@link RNN.forward}; `hx` `[h0, c0]` with h0 `[layers·directions, B, projSize || hidden]` and
   * c0 `[layers·directions, B, hidden]` (no batch dimension for an unbatched input), zeros when absent.
   * Returns `[output, [hN, cN]]`.
   */
  forward(input: tf.Tensor, hx?: readonly [tf.Tensor, tf.Tensor] | null): [tf.Tensor, [tf.Tensor, tf.Tensor]];
  /** A packed batch: returns `[packed output, [hN, cN]]`, the states in the batch's order. */
  forward(
    input: PackedSequence,
    hx?: readonly [tf.Tensor, tf.Tensor] | null,
  ): [PackedSequence, [tf.Tensor, tf.Tensor]];
  forward(
    input: tf.Tensor | PackedSequence,
    hx?: readonly [tf.Tensor, tf.Tensor] | null,
  ): [tf.Tensor | PackedSequence, [tf.Tensor, tf.Tensor]] {
    if (hx != null && (!Array.isArray(hx) || hx.length !== 2)) {
      throw new FulmenError(
        `LSTM: hx must be a pair [h0, c0] of tensors (or absent for zeros), got ${describeValue(hx)}.`,
      );
    }
    const r = this.run(input, hx?.[0], hx?.[1]);
    return [r.output, [r.hN, r.cN!]];
  }
}

/**
 * A gated recurrent unit network, like `torch.nn.GRU` (gates r, z, n with
 * `n = tanh(W_in x + b_in + r·(W_hn h + b_hn))`, `h' = (1 - z)·n + z·h`). `forward(input, h0?)` returns
 * `[output, hN]`.
 */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: GRUOptions = {}) {
    checkOptionNames("GRU", options, [...BASE_OPTIONS]);
    super("GRU", "GRU", inputSize, hiddenSize, options);
  }

  /** As {@link RNN.forward}: returns `[output, hN]`. */
  forward(input: tf.Tensor, hx?: tf.Tensor | null): [tf.Tensor, tf.Tensor];
  /** A packed batch: returns `[packed output, hN]`, hN in the batch's order. */
  forward(input: PackedSequence, hx?: tf.Tensor | null): [PackedSequence, tf.Tensor];
  forward(input: tf.Tensor | PackedSequence, hx?: tf.Tensor | null): [tf.Tensor | PackedSequence, tf.Tensor] {
    const r = this.run(input, hx ?? undefined, undefined);
    return [r.output, r.hN];
  }
}
