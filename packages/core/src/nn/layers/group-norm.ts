import { Parameter } from "../../autograd/parameter";
import type { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { groupNorm } from "../functional/normalization";
import { Module } from "../module";

/** Options of {@link GroupNorm}. */
export interface GroupNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learn a per-channel scale (ones) and shift (zeros) (default true). */
  affine?: boolean;
}

/**
 * Group normalisation, like `torch.nn.GroupNorm(numGroups, numChannels)`: each sample's channels are split
 * into groups normalised together over the channels and every spatial position; input `[N, C, *]`.
 */
export class GroupNorm extends Module {
  /** The learnable scale of shape `[numChannels]`, initialised to ones, or null with `affine: false`. */
  weight: Parameter | null;
  /** The learnable shift of shape `[numChannels]`, initialised to zeros, or null with `affine: false`. */
  bias: Parameter | null;
  /** Added to the variance before its square root (default 1e-5). */
  readonly eps: number;
  /** Whether the layer has a per-channel `weight` and `bias` (default true). */
  readonly affine: boolean;

  constructor(
    /** The number of groups the channels are split into; must divide `numChannels`. */
    readonly numGroups: number,
    /** The number of channels `C` of the input. */
    readonly numChannels: number,
    options: GroupNormOptions = {},
  ) {
    super();
    checkOptionNames("GroupNorm", options, ["eps", "affine"]);
    const positive = (v: number) => Number.isInteger(v) && v > 0;
    checkNumber("GroupNorm", "numGroups", numGroups, positive, "a positive integer");
    checkNumber("GroupNorm", "numChannels", numChannels, positive, "a positive integer");
    if (numChannels % numGroups !== 0) {
      throw new FulmenError(
        `GroupNorm: numChannels (${numChannels}) must be divisible by numGroups (${numGroups}).`,
      );
    }
    this.eps = options.eps ?? 1e-5;
    checkNumber("GroupNorm", "eps", this.eps, (v) => v >= 0, "a non-negative number");
    this.affine = options.affine ?? true;
    this.weight = this.affine ? Parameter.full([numChannels], 1) : null;
    this.bias = this.affine ? Parameter.full([numChannels], 0) : null;
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x.rank < 2 || x.shape[1] !== this.numChannels) {
      throw new FulmenError(
        `GroupNorm: expected an input of shape [N, ${this.numChannels}, *], got [${x.shape}].`,
      );
    }
    return groupNorm(x, this.numGroups, {
      weight: this.weight?.data ?? null,
      bias: this.bias?.data ?? null,
      eps: this.eps,
    });
  }

  protected override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.affine}`;
  }
}
