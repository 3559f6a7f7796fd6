import { FACTORY, REQUIRED, type TorchParam, type TorchSignature } from "./common";

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

/** `torch.nn.BatchNorm3d`'s (BatchNorm1d/2d's live with the core classes). */
const BATCH_NORM_3D: TorchSignature = {
  params: [
    ["num_features", REQUIRED],
    ["eps", 1e-5],
    ["momentum", 0.1],
    ["affine", true],
    ["track_running_stats", true],
    ...FACTORY,
  ],
  positional: 1,
  options: true,
};

/** PyTorch's signatures of the normalization family's `torch.nn` classes, by name. */
export const modules: Readonly<Record<string, TorchSignature>> = {
  BatchNorm3d: BATCH_NORM_3D,
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
