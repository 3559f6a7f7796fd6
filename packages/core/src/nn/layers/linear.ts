import { lowerPrecisionOp } from "../../amp/autocast";
import { Parameter } from "../../autograd/parameter";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
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
  weight: Parameter;
  bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
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
    return tf.tidy(() => {
      if (!(x instanceof tf.Tensor)) {
        throw new FulmenError(`Linear: expected a tensor input, got ${x === null ? "null" : typeof x}.`);
      }
      if (x.shape[x.rank - 1] !== this.inFeatures) {
        throw new FulmenError(
          `Linear: input's last dimension is ${x.shape[x.rank - 1]} (shape [${x.shape}]) but inFeatures is ${this.inFeatures}.`,
        );
      }
      const flat = x.rank === 2 ? x : tf.reshape(x, [-1, this.inFeatures]);
      const inputs = this.bias === null ? [flat, this.weight.data] : [flat, this.weight.data, this.bias.data];
      const y = lowerPrecisionOp(affine, inputs);
      return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
    });
  }

  protected override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/** `x Wᵀ (+ b)`, the computation autocast runs in half. */
function affine(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const y = tf.matMul(x, w, false, true);
  return b === undefined ? y : tf.add(y, b);
}
