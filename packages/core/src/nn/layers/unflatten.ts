import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { Module } from "../module";

/**
 * Expands dimension `dim` into `unflattenedSize`, like `torch.nn.Unflatten` (the inverse of `Flatten`): one
 * entry may be -1, inferred from the others; the product must equal the dimension's size.
 */
export class Unflatten extends Module {
  /** The sizes `dim` is expanded into, one of them possibly -1 (inferred from the others). */
  readonly unflattenedSize: readonly number[];

  constructor(
    /** The dimension to expand; negative counts from the end. */
    readonly dim: number,
    unflattenedSize: readonly number[],
  ) {
    super();
    if (!Number.isInteger(dim))
      throw new FulmenError(`Unflatten: dim must be an integer, got ${String(dim)}.`);
    if (
      !Array.isArray(unflattenedSize) ||
      unflattenedSize.length === 0 ||
      unflattenedSize.some((s) => !Number.isInteger(s) || (s < 0 && s !== -1)) ||
      unflattenedSize.filter((s) => s === -1).length > 1
    ) {
      throw new FulmenError(
        `Unflatten: unflattenedSize must be a non-empty list of sizes, at most one of them -1, got ${JSON.stringify(unflattenedSize)}.`,
      );
    }
    this.unflattenedSize = [...unflattenedSize];
  }

  forward(x: tf.Tensor): tf.Tensor {
    const dim = this.dim < 0 ? this.dim + x.rank : this.dim;
    if (dim < 0 || dim >= x.rank) {
      throw new FulmenError(`Unflatten: dim ${this.dim} is out of range for an input of shape [${x.shape}].`);
    }
    const size = x.shape[dim]!;
    const known = this.unflattenedSize.filter((s) => s !== -1).reduce((a, b) => a * b, 1);
    const inferred = this.unflattenedSize.includes(-1);
    if (inferred ? known === 0 || size % known !== 0 : known !== size) {
      throw new FulmenError(
        `Unflatten: sizes [${this.unflattenedSize}] do not multiply to dimension ${this.dim}'s size ${size} (input shape [${x.shape}]).`,
      );
    }
    const sizes = this.unflattenedSize.map((s) => (s === -1 ? size / known : s));
    return tf.reshape(x, [...x.shape.slice(0, dim), ...sizes, ...x.shape.slice(dim + 1)]);
  }

  protected override extraRepr(): string {
    return `dim=${this.dim}, unflattenedSize=[${this.unflattenedSize}]`;
  }
}
