import type { Generator } from "../../random/generator";
import { getDefaultGenerator } from "../../random/seed";
import type { tf } from "../../runtime/tfjs";
import { checkNumber } from "../../utils/options";
import * as F from "../functional/activations";
import { celu, celuAlpha, rrelu, rreluBounds } from "../functional/smooth-activations";
import {
  hardshrink,
  shrinkLambda,
  softshrink,
  threshold as thresholdFunction,
  thresholdOptions,
} from "../functional/threshold-activations";
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

/** `max(0, x) + min(0, alpha·(exp(x/alpha) − 1))`, like `torch.nn.CELU` (default alpha 1). */
export class CELU extends Module {
  /** The scale of the negative part (default 1; not 0). */
  readonly alpha: number;

  constructor(alpha = 1) {
    super();
    this.alpha = celuAlpha("CELU", { alpha });
  }

  forward(x: tf.Tensor): tf.Tensor {
    return celu(x, { alpha: this.alpha });
  }

  protected override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** `x > threshold ? x : value`, like `torch.nn.Threshold(threshold, value)`. */
export class Threshold extends Module {
  /** Inputs at or below this are replaced. */
  readonly threshold: number;
  /** What replaces them. */
  readonly value: number;

  constructor(threshold: number, value: number) {
    super();
    ({ threshold: this.threshold, value: this.value } = thresholdOptions("Threshold", { threshold, value }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return thresholdFunction(x, { threshold: this.threshold, value: this.value });
  }

  protected override extraRepr(): string {
    return `threshold=${this.threshold}, value=${this.value}`;
  }
}

/** `|x| > lambd ? x : 0`, like `torch.nn.Hardshrink` (default lambd 0.5). */
export class Hardshrink extends Module {
  /** The half-width of the band around 0 that becomes 0 (default 0.5). */
  readonly lambd: number;

  constructor(lambd = 0.5) {
    super();
    this.lambd = shrinkLambda("Hardshrink", { lambd }, true);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return hardshrink(x, { lambd: this.lambd });
  }

  protected override extraRepr(): string {
    return `lambd=${this.lambd}`;
  }
}

/** `x ∓ lambd` outside `[−lambd, lambd]`, 0 inside, like `torch.nn.Softshrink` (default lambd 0.5). */
export class Softshrink extends Module {
  /** The half-width of the band around 0 that becomes 0 (default 0.5). */
  readonly lambd: number;

  constructor(lambd = 0.5) {
    super();
    this.lambd = shrinkLambda("Softshrink", { lambd });
  }

  forward(x: tf.Tensor): tf.Tensor {
    return softshrink(x, { lambd: this.lambd });
  }

  protected override extraRepr(): string {
    return `lambd=${this.lambd}`;
  }
}

/**
 * The randomized leaky ReLU, like `torch.nn.RReLU(lower, upper)` (defaults 1/8, 1/3): in training each negative
 * element is scaled by a slope drawn from `[lower, upper]`; in eval mode by their mean.
 */
export class RReLU extends Module {
  /** The lowest random slope (default 1/8). */
  readonly lower: number;
  /** The highest random slope (default 1/3). */
  readonly upper: number;

  constructor(
    lower = 1 / 8,
    upper = 1 / 3,
    private readonly generator: Generator = getDefaultGenerator(),
  ) {
    super();
    ({ lower: this.lower, upper: this.upper } = rreluBounds("RReLU", lower, upper));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return rrelu(x, {
      lower: this.lower,
      upper: this.upper,
      training: this.training,
      generator: this.generator,
    });
  }

  protected override extraRepr(): string {
    return `lower=${this.lower}, upper=${this.upper}`;
  }
}
