import { FulmenError, type Parameter, tf } from "@fulmen/core";

/** The part of one parameter that falls in this rank's shard. */
export interface ShardPiece {
  /** The parameter. */
  param: Parameter;
  /** First element of the parameter (flattened) in the shard. */
  from: number;
  /** Number of its elements in the shard. */
  length: number;
  /** Where the piece starts in this rank's shard. */
  at: number;
}

/**
 * ZeRO's and FSDP's partitioning of a list of parameters (FSDP's FlatParameter layout): the parameters,
 * flattened in order into one float32 buffer padded to a multiple of the world size, split into `worldSize`
 * equal contiguous shards; rank `r` owns elements `[r·shardSize, (r+1)·shardSize)`. The buffer itself is never
 * kept whole: it is a coordinate system for moving values between the parameters and the shard.
 */
export class FlatShard {
  /** Where each parameter starts in the flat buffer. */
  readonly offsets: number[];
  /** Elements of all parameters together. */
  readonly numel: number;
  /** Elements of the padded flat buffer (a multiple of the world size). */
  readonly paddedNumel: number;
  /** Elements of each rank's shard. */
  readonly shardSize: number;
  /** This rank's pieces of the parameters, in shard order (the rest of the shard is padding). */
  readonly pieces: ShardPiece[];

  constructor(
    /** The parameters, in the order they are laid out in the flat buffer. */
    readonly params: Parameter[],
    rank: number,
    worldSize: number,
  ) {
    let offset = 0;
    this.offsets = params.map((p) => {
      const at = offset;
      offset += p.size;
      return at;
    });
    this.numel = offset;
    this.shardSize = Math.ceil(offset / worldSize);
    this.paddedNumel = this.shardSize * worldSize;
    const lo = rank * this.shardSize;
    const hi = lo + this.shardSize;
    this.pieces = [];
    params.forEach((param, i) => {
      const start = this.offsets[i]!;
      const from = Math.max(start, lo);
      const to = Math.min(start + param.size, hi);
      if (to > from) this.pieces.push({ param, from: from - start, length: to - from, at: from - lo });
    });
  }

  /** This rank's shard of the per-parameter tensors `of(param)` (zeros where the shard is padding). */
  shardOf(of: (param: Parameter) => tf.Tensor): tf.Tensor1D {
    return tf.tidy(() => {
      const parts: tf.Tensor1D[] = this.pieces.map(({ param, from, length }) =>
        tf.slice(tf.reshape(of(param), [-1]) as tf.Tensor1D, [from], [length]),
      );
      const filled = this.pieces.reduce((n, p) => n + p.length, 0);
      if (filled < this.shardSize) parts.push(tf.zeros([this.shardSize - filled]));
      return parts.length === 1 ? tf.clone(parts[0]!) : (tf.concat(parts) as tf.Tensor1D);
    });
  }

  /**
   * The whole padded flat buffer of the per-parameter tensors `of(param)` (zeros where it gives null), written
   * into `into` (of {@link FlatShard.paddedNumel} elements, any contents) when given, each tensor by `copy`.
   */
  flatten(
    of: (param: Parameter) => tf.Tensor | null,
    into?: Float32Array,
    copy: (t: tf.Tensor, target: Float32Array, offset: number) => void = (t, target, offset) =>
      target.set(t.dataSync() as Float32Array, offset),
  ): Float32Array {
    const flat = into ?? new Float32Array(this.paddedNumel);
    if (flat.length !== this.paddedNumel)
      throw new FulmenError(
        `flatten: an array of ${flat.length} elements for a flat buffer of ${this.paddedNumel}.`,
      );
    this.params.forEach((param, i) => {
      const value = of(param);
      const at = this.offsets[i]!;
      if (value !== null) copy(value, flat, at);
      else if (into !== undefined) flat.fill(0, at, at + param.size);
    });
    if (into !== undefined) flat.fill(0, this.numel);
    return flat;
  }

  /** Calls `use` with each parameter and its window of a whole flat buffer, in the parameter's shape. */
  unflatten(flat: Float32Array, use: (param: Parameter, value: tf.Tensor) => void): void {
    this.params.forEach((param, i) => {
      const start = this.offsets[i]!;
      const value = tf.tensor(flat.subarray(start, start + param.size), param.shape, "float32");
      try {
        use(param, value);
      } finally {
        value.dispose();
      }
    });
  }
}
