import type { ConvNdOptions } from "./conv-nd";
import { ConvNd } from "./conv-nd";

/** A size of a 2-d convolution: one number for both dimensions, or a pair (PyTorch's `_size_2_t`). */
export type Size2d = number | [number, number];

/** Options of {@link Conv2d}, as in `torch.nn.Conv2d`. */
export type Conv2dOptions = ConvNdOptions<Size2d>;

/**
 * A 2-D convolution over NCHW input, like `torch.nn.Conv2d`: weight `[outChannels, inChannels/groups, kH, kW]`,
 * bias `[outChannels]`, PyTorch's default initialisation. Accepts `[N, C, H, W]` or unbatched `[C, H, W]`.
 * Dilated convolutions (any stride) train like the others: the dilated filter is built explicitly.
 */
export class Conv2d extends ConvNd {
  /** The kernel's size, `[kH, kW]`. */
  declare readonly kernelSize: [number, number];
  /** The step of the kernel, `[sH, sW]` (default `[1, 1]`). */
  declare readonly stride: [number, number];
  /** The spacing between kernel elements, `[dH, dW]` (default `[1, 1]`). */
  declare readonly dilation: [number, number];
  /** The padding on each side, `[pH, pW]` (default `[0, 0]`), or `"valid"` or `"same"`. */
  declare readonly padding: [number, number] | "valid" | "same";

  constructor(inChannels: number, outChannels: number, kernelSize: Size2d, options: Conv2dOptions = {}) {
    super("Conv2d", 2, "C, H, W", inChannels, outChannels, kernelSize, options);
  }
}
