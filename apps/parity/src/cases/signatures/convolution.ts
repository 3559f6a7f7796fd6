import { AVG_POOL, FACTORY, REQUIRED, type TorchParam, type TorchSignature } from "./common";

const CONV: TorchSignature = {
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
};

const CONV_TRANSPOSE: TorchSignature = {
  params: [
    ["in_channels", REQUIRED],
    ["out_channels", REQUIRED],
    ["kernel_size", REQUIRED],
    ["stride", 1],
    ["padding", 0],
    ["output_padding", 0],
    ["groups", 1],
    ["bias", true],
    ["dilation", 1],
    ["padding_mode", "zeros"],
    ...FACTORY,
  ],
  positional: 3,
  options: true,
};

const MAX_POOL: TorchSignature = {
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
};

const ADAPTIVE: TorchSignature = { params: [["output_size", REQUIRED]], positional: 1, options: false };
const ADAPTIVE_MAX: TorchSignature = {
  params: [
    ["output_size", REQUIRED],
    ["return_indices", false],
  ],
  positional: 2,
  options: false,
};

/** PyTorch's signatures of the convolution family's `torch.nn` classes, by name. */
export const modules: Readonly<Record<string, TorchSignature>> = {
  Conv1d: CONV,
  Conv3d: CONV,
  ConvTranspose1d: CONV_TRANSPOSE,
  ConvTranspose2d: CONV_TRANSPOSE,
  ConvTranspose3d: CONV_TRANSPOSE,
  MaxPool1d: MAX_POOL,
  MaxPool3d: MAX_POOL,
  AvgPool3d: AVG_POOL,
  AvgPool1d: {
    params: [
      ["kernel_size", REQUIRED],
      ["stride", null],
      ["padding", 0],
      ["ceil_mode", false],
      ["count_include_pad", true],
    ],
    positional: 1,
    options: true,
  },
  AdaptiveAvgPool1d: ADAPTIVE,
  AdaptiveAvgPool2d: ADAPTIVE,
  AdaptiveAvgPool3d: ADAPTIVE,
  AdaptiveMaxPool1d: ADAPTIVE_MAX,
  AdaptiveMaxPool2d: ADAPTIVE_MAX,
  AdaptiveMaxPool3d: ADAPTIVE_MAX,
  Upsample: {
    params: [
      ["size", null],
      ["scale_factor", null],
      ["mode", "nearest"],
      ["align_corners", null],
      ["recompute_scale_factor", null],
    ],
    positional: 0,
    options: true,
  },
  Unflatten: {
    params: [
      ["dim", REQUIRED],
      ["unflattened_size", REQUIRED],
    ],
    positional: 2,
    options: false,
  },
};

/** PyTorch's signatures of the convolution family's `torch.nn.functional` functions (after the tensor arguments). */
export const functions: Readonly<Record<string, readonly TorchParam[]>> = {};
