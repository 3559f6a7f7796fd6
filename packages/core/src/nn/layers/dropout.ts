import type { Generator } from "../../random/generator";
import { getDefaultGenerator } from "../../random/seed";
import type { tf } from "../../runtime/tfjs";
import { checkNumber } from "../../utils/options";
import { dropout } from "../functional/dropout";
import { Module } from "../module";

/**
 * Zeroes each element with probability `p` during training and scales the rest by 1/(1-p), like
 * `torch.nn.Dropout`; the identity in eval mode. Masks come from the seeded generator, so runs repeat.
 */
export class Dropout extends Module {
  constructor(
    /** The probability of zeroing each element during training, in [0, 1] (default 0.5). */
    readonly p = 0.5,
    private readonly generator: Generator = getDefaultGenerator(),
  ) {
    super();
    checkNumber("Dropout", "p", p, (v) => v >= 0 && v <= 1, "a probability between 0 and 1");
  }

  forward(x: tf.Tensor): tf.Tensor {
    return dropout(x, { p: this.p, training: this.training, generator: this.generator });
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
