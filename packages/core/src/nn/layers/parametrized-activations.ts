import type { tf } from "../../runtime/tfjs";
import { checkNumber } from "../../utils/options";
import * as F from "../functional/activations";
import { Module } from "../module";

/**
 * The activation modules with scalar hyperparameters, taken positionally in PyTorch's order
 * (`new LeakyReLU(0.2)` is `nn.LeakyReLU(0.2)`); PyTorch's `inplace` has no Fulmen counterpart.
 */

/** `x > 0 ? x : negativeSlope·x`, like `torch.nn.LeakyReLU` (default slope 0.01). */
export class LeakyReLU extends Module {
  constructor(
    /** The slope for negative inputs (default 0.01). */
    readonly negativeSlope = 0.01,
  ) {
    super();
    checkNumber("LeakyReLU", "negativeSlope", negativeSlope, Number.isFinite, "a finite number");
  }

  forward(x: tf.Tensor): tf.Tensor {
    return F.leakyRelu(x, { negativeSlope: this.negativeSlope });
  }

  protected override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

/** The exponential linear unit, like `torch.nn.ELU` (default alpha 1). */
export class ELU extends Module {
  constructor(
    /** The scale of the negative part, `alpha·(exp(x) - 1)` for x ≤ 0 (default 1). */
    readonly alpha = 1,
  ) {
    super();
    checkNumber("ELU", "alpha", alpha, Number.isFinite, "a finite number");
  }

  forward(x: tf.Tensor): tf.Tensor {
    return F.elu(x, { alpha: this.alpha });
  }

  protected override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** `log(1 + exp(beta·x)) / beta`, the identity above `beta·x > threshold`, like `torch.nn.Softplus` (1, 20). */
export class Softplus extends Module {
  /** The sharpness: `log(1 + exp(beta·x)) / beta` (default 1). */
  readonly beta: number;
  /** Where `beta·x` exceeds this, the output is `x` itself, for numerical stability (default 20). */
  readonly threshold: number;

  constructor(beta = 1, threshold = 20) {
    super();
    ({ beta: this.beta, threshold: this.threshold } = F.softplusOptions("Softplus", { beta, threshold }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return F.softplus(x, { beta: this.beta, threshold: this.threshold });
  }

  protected override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}

/** `clamp(x, minVal, maxVal)`, like `torch.nn.Hardtanh` (defaults -1, 1; gradient 0 at the bounds). */
export class Hardtanh extends Module {
  /** The lower bound of the output (default -1). */
  readonly minVal: number;
  /** The upper bound of the output (default 1). */
  readonly maxVal: number;

  constructor(minVal = -1, maxVal = 1) {
    super();
    ({ minVal: this.minVal, maxVal: this.maxVal } = F.hardtanhOptions("Hardtanh", { minVal, maxVal }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return F.hardtanh(x, { minVal: this.minVal, maxVal: this.maxVal });
  }

  protected override extraRepr(): string {
    return `minVal=${this.minVal}, maxVal=${this.maxVal}`;
  }
}
