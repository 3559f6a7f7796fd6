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
};
