import { FACTORY, REQUIRED, type TorchParam, type TorchSignature } from "./common";

/**
 * PyTorch 1.13's `RNNBase` parameters after the mode: `RNN`, `LSTM` and `GRU` pass `*args` through to it, so
 * these are their positional orders (`RNN`'s `nonlinearity` is keyword-only there; today's PyTorch also accepts
 * it fourth positionally, which the golden files do not use).
 */
const RNN_BASE: readonly TorchParam[] = [
  ["input_size", REQUIRED],
  ["hidden_size", REQUIRED],
  ["num_layers", 1],
  ["bias", true],
  ["batch_first", false],
  ["dropout", 0],
  ["bidirectional", false],
];

/** A recurrent module: inputSize and hiddenSize positionally, everything else in the options object. */
function recurrent(extra: readonly TorchParam[]): TorchSignature {
  return { params: [...RNN_BASE, ...extra, ...FACTORY], positional: 2, options: true };
}

/** A cell: `(input_size, hidden_size, bias=True, …)`. */
function cell(extra: readonly TorchParam[]): TorchSignature {
  return {
    params: [["input_size", REQUIRED], ["hidden_size", REQUIRED], ["bias", true], ...extra, ...FACTORY],
    positional: 2,
    options: true,
  };
}

/** PyTorch's signatures of the recurrent family's `torch.nn` classes, by name. */
export const modules: Readonly<Record<string, TorchSignature>> = {
  RNN: recurrent([["nonlinearity", "tanh"]]),
  LSTM: recurrent([["proj_size", 0]]),
  GRU: recurrent([]),
  RNNCell: cell([["nonlinearity", "tanh"]]),
  LSTMCell: cell([]),
  GRUCell: cell([]),
};

/** PyTorch's signatures of the recurrent family's `torch.nn.functional` functions (after the tensor arguments). */
export const functions: Readonly<Record<string, readonly TorchParam[]>> = {};
