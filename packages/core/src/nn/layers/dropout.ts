import type { Generator } from "../../random/generator";
import { getDefaultGenerator } from "../../random/seed";
import type { tf } from "../../runtime/tfjs";
import { checkNumber } from "../../utils/options";
import {
  alphaDropout,
  type DropoutOptions,
  dropout,
  dropout1d,
  dropout2d,
  dropout3d,
  featureAlphaDropout,
} from "../functional/dropout";
import { Module } from "../module";

/** A dropout function of `nn.functional`, as the channel-wise and alpha dropout modules call it. */
type DropoutFunction = (x: tf.Tensor, options: DropoutOptions) => tf.Tensor;

/** The shared body of the dropout modules: `fn` with the module's `p` in training, the identity in eval mode. */
abstract class DropoutVariant extends Module {
  protected constructor(
    owner: string,
    private readonly fn: DropoutFunction,
    /** The probability of zeroing each channel or element during training, in [0, 1]. */
    readonly p: number,
    private readonly generator: Generator,
  ) {
    super();
    checkNumber(owner, "p", p, (v) => v >= 0 && v <= 1, "a probability between 0 and 1");
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.fn(x, { p: this.p, training: this.training, generator: this.generator });
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** Zeroes whole channels of `(N, C, L)` or `(C, L)` in training, like `torch.nn.Dropout1d` (default p 0.5). */
export class Dropout1d extends DropoutVariant {
  constructor(p = 0.5, generator: Generator = getDefaultGenerator()) {
    super("Dropout1d", dropout1d, p, generator);
  }
}

/**
 * Zeroes whole channels of `(N, C, H, W)` in training, like `torch.nn.Dropout2d` (default p 0.5); a 3D input is
 * read as `(N, C, L)`, as PyTorch does.
 */
export class Dropout2d extends DropoutVariant {
  constructor(p = 0.5, generator: Generator = getDefaultGenerator()) {
    super("Dropout2d", dropout2d, p, generator);
  }
}

/** Zeroes whole channels of `(N, C, D, H, W)` or `(C, D, H, W)` in training, like `torch.nn.Dropout3d`. */
export class Dropout3d extends DropoutVariant {
  constructor(p = 0.5, generator: Generator = getDefaultGenerator()) {
    super("Dropout3d", dropout3d, p, generator);
  }
}

/** Dropout that keeps a SELU network's mean and variance, like `torch.nn.AlphaDropout` (default p 0.5). */
export class AlphaDropout extends DropoutVariant {
  constructor(p = 0.5, generator: Generator = getDefaultGenerator()) {
    super("AlphaDropout", alphaDropout, p, generator);
  }
}

/** Alpha dropout of whole channels, like `torch.nn.FeatureAlphaDropout` (default p 0.5). */
export class FeatureAlphaDropout extends DropoutVariant {
  constructor(p = 0.5, generator: Generator = getDefaultGenerator()) {
    super("FeatureAlphaDropout", featureAlphaDropout, p, generator);
  }
}

/**
 * Zeroes each element with probability `p` during training and scales the rest by 1/(1-p), like
 * `torch.nn.Dropout`; the identity in eval mode. Masks come from the seeded generator, so runs repeat.
 */
export class Dropout extends DropoutVariant {
  constructor(p = 0.5, generator: Generator = getDefaultGenerator()) {
    super("Dropout", dropout, p, generator);
  }
}
