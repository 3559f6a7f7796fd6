import type { tf } from "../../runtime/tfjs";
import { checkNumber } from "../../utils/options";
import { localResponseNorm } from "../functional/local-response-norm";
import { Module } from "../module";

/**
 * Normalises each channel by its `size` neighbouring channels, like `torch.nn.LocalResponseNorm(size, alpha,
 * beta, k)` (defaults 1e-4, 0.75, 1).
 */
export class LocalResponseNorm extends Module {
  constructor(
    /** How many neighbouring channels (the channel itself included) the sum runs over. */
    readonly size: number,
    /** The scale of the neighbours' squared sum (default 1e-4). */
    readonly alpha = 1e-4,
    /** The exponent of the divisor (default 0.75). */
    readonly beta = 0.75,
    /** The divisor's additive constant (default 1). */
    readonly k = 1,
  ) {
    super();
    checkNumber("LocalResponseNorm", "size", size, (v) => Number.isInteger(v) && v > 0, "a positive integer");
  }

  forward(x: tf.Tensor): tf.Tensor {
    return localResponseNorm(x, this.size, { alpha: this.alpha, beta: this.beta, k: this.k });
  }

  protected override extraRepr(): string {
    return `${this.size}, alpha=${this.alpha}, beta=${this.beta}, k=${this.k}`;
  }
}
