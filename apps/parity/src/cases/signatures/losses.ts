import { LEGACY_REDUCTION, REQUIRED, type TorchParam, type TorchSignature } from "./common";

const [SIZE_AVERAGE, REDUCE] = LEGACY_REDUCTION as [TorchParam, TorchParam];
const REDUCTION: TorchParam = ["reduction", "mean"];

/** A loss module whose every argument Fulmen takes in its options object. */
function lossModule(params: readonly TorchParam[]): TorchSignature {
  return { params, positional: 0, options: true };
}

const NLL: readonly TorchParam[] = [
  ["weight", null],
  SIZE_AVERAGE,
  ["ignore_index", -100],
  REDUCE,
  REDUCTION,
];
const L1: readonly TorchParam[] = [SIZE_AVERAGE, REDUCE, REDUCTION];
const SMOOTH_L1: readonly TorchParam[] = [SIZE_AVERAGE, REDUCE, REDUCTION, ["beta", 1.0]];
const HUBER: readonly TorchParam[] = [REDUCTION, ["delta", 1.0]];
const BCE: readonly TorchParam[] = [["weight", null], SIZE_AVERAGE, REDUCE, REDUCTION];
const KL_DIV: readonly TorchParam[] = [SIZE_AVERAGE, REDUCE, REDUCTION, ["log_target", false]];
const MARGIN_ZERO: readonly TorchParam[] = [["margin", 0], SIZE_AVERAGE, REDUCE, REDUCTION];
const TRIPLET: readonly TorchParam[] = [
  ["margin", 1.0],
  ["p", 2],
  ["eps", 1e-6],
  ["swap", false],
  SIZE_AVERAGE,
  REDUCE,
  REDUCTION,
];

const CTC: readonly TorchParam[] = [["blank", 0], REDUCTION, ["zero_infinity", false]];
const WEIGHT_ONLY: readonly TorchParam[] = BCE;
const MULTI_MARGIN: readonly TorchParam[] = [
  ["p", 1],
  ["margin", 1.0],
  ["weight", null],
  SIZE_AVERAGE,
  REDUCE,
  REDUCTION,
];
const HINGE: readonly TorchParam[] = [["margin", 1.0], SIZE_AVERAGE, REDUCE, REDUCTION];
const POISSON: readonly TorchParam[] = [
  ["log_input", true],
  ["full", false],
  SIZE_AVERAGE,
  ["eps", 1e-8],
  REDUCE,
  REDUCTION,
];
// PyTorch takes these two modules' arguments by keyword only; `var` and the triplet come as tensors.
const GAUSSIAN: readonly TorchParam[] = [["full", false], ["eps", 1e-6], REDUCTION];
const TRIPLET_DISTANCE: readonly TorchParam[] = [
  ["distance_function", null],
  ["margin", 1.0],
  ["swap", false],
  REDUCTION,
];

/** PyTorch's signatures of the losses family's `torch.nn` classes, by name (PyTorch 1.13). */
export const modules: Readonly<Record<string, TorchSignature>> = {
  NLLLoss: lossModule(NLL),
  L1Loss: lossModule(L1),
  SmoothL1Loss: lossModule(SMOOTH_L1),
  HuberLoss: lossModule(HUBER),
  BCELoss: lossModule(BCE),
  KLDivLoss: lossModule(KL_DIV),
  CosineEmbeddingLoss: lossModule(MARGIN_ZERO),
  MarginRankingLoss: lossModule(MARGIN_ZERO),
  TripletMarginLoss: lossModule(TRIPLET),
  CTCLoss: lossModule(CTC),
  SoftMarginLoss: lossModule(L1),
  MultiLabelSoftMarginLoss: lossModule(WEIGHT_ONLY),
  MultiMarginLoss: lossModule(MULTI_MARGIN),
  MultiLabelMarginLoss: lossModule(L1),
  HingeEmbeddingLoss: lossModule(HINGE),
  PoissonNLLLoss: lossModule(POISSON),
  GaussianNLLLoss: lossModule(GAUSSIAN),
  TripletMarginWithDistanceLoss: lossModule(TRIPLET_DISTANCE),
};

/** PyTorch's signatures of the losses family's `torch.nn.functional` functions (after the tensor arguments). */
export const functions: Readonly<Record<string, readonly TorchParam[]>> = {
  nll_loss: NLL,
  l1_loss: L1,
  smooth_l1_loss: SMOOTH_L1,
  huber_loss: HUBER,
  binary_cross_entropy: BCE,
  kl_div: KL_DIV,
  cosine_embedding_loss: MARGIN_ZERO,
  margin_ranking_loss: MARGIN_ZERO,
  triplet_margin_loss: TRIPLET,
  // The lengths come by keyword in the options object (ctcLoss takes them there too).
  ctc_loss: [["input_lengths", REQUIRED], ["target_lengths", REQUIRED], ...CTC],
  soft_margin_loss: L1,
  multilabel_soft_margin_loss: WEIGHT_ONLY,
  multi_margin_loss: MULTI_MARGIN,
  multilabel_margin_loss: L1,
  hinge_embedding_loss: HINGE,
  poisson_nll_loss: POISSON,
  gaussian_nll_loss: GAUSSIAN,
  triplet_margin_with_distance_loss: TRIPLET_DISTANCE,
};
