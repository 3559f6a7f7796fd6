import type { TorchParam, TorchSignature } from "./common";

/** PyTorch's signatures of the activations family's `torch.nn` classes, by name. */
export const modules: Readonly<Record<string, TorchSignature>> = {};

/** PyTorch's signatures of the activations family's `torch.nn.functional` functions (after the tensor arguments). */
export const functions: Readonly<Record<string, readonly TorchParam[]>> = {};
