import type { ConvNdOptions } from "./conv-nd";
import { ConvNd } from "./conv-nd";

/** A size of a 3-d convolution: one number for all three dimensions, or a triple (PyTorch's `_size_3_t`). */
export type Size3d = number | [number, number, number];

/** Options of {@link Conv3d}, as in `torch.nn.Conv3d`. */
export type Conv3dOptions = ConvNdOptions<Size3d>;

/**
 * A 3-D convolution over NCDHW input, like `torch.nn.Conv3d`: weight `[outChannels, inChannels/groups, kD, kH,
 * kW]`, bias `[outChannels]`, PyTorch's default initialisation. Accepts `[N, C, D, H, W]` or unbatched `[C, D, H,
 * W]`. It runs on tfjs's NDHWC conv3d (transposed there and back), groups one by one and dilation as a kernel
 * spread out with zeros, so every gradient is exact.
 */
export class Conv3d extends ConvNd {
  /** The kernel's size, `[kD, kH, kW]`. */
  declare readonly kernelSize: [number, number, number];
  /** The step of the kernel, `[sD, sH, sW]` (default `[1, 1, 1]`). */
  declare readonly stride: [number, number, number];
  /** The spacing between kernel elements, `[dD, dH, dW]` (default `[1, 1, 1]`). */
  declare readonly dilation: [number, number, number];
  /** The padding on each side, `[pD, pH, pW]` (default `[0, 0, 0]`), or `"valid"` or `"same"`. */
  declare readonly padding: [number, number, number] | "valid" | "same";

  constructor(inChannels: number, outChannels: number, kernelSize: Size3d, options: Conv3dOptions = {}) {
    super("Conv3d", 3, "C, D, H, W", inChannels, outChannels, kernelSize, options);
  }
}
