import type { ConvNdOptions } from "./conv-nd";
import { ConvNd } from "./conv-nd";

/**
 * A size of a 1-d convolution (kernel, stride, padding, dilation): one number, or a one-element tuple
 * (PyTorch's `_size_1_t`).
 */
export type Size1d = number | [number];

/** Options of {@link Conv1d}, as in `torch.nn.Conv1d`. */
export type Conv1dOptions = ConvNdOptions<Size1d>;

/**
 * A 1-D convolution over `[N, C, L]` (or unbatched `[C, L]`) input, like `torch.nn.Conv1d`: weight
 * `[outChannels, inChannels/groups, k]`, bias `[outChannels]`, PyTorch's default initialisation. It runs as a
 * height-1 {@link Conv2d}, through `nn.functional.conv1d`'s machinery.
 */
export class Conv1d extends ConvNd {
  /** The kernel's length, `[k]`. */
  declare readonly kernelSize: [number];
  /** The step of the kernel, `[s]` (default `[1]`). */
  declare readonly stride: [number];
  /** The spacing between kernel elements, `[d]` (default `[1]`). */
  declare readonly dilation: [number];
  /** The padding on each side, `[p]` (default `[0]`), or `"valid"` (none) or `"same"` (the input's size). */
  declare readonly padding: [number] | "valid" | "same";

  constructor(inChannels: number, outChannels: number, kernelSize: Size1d, options: Conv1dOptions = {}) {
    super("Conv1d", 1, "C, L", inChannels, outChannels, kernelSize, options);
  }
}
