import * as activationsFamily from "./signatures/activations";
import * as attentionFamily from "./signatures/attention";
import {
  AVG_POOL,
  BATCH_NORM,
  FACTORY,
  LEGACY_REDUCTION,
  REQUIRED,
  type TorchParam,
  type TorchSignature,
} from "./signatures/common";
import * as convolutionFamily from "./signatures/convolution";
import * as lossesFamily from "./signatures/losses";
import * as normalizationFamily from "./signatures/normalization";
import * as recurrentFamily from "./signatures/recurrent";
import * as utilityFamily from "./signatures/utility";

/**
 * PyTorch's constructor and function signatures for the `torch.nn` names Fulmen implements, so that a golden
 * file may pass any argument positionally or by keyword, as Python allows: `MaxPool2d(3, 2)` is
 * `MaxPool2d(3, stride=2)`, not a kernel of 3 with its default stride. Without them a positional optional
 * argument would land where Fulmen expects its options object and be silently ignored.
 */

export {
  FACTORY,
  LEGACY_REDUCTION,
  REQUIRED,
  type TorchParam,
  type TorchSignature,
} from "./signatures/common";

/** `torch.nn` classes, by name. */
const CORE_MODULES: Readonly<Record<string, TorchSignature>> = {
  Linear: {
    params: [["in_features", REQUIRED], ["out_features", REQUIRED], ["bias", true], ...FACTORY],
    positional: 2,
    options: true,
  },
  Conv2d: {
    params: [
      ["in_channels", REQUIRED],
      ["out_channels", REQUIRED],
      ["kernel_size", REQUIRED],
      ["stride", 1],
      ["padding", 0],
      ["dilation", 1],
      ["groups", 1],
      ["bias", true],
      ["padding_mode", "zeros"],
      ...FACTORY,
    ],
    positional: 3,
    options: true,
  },
  BatchNorm1d: BATCH_NORM,
  BatchNorm2d: BATCH_NORM,
  LayerNorm: {
    // PyTorch 1.13 has no `bias` (2.1 added it after elementwise_affine); device and dtype are never positional.
    params: [
      ["normalized_shape", REQUIRED],
      ["eps", 1e-5],
      ["elementwise_affine", true],
      ["bias", true],
      ...FACTORY,
    ],
    positional: 1,
    options: true,
  },
  Embedding: {
    params: [
      ["num_embeddings", REQUIRED],
      ["embedding_dim", REQUIRED],
      ["padding_idx", null],
      ["max_norm", null],
      ["norm_type", 2.0],
      ["scale_grad_by_freq", false],
      ["sparse", false],
      ["_weight", null],
      ["_freeze", false],
      ...FACTORY,
    ],
    positional: 2,
    options: true,
  },
  MaxPool2d: {
    params: [
      ["kernel_size", REQUIRED],
      ["stride", null],
      ["padding", 0],
      ["dilation", 1],
      ["return_indices", false],
      ["ceil_mode", false],
    ],
    positional: 1,
    options: true,
  },
  AvgPool2d: AVG_POOL,
  Dropout: {
    params: [
      ["p", 0.5],
      ["inplace", false],
    ],
    positional: 1,
    options: false,
  },
  ReLU: { params: [["inplace", false]], positional: 0, options: false },
  Tanh: { params: [], positional: 0, options: false },
  Sigmoid: { params: [], positional: 0, options: false },
  GELU: { params: [["approximate", "none"]], positional: 0, options: true },
  Flatten: {
    params: [
      ["start_dim", 1],
      ["end_dim", -1],
    ],
    positional: 2,
    options: false,
  },
  Identity: { params: [], positional: 0, options: false, ignoresArguments: true },
  CrossEntropyLoss: {
    params: [
      ["weight", null],
      LEGACY_REDUCTION[0]!,
      ["ignore_index", -100],
      LEGACY_REDUCTION[1]!,
      ["reduction", "mean"],
      ["label_smoothing", 0.0],
    ],
    positional: 0,
    options: true,
  },
  MSELoss: { params: [...LEGACY_REDUCTION, ["reduction", "mean"]], positional: 0, options: true },
  BCEWithLogitsLoss: {
    params: [["weight", null], ...LEGACY_REDUCTION, ["reduction", "mean"], ["pos_weight", null]],
    positional: 0,
    options: true,
  },
};

/**
 * `torch.nn.functional` functions, by PyTorch's name: the parameters after the tensors the case passes
 * positionally (input and target).
 */
const CORE_FUNCTIONS: Readonly<Record<string, readonly TorchParam[]>> = {
  cross_entropy: [
    ["weight", null],
    ...LEGACY_REDUCTION.slice(0, 1),
    ["ignore_index", -100],
    ...LEGACY_REDUCTION.slice(1),
    ["reduction", "mean"],
    ["label_smoothing", 0.0],
  ],
  mse_loss: [...LEGACY_REDUCTION, ["reduction", "mean"]],
  binary_cross_entropy_with_logits: [
    ["weight", null],
    ...LEGACY_REDUCTION,
    ["reduction", "mean"],
    ["pos_weight", null],
  ],
};

/** Every family's `torch.nn` classes, by name (one file per family of layers under `signatures/`). */
export const MODULE_SIGNATURES: Readonly<Record<string, TorchSignature>> = {
  ...CORE_MODULES,
  ...convolutionFamily.modules,
  ...normalizationFamily.modules,
  ...activationsFamily.modules,
  ...lossesFamily.modules,
  ...attentionFamily.modules,
  ...recurrentFamily.modules,
  ...utilityFamily.modules,
};

/** Every family's `torch.nn.functional` functions, by PyTorch's name. */
export const FUNCTION_SIGNATURES: Readonly<Record<string, readonly TorchParam[]>> = {
  ...CORE_FUNCTIONS,
  ...convolutionFamily.functions,
  ...normalizationFamily.functions,
  ...activationsFamily.functions,
  ...lossesFamily.functions,
  ...attentionFamily.functions,
  ...recurrentFamily.functions,
  ...utilityFamily.functions,
};

/** Whether two argument values are equal as Python compares them (numbers, strings, lists, None). */
export function sameArgument(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => sameArgument(v, b[i]));
  return a === b;
}
