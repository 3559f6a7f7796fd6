import { BATCH_NORM, FACTORY, REQUIRED, type TorchParam, type TorchSignature } from "./common";

const INSTANCE_NORM: TorchSignature = {
  params: [
    ["num_features", REQUIRED],
    ["eps", 1e-5],
    ["momentum", 0.1],
    ["affine", false],
    ["track_running_stats", false],
    ...FACTORY,
  ],
  positional: 1,
  options: true,
};

/** PyTorch's signatures of the normalization family's `torch.nn` classes, by name. */
export const modules: Readonly<Record<string, TorchSignature>> = {
  BatchNorm3d: BATCH_NORM,
  GroupNorm: {
    params: [
      ["num_groups", REQUIRED],
      ["num_channels", REQUIRED],
      ["eps", 1e-5],
      ["affine", true],
      ...FACTORY,
    ],
    positional: 2,
    options: true,
  },
  InstanceNorm1d: INSTANCE_NORM,
  InstanceNorm2d: INSTANCE_NORM,
  InstanceNorm3d: INSTANCE_NORM,
  // Today's PyTorch (2.4+): eps None is the input dtype's machine epsilon.
  RMSNorm: {
    params: [["normalized_shape", REQUIRED], ["eps", null], ["elementwise_affine", true], ...FACTORY],
    positional: 1,
    options: true,
  },
};

/** PyTorch's signatures of the normalization family's `torch.nn.functional` functions (after the tensor arguments). */
export const functions: Readonly<Record<string, readonly TorchParam[]>> = {};
