import { Parameter } from "../../autograd/parameter";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames, describeValue } from "../../utils/options";
import { gruCell, lstmCell, rnnReluCell, rnnTanhCell } from "../functional/recurrent";
import { uniform_ } from "../init";
import { Module } from "../module";

/** Options of {@link LSTMCell} and {@link GRUCell}. */
export interface RNNCellBaseOptions {
  /** Learn the biases `bias_ih`, `bias_hh` (default true). */
  bias?: boolean;
}

/** Options of {@link RNNCell}. */
export interface RNNCellOptions extends RNNCellBaseOptions {
  /** `tanh` (default) or `relu`. */
  nonlinearity?: "tanh" | "relu";
}

/**
 * What `torch.nn.RNNCell`, `LSTMCell` and `GRUCell` share: parameters `weight_ih [gates·hidden, input]`,
 * `weight_hh [gates·hidden, hidden]`, `bias_ih`, `bias_hh`, all drawn from U(±1/√hidden) as PyTorch does, and
 * the checks of a batched `[B, input]` or unbatched `[input]` step.
 */
abstract class RNNCellBase extends Module {
  /**
   * The input-hidden weights `[gates·hiddenSize, inputSize]` (PyTorch's `weight_ih`), the gates stacked in
   * PyTorch's order: 1 for RNNCell, 4 (i, f, g, o) for LSTMCell, 3 (r, z, n) for GRUCell.
   */
  weight_ih: Parameter;
  /** The hidden-hidden weights `[gates·hiddenSize, hiddenSize]` (PyTorch's `weight_hh`), gates as above. */
  weight_hh: Parameter;
  /** The input-hidden bias `[gates·hiddenSize]` (PyTorch's `bias_ih`), or null with `bias: false`. */
  bias_ih: Parameter | null;
  /** The hidden-hidden bias `[gates·hiddenSize]` (PyTorch's `bias_hh`), or null with `bias: false`. */
  bias_hh: Parameter | null;

  protected constructor(
    private readonly owner: string,
    /** The number of features of the input: its last dimension. */
    readonly inputSize: number,
    /** The number of features of the hidden state (and of an LSTM's cell state). */
    readonly hiddenSize: number,
    gates: number,
    bias: boolean | undefined,
  ) {
    super();
    const positiveInt = (v: number) => Number.isInteger(v) && v > 0;
    checkNumber(owner, "inputSize", inputSize, positiveInt, "a positive integer");
    checkNumber(owner, "hiddenSize", hiddenSize, positiveInt, "a positive integer");
    if (bias !== undefined && typeof bias !== "boolean") {
      throw new FulmenError(`${owner}: bias must be true or false, got ${describeValue(bias)}.`);
    }
    this.weight_ih = Parameter.full([gates * hiddenSize, inputSize], 0);
    this.weight_hh = Parameter.full([gates * hiddenSize, hiddenSize], 0);
    this.bias_ih = bias === false ? null : Parameter.full([gates * hiddenSize], 0);
    this.bias_hh = bias === false ? null : Parameter.full([gates * hiddenSize], 0);
    this.resetParameters();
  }

  /** Re-draws every parameter from U(±1/√hiddenSize), PyTorch's initialisation. */
  resetParameters(): void {
    const stdv = 1 / Math.sqrt(this.hiddenSize);
    for (const p of this.parameters(false)) uniform_(p, -stdv, stdv);
  }

  /** The input as `[B, input]` (an unbatched `[input]` gets a batch of one), checked. */
  protected batchedInput(input: tf.Tensor): tf.Tensor {
    if (!(input instanceof tf.Tensor) || (input.rank !== 1 && input.rank !== 2)) {
      const got = input instanceof tf.Tensor ? `shape [${input.shape}]` : describeValue(input);
      throw new FulmenError(
        `${this.owner}: expected an input [batch, ${this.inputSize}] or unbatched [${this.inputSize}], got ${got}.`,
      );
    }
    if (input.shape[input.rank - 1] !== this.inputSize) {
      throw new FulmenError(
        `${this.owner}: input's last dimension is ${input.shape[input.rank - 1]} (shape [${input.shape}]) but inputSize is ${this.inputSize}.`,
      );
    }
    return input.rank === 1 ? tf.expandDims(input, 0) : input;
  }

