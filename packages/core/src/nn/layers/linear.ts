import { Parameter } from "../../autograd/parameter";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { linear } from "../functional/linear";
import { defaultLayerInit_ } from "../init";
import { Module } from "../module";

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

/**
 * `y = x Wᵀ + b`, like `torch.nn.Linear`: weight `[outFeatures, inFeatures]`, PyTorch's default initialisation
 * (Kaiming-uniform with a = √5, bias U(±1/√fanIn)). Accepts inputs of any rank whose last dimension is inFeatures.
 */
export class Linear extends Module {
  /** The learnable weight of shape `[outFeatures, inFeatures]` (PyTorch's `weight`). */
  weight: Parameter;
  /** The learnable bias of shape `[outFeatures]` (PyTorch's `bias`), or null with `bias: false`. */
  bias: Parameter | null;

  constructor(
    /** The size of each input sample: the input's last dimension. */
    readonly inFeatures: number,
    /** The size of each output sample: the output's last dimension. */
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    checkOptionNames("Linear", options, ["bias"]);
    checkNumber(
      "Linear",
      "inFeatures",
      inFeatures,
      (v) => Number.isInteger(v) && v > 0,
      "a positive integer",
    );
    checkNumber(
      "Linear",
      "outFeatures",
      outFeatures,
      (v) => Number.isInteger(v) && v > 0,
      "a positive integer",
    );
    this.weight = Parameter.full([outFeatures, inFeatures], 0);
    this.bias = options.bias === false ? null : Parameter.full([outFeatures], 0);
    this.resetParameters();
  }

  /** Re-draws the weights with PyTorch's default initialisation. */
  resetParameters(): void {
    defaultLayerInit_(this.weight, this.bias);
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (x instanceof tf.Tensor && x.shape[x.rank - 1] !== this.inFeatures) {
      throw new FulmenError(
        `Linear: input's last dimension is ${x.shape[x.rank - 1]} (shape [${x.shape}]) but inFeatures is ${this.inFeatures}.`,
      );
    }
    return linear(x, this.weight.data, this.bias?.data ?? null);
  }

  protected override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
