import { FACTORY, REQUIRED, type TorchParam, type TorchSignature } from "./common";

/** A module whose only PyTorch argument is `inplace`, which Fulmen has no use for. */
const INPLACE_ONLY: TorchSignature = { params: [["inplace", false]], positional: 0, options: false };
/** A module without arguments. */
const NO_ARGUMENTS: TorchSignature = { params: [], positional: 0, options: false };

/** PyTorch's signatures of the activations family's `torch.nn` classes, by name. */
export const modules: Readonly<Record<string, TorchSignature>> = {
  SiLU: INPLACE_ONLY,
  SELU: INPLACE_ONLY,
  Mish: INPLACE_ONLY,
  Hardswish: INPLACE_ONLY,
  Hardsigmoid: INPLACE_ONLY,
  Softmax: { params: [["dim", null]], positional: 1, options: false },
  LogSoftmax: { params: [["dim", null]], positional: 1, options: false },
  GLU: { params: [["dim", -1]], positional: 1, options: false },
  LeakyReLU: {
    params: [
      ["negative_slope", 0.01],
      ["inplace", false],
    ],
    positional: 1,
    options: false,
  },
  ELU: {
    params: [
      ["alpha", 1.0],
      ["inplace", false],
    ],
    positional: 1,
    options: false,
  },
  Softplus: {
    params: [
      ["beta", 1],
      ["threshold", 20],
    ],
    positional: 2,
    options: false,
  },
  // PyTorch 1.13 also takes the deprecated min_value/max_value keywords after inplace.
  Hardtanh: {
    params: [
      ["min_val", -1.0],
      ["max_val", 1.0],
      ["inplace", false],
      ["min_value", null],
      ["max_value", null],
    ],
    positional: 2,
    options: false,
  },
  PReLU: {
    params: [["num_parameters", 1], ["init", 0.25], ...FACTORY],
    positional: 2,
    options: false,
  },
  Tanh: NO_ARGUMENTS,
  Sigmoid: NO_ARGUMENTS,
  ReLU6: INPLACE_ONLY,
  LogSigmoid: NO_ARGUMENTS,
  Softsign: NO_ARGUMENTS,
  Tanhshrink: NO_ARGUMENTS,
  CELU: {
    params: [
      ["alpha", 1.0],
      ["inplace", false],
    ],
    positional: 1,
    options: false,
  },
  Threshold: {
    params: [
      ["threshold", REQUIRED],
      ["value", REQUIRED],
      ["inplace", false],
    ],
    positional: 2,
    options: false,
  },
  Hardshrink: { params: [["lambd", 0.5]], positional: 1, options: false },
  Softshrink: { params: [["lambd", 0.5]], positional: 1, options: false },
  RReLU: {
    params: [
      ["lower", 1 / 8],
      ["upper", 1 / 3],
      ["inplace", false],
    ],
    positional: 2,
    options: false,
  },
  Softmin: { params: [["dim", null]], positional: 1, options: false },
};

const INPLACE: readonly TorchParam[] = [["inplace", false]];

/**
 * PyTorch's signatures of the activations family's `torch.nn.functional` functions (after the tensor arguments);
 * Fulmen's functions take the same keywords in camelCase in an options object (`leakyRelu(x, { negativeSlope })`).
 */
export const functions: Readonly<Record<string, readonly TorchParam[]>> = {
  relu: INPLACE,
  silu: INPLACE,
  selu: INPLACE,
  mish: INPLACE,
  hardswish: INPLACE,
  hardsigmoid: INPLACE,
  gelu: [["approximate", "none"]],
  leaky_relu: [["negative_slope", 0.01], ...INPLACE],
  elu: [["alpha", 1.0], ...INPLACE],
  softplus: [
    ["beta", 1],
    ["threshold", 20],
  ],
  hardtanh: [["min_val", -1.0], ["max_val", 1.0], ...INPLACE],
  softmax: [
    ["dim", null],
    ["_stacklevel", 3],
    ["dtype", null],
  ],
  log_softmax: [
    ["dim", null],
    ["_stacklevel", 3],
    ["dtype", null],
  ],
  glu: [["dim", -1]],
  relu6: INPLACE,
  logsigmoid: [],
  softsign: [],
  tanhshrink: [],
  celu: [["alpha", 1.0], ...INPLACE],
  threshold: [["threshold", REQUIRED], ["value", REQUIRED], ...INPLACE],
  hardshrink: [["lambd", 0.5]],
  softshrink: [["lambd", 0.5]],
  rrelu: [["lower", 1 / 8], ["upper", 1 / 3], ["training", false], ...INPLACE],
  softmin: [
    ["dim", null],
    ["_stacklevel", 3],
    ["dtype", null],
  ],
  one_hot: [["num_classes", -1]],
};
