import { FACTORY, REQUIRED, type TorchParam, type TorchSignature } from "./common";

/**
 * PyTorch's signatures of the utility layers (padding, shuffles, distances, Softmax2d, the dropout variants) and
 * of their `torch.nn.functional` forms. Fulmen's modules take these positionally, as PyTorch's do.
 */

/** Unfold's and Fold's window keywords after the sizes. */
const WINDOW: readonly TorchParam[] = [
  ["dilation", 1],
  ["padding", 0],
  ["stride", 1],
];

/** A max unpooling module: the pooling's window, stride and padding. */
const MAX_UNPOOL: TorchSignature = {
  params: [
    ["kernel_size", REQUIRED],
    ["stride", null],
    ["padding", 0],
  ],
  positional: 1,
  options: true,
};

/** A padding module whose only argument is `padding`. */
const PADDING: TorchSignature = { params: [["padding", REQUIRED]], positional: 1, options: false };
/** A constant padding module: `padding` and the fill `value`. */
const CONSTANT_PADDING: TorchSignature = {
  params: [
    ["padding", REQUIRED],
    ["value", REQUIRED],
  ],
  positional: 2,
  options: false,
};
/** A dropout module: `p` and PyTorch's `inplace`, which Fulmen has no use for. */
const DROPOUT: TorchSignature = {
  params: [
    ["p", 0.5],
    ["inplace", false],
  ],
  positional: 1,
  options: false,
};

/** The utility family's `torch.nn` classes, by name. */
export const modules: Readonly<Record<string, TorchSignature>> = {
  ZeroPad1d: PADDING,
  ZeroPad2d: PADDING,
  ZeroPad3d: PADDING,
  ConstantPad1d: CONSTANT_PADDING,
  ConstantPad2d: CONSTANT_PADDING,
  ConstantPad3d: CONSTANT_PADDING,
  ReflectionPad1d: PADDING,
  ReflectionPad2d: PADDING,
  ReflectionPad3d: PADDING,
  ReplicationPad1d: PADDING,
  ReplicationPad2d: PADDING,
  ReplicationPad3d: PADDING,
  CircularPad1d: PADDING,
  CircularPad2d: PADDING,
  CircularPad3d: PADDING,
  PixelShuffle: { params: [["upscale_factor", REQUIRED]], positional: 1, options: false },
  PixelUnshuffle: { params: [["downscale_factor", REQUIRED]], positional: 1, options: false },
  ChannelShuffle: { params: [["groups", REQUIRED]], positional: 1, options: false },
  CosineSimilarity: {
    params: [
      ["dim", 1],
      ["eps", 1e-8],
    ],
    positional: 2,
    options: false,
  },
  PairwiseDistance: {
    params: [
      ["p", 2.0],
      ["eps", 1e-6],
      ["keepdim", false],
    ],
    positional: 3,
    options: false,
  },
  Softmax2d: { params: [], positional: 0, options: false },
  Dropout1d: DROPOUT,
  Dropout2d: DROPOUT,
  Dropout3d: DROPOUT,
  AlphaDropout: DROPOUT,
  FeatureAlphaDropout: DROPOUT,
  Bilinear: {
    params: [
      ["in1_features", REQUIRED],
      ["in2_features", REQUIRED],
      ["out_features", REQUIRED],
      ["bias", true],
      ...FACTORY,
    ],
    positional: 3,
    options: true,
  },
  LocalResponseNorm: {
    params: [
      ["size", REQUIRED],
      ["alpha", 1e-4],
      ["beta", 0.75],
      ["k", 1.0],
    ],
    positional: 4,
    options: false,
  },
  Unfold: { params: [["kernel_size", REQUIRED], ...WINDOW], positional: 1, options: true },
  Fold: {
    params: [["output_size", REQUIRED], ["kernel_size", REQUIRED], ...WINDOW],
    positional: 2,
    options: true,
  },
  MaxUnpool1d: MAX_UNPOOL,
  MaxUnpool2d: MAX_UNPOOL,
  MaxUnpool3d: MAX_UNPOOL,
  EmbeddingBag: {
    params: [
      ["num_embeddings", REQUIRED],
      ["embedding_dim", REQUIRED],
      ["max_norm", null],
      ["norm_type", 2.0],
      ["scale_grad_by_freq", false],
      ["mode", "mean"],
      ["sparse", false],
      ["_weight", null],
      ["include_last_offset", false],
      ["padding_idx", null],
      ...FACTORY,
    ],
    positional: 2,
    options: true,
  },
};

/** `F.max_unpool1d/2d/3d`'s parameters after the input and the indices. */
const MAX_UNPOOL_FUNCTION: readonly TorchParam[] = [
  ["kernel_size", REQUIRED],
  ["stride", null],
  ["padding", 0],
  ["output_size", null],
];

/** The utility family's `torch.nn.functional` functions (after the tensor arguments). */
export const functions: Readonly<Record<string, readonly TorchParam[]>> = {
  normalize: [
    ["p", 2.0],
    ["dim", 1],
    ["eps", 1e-12],
    ["out", null],
  ],
  cosine_similarity: [
    ["dim", 1],
    ["eps", 1e-8],
  ],
  pairwise_distance: [
    ["p", 2.0],
    ["eps", 1e-6],
    ["keepdim", false],
  ],
  pixel_shuffle: [["upscale_factor", REQUIRED]],
  pixel_unshuffle: [["downscale_factor", REQUIRED]],
  channel_shuffle: [["groups", REQUIRED]],
  bilinear: [["bias", null]],
  local_response_norm: [
    ["size", REQUIRED],
    ["alpha", 1e-4],
    ["beta", 0.75],
    ["k", 1.0],
  ],
  unfold: [["kernel_size", REQUIRED], ...WINDOW],
  fold: [["output_size", REQUIRED], ["kernel_size", REQUIRED], ...WINDOW],
  max_unpool1d: MAX_UNPOOL_FUNCTION,
  max_unpool2d: MAX_UNPOOL_FUNCTION,
  max_unpool3d: MAX_UNPOOL_FUNCTION,
  grid_sample: [
    ["mode", "bilinear"],
    ["padding_mode", "zeros"],
    ["align_corners", null],
  ],
  affine_grid: [
    ["size", REQUIRED],
    ["align_corners", null],
  ],
};