  /** A state for a batch of `batch` (zeros when absent), checked against the input's batching. */
  protected batchedState(
    name: string,
    state: tf.Tensor | undefined | null,
    input: tf.Tensor,
    batch: number,
  ): tf.Tensor {
    if (state == null) return tf.zeros([batch, this.hiddenSize]);
    const expected = input.rank === 1 ? [this.hiddenSize] : [batch, this.hiddenSize];
    if (!(state instanceof tf.Tensor) || state.shape.join() !== expected.join()) {
      const got = state instanceof tf.Tensor ? `shape [${state.shape}]` : describeValue(state);
      throw new FulmenError(
        `${this.owner}: ${name} must have shape [${expected}] for this input, got ${got}.`,
      );
    }
    return input.rank === 1 ? tf.expandDims(state, 0) : state;
  }

  protected override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}${this.bias_ih === null ? ", bias=false" : ""}`;
  }
}

/** One Elman step `h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)`, like `torch.nn.RNNCell`; `forward(input, hx?)`. */
export class RNNCell extends RNNCellBase {
  /** `tanh` or `relu`. */
  readonly nonlinearity: "tanh" | "relu";

  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions = {}) {
    checkOptionNames("RNNCell", options, ["bias", "nonlinearity"]);
    const nonlinearity = options.nonlinearity ?? "tanh";
    if (nonlinearity !== "tanh" && nonlinearity !== "relu") {
      throw new FulmenError(
        `RNNCell: unknown nonlinearity ${describeValue(nonlinearity)}; use 'tanh' or 'relu'.`,
      );
    }
    super("RNNCell", inputSize, hiddenSize, 1, options.bias);
    this.nonlinearity = nonlinearity;
  }

  /** `input [B, inputSize]` or `[inputSize]`, `hx` of the same batching with hiddenSize features (zeros if absent). */
  forward(input: tf.Tensor, hx?: tf.Tensor | null): tf.Tensor {
    return tf.tidy(() => {
      const x = this.batchedInput(input);
      const h = this.batchedState("hx", hx, input, x.shape[0]!);
      const cell = this.nonlinearity === "tanh" ? rnnTanhCell : rnnReluCell;
      const y = cell(x, h, this.weight_ih.data, this.weight_hh.data, this.bias_ih?.data, this.bias_hh?.data);
      return input.rank === 1 ? tf.squeeze(y, [0]) : y;
    });
  }
}

/** One LSTM step (gates i, f, g, o), like `torch.nn.LSTMCell`; `forward(input, [h, c]?)` returns `[h', c']`. */
export class LSTMCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNCellBaseOptions = {}) {
    checkOptionNames("LSTMCell", options, ["bias"]);
    super("LSTMCell", inputSize, hiddenSize, 4, options.bias);
  }

  /** `input [B, inputSize]` or `[inputSize]`; `hx` a pair `[h, c]` of the same batching (zeros if absent). */
  forward(input: tf.Tensor, hx?: readonly [tf.Tensor, tf.Tensor] | null): [tf.Tensor, tf.Tensor] {
    if (hx != null && (!Array.isArray(hx) || hx.length !== 2)) {
      throw new FulmenError(
        `LSTMCell: hx must be a pair [h, c] of tensors (or absent for zeros), got ${describeValue(hx)}.`,
      );
    }
    return tf.tidy(() => {
      const x = this.batchedInput(input);
      const h = this.batchedState("h", hx?.[0], input, x.shape[0]!);
      const c = this.batchedState("c", hx?.[1], input, x.shape[0]!);
      const [hy, cy] = lstmCell(
        x,
        [h, c],
        this.weight_ih.data,
        this.weight_hh.data,
        this.bias_ih?.data,
        this.bias_hh?.data,
      );
      return input.rank === 1 ? [tf.squeeze(hy, [0]), tf.squeeze(cy, [0])] : [hy, cy];
    });
  }
}

/** One GRU step (gates r, z, n), like `torch.nn.GRUCell`; `forward(input, hx?)`. */
export class GRUCell extends RNNCellBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNCellBaseOptions = {}) {
    checkOptionNames("GRUCell", options, ["bias"]);
    super("GRUCell", inputSize, hiddenSize, 3, options.bias);
  }

  /** As {@link RNNCell.forward}. */
  forward(input: tf.Tensor, hx?: tf.Tensor | null): tf.Tensor {
    return tf.tidy(() => {
      const x = this.batchedInput(input);
      const h = this.batchedState("hx", hx, input, x.shape[0]!);
      const y = gruCell(
        x,
        h,
        this.weight_ih.data,
        this.weight_hh.data,
        this.bias_ih?.data,
        this.bias_hh?.data,
      );
      return input.rank === 1 ? tf.squeeze(y, [0]) : y;
    });
  }
}
