import { Parameter } from "../../autograd/parameter";
import type { tf } from "../../runtime/tfjs";
import { checkNumber } from "../../utils/options";
import { prelu } from "../functional/activations";
import { Module } from "../module";

/**
 * `x > 0 ? x : a·x` with a learned slope `a`, like `torch.nn.PReLU`: `weight` `[numParameters]` filled with
 * `init` (defaults 1 and 0.25); one slope for all, or one per channel (dimension 1 of the input).
 */
export class PReLU extends Module {
  /** The learnable slopes of shape `[numParameters]` (PyTorch's `weight`), filled with `init` at first. */
  weight: Parameter;

  constructor(
    /** The number of slopes: 1 (default), shared by all channels, or the number of channels of the input. */
    readonly numParameters = 1,
    /** The initial value of every slope (default 0.25). */
    readonly init = 0.25,
  ) {
    super();
    checkNumber(
      "PReLU",
      "numParameters",
      numParameters,
      (v) => Number.isInteger(v) && v > 0,
      "a positive integer",
    );
    checkNumber("PReLU", "init", init, Number.isFinite, "a finite number");
    this.weight = Parameter.full([numParameters], init);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return prelu(x, this.weight.data);
  }

  protected override extraRepr(): string {
    return `numParameters=${this.numParameters}`;
  }
}
