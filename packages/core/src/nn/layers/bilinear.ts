import { Parameter } from "../../autograd/parameter";
import type { tf } from "../../runtime/tfjs";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { bilinear } from "../functional/bilinear";
import { uniform_ } from "../init";
import { Module } from "../module";

/** Options of {@link Bilinear}. */
export interface BilinearOptions {
  /** Whether to learn an additive bias `[outFeatures]` (default true). */
  bias?: boolean;
}

/**
 * `y_k = x1ᵀ A_k x2 + b_k`, like `torch.nn.Bilinear(in1Features, in2Features, outFeatures)`: weight
 * `[out, in1, in2]` and bias `[out]`, both drawn from U(±1/√in1) as PyTorch's.
 */
export class Bilinear extends Module {
  /** The learnable weight `[outFeatures, in1Features, in2Features]`. */
  weight: Parameter;
  /** The learnable bias `[outFeatures]`, or null with `bias: false`. */
  bias: Parameter | null;

  constructor(
    /** The first input's features. */
    readonly in1Features: number,
    /** The second input's features. */
    readonly in2Features: number,
    /** The output's features. */
    readonly outFeatures: number,
    options: BilinearOptions = {},
  ) {
    super();
    checkOptionNames("Bilinear", options, ["bias"]);
    for (const [name, value] of [
      ["in1Features", in1Features],
      ["in2Features", in2Features],
      ["outFeatures", outFeatures],
    ] as const)
      checkNumber("Bilinear", name, value, (v) => Number.isInteger(v) && v > 0, "a positive integer");
    this.weight = Parameter.full([outFeatures, in1Features, in2Features], 0);
    this.bias = options.bias === false ? null : Parameter.full([outFeatures], 0);
    this.resetParameters();
  }

  /** Re-draws weight and bias from U(±1/√in1Features). */
  resetParameters(): void {
    const bound = 1 / Math.sqrt(this.in1Features);
    uniform_(this.weight, -bound, bound);
    if (this.bias !== null) uniform_(this.bias, -bound, bound);
  }

  forward(input1: tf.Tensor, input2: tf.Tensor): tf.Tensor {
    return bilinear(input1, input2, this.weight.data, this.bias?.data ?? null);
  }

  protected override extraRepr(): string {
    return `in1Features=${this.in1Features}, in2Features=${this.in2Features}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
