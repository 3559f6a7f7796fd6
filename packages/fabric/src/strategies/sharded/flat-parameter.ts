import {
  type Collective,
  decodeHalf,
  encodeHalf,
  FulmenError,
  type HalfDtype,
  type Parameter,
  roundBfloat16Array,
  roundFloat16Array,
  tf,
} from "@fulmen/core";
import { FlatShard } from "./flat-shard";
import { HostStaging } from "./host-staging";

/**
 * One sharded group of parameters (FSDP's FlatParameter, one of ZeRO's partitions): their flat layout, this
 * rank's shard of their reduced gradient and, when parameters are sharded too (FSDP `FULL_SHARD`, ZeRO-3), this
 * rank's shard of their values, the only copy kept between uses: the parameters' own storage is released and
 * only gathered around the forward and backward of the unit that owns them.
 */
export class FlatParameter {
  /** The layout of the parameters in the flat buffer and this rank's shard of it. */
  readonly layout: FlatShard;
  /** This rank's shard of the reduced gradient (summed over synchronised backward passes since zeroGrad), or null. */
  gradShard: tf.Tensor1D | null = null;
  private valueShard: tf.Tensor1D | null = null;
  /** The shard of the values in host memory instead (parameters offloaded: DeepSpeed's offload_param). */
  private hostShard: Float32Array | null = null;
  /** Keep the value shard in host memory (set before {@link FlatParameter.shardValues}). */
  offloadValues = false;
  /**
   * The dtype the parameters are gathered in for computing (FSDP's `param_dtype`), their local gradients
   * rounded to it; null: float32. The shard itself stays float32.
   */
  paramDtype: HalfDtype | null = null;
  /** The dtype gradients are reduce-scattered in (FSDP's `reduce_dtype`); null: float32. */
  reduceDtype: HalfDtype | null = null;
  /** Local full gradients of backward passes not yet synchronised (noBackwardSync), with sharded parameters. */
  private pending: Float32Array | null = null;
  /** How many times the values changed (see {@link FlatParameter.version}). */
  private changes = 0;
  /**
   * How values move between tensors and host arrays (the strategy's, with its accelerator's help).
   * @internal
   */
  staging = new HostStaging();

  constructor(
    /** The parameters, in the order they are laid out in the flat buffer. */
    readonly params: Parameter[],
    private readonly collective: Collective,
    /** What owns the parameters, for error messages ("unit 'layers.0' (Block)"). */
    readonly owner: string,
    /**
     * The ranks on other machines that hold the same shard (FSDP's `HYBRID_SHARD`): each reduced gradient
     * shard is averaged across them. Null: `collective` is the whole world.
     */
    private readonly replicas: Collective | null = null,
  ) {
    this.layout = new FlatShard(params, collective.rank, collective.worldSize);
  }

  /** Whether the values live as this rank's shard (the parameters released between uses). */
  get isSharded(): boolean {
    return this.valueShard !== null || this.hostShard !== null;
  }

  /** Keeps only this rank's shard of the parameters' current values and releases their storage. */
  shardValues(): void {
    this.changes++;
    const shard = tf.keep(this.layout.shardOf((p) => p.data));
    this.valueShard?.dispose();
    this.valueShard = null;
    if (this.offloadValues) {
      this.hostShard = Float32Array.from(shard.dataSync() as Float32Array);
      shard.dispose();
    } else this.valueShard = shard;
    this.release();
  }

  /**
   * Gives every parameter its full value again from the shards (all-gather): as stored, or `forCompute` in
   * {@link FlatParameter.paramDtype}.
   */
  gather(forCompute = false): void {
    if (!this.isSharded) return;
    this.layout.unflatten(this.gatherValues(forCompute), (p, v) => p.restoreStorage(v));
  }

  /**
   * The whole padded flat buffer of the values, all-gathered from the shards (every rank must call it): as
   * stored, or `forCompute` in {@link FlatParameter.paramDtype} (sent as 16-bit values).
   */
  gatherValues(forCompute = false): Float32Array {
    const dtype = forCompute ? this.paramDtype : null;
    const input = this.shardForGather(dtype);
    try {
      if (dtype === null) return this.collective.allGather(input as Float32Array, this.gatherTarget());
      return decodeHalf(this.collective.allGather(input as Uint16Array), dtype);
    } finally {
      this.doneWithGatherInput(input);
    }
  }

  /**
   * An array for the whole padded flat buffer of the values, gathered to become the parameters' storage (as
   * views): the accelerator's, taken back once those tensors are gone.
   */
  gatherTarget(): Float32Array {
    return this.staging.tensorArray(this.layout.paddedNumel);
  }

  /**
   * This rank's shard as it travels in an all-gather, float32 or the bits of `dtype`, in an array that stays as
   * it is while the gather reads it; hand it back with {@link FlatParameter.doneWithGatherInput} once the gather
   * is over.
   */
  shardForGather(dtype: HalfDtype | null): Float32Array | Uint16Array {
    if (!this.isSharded)
      throw new FulmenError(`The parameters of ${this.owner} are not sharded; there is nothing to gather.`);
    if (this.hostShard !== null) return dtype === null ? this.hostShard : encodeHalf(this.hostShard, dtype);
    const values = this.staging.copyOut(this.valueShard!);
    if (dtype === null) return values;
    const bits = encodeHalf(values, dtype);
    this.staging.scratch.release(values);
    return bits;
  }

  /** Takes back an array from {@link FlatParameter.shardForGather} once its gather is over. */
  doneWithGatherInput(input: Float32Array | Uint16Array): void {
    if (input instanceof Float32Array && input !== this.hostShard) this.staging.scratch.release(input);
  }

  /** Counts changes of the values (an optimizer step, a load), so a gathered copy knows when it is stale. */
  get version(): number {
    return this.changes;
  }

  /** Why the parameters hold no value between uses, for the error a read gives. */
  get releaseReason(): string {
    return (
      `its value is sharded across ranks and gathered only while the forward or backward of ${this.owner} runs. ` +
      "Read it there, put the modules that share or read it outside into one unit (autoWrapPolicy), or use the " +
      "module's stateDict() to see the whole value."
    );
  }

  /** Releases the parameters' storage again (their values stay in the shard). */
  release(): void {
    if (!this.isSharded) return;
    for (const p of this.params) p.releaseStorage(this.releaseReason);
  }

  /**
   * This rank's shard of the values in a new host array the caller may write: one copy of the kept shard (no
   * device-side clone first), or of the slices of whole parameters.
   */
  hostValues(): Float32Array {
    // It becomes the storage of the updated shard.
    const out = this.staging.tensorArray(this.layout.shardSize);
    if (this.hostShard !== null) out.set(this.hostShard);
    else if (this.valueShard !== null) this.staging.copy(this.valueShard, out);
    else {
      const sliced = this.layout.shardOf((p) => p.data);
      try {
        this.staging.copy(sliced, out);
      } finally {
        sliced.dispose();
      }
    }
    return out;
  }

  /** This rank's shard of the values, a new tensor the caller owns (sharded: the kept shard; else sliced from the parameters). */
  values(): tf.Tensor1D {
    if (this.hostShard !== null) return tf.tensor1d(this.hostShard, "float32");
    return this.valueShard !== null ? tf.clone(this.valueShard) : this.layout.shardOf((p) => p.data);
  }

  /**
   * Makes `shard` (this rank's updated shard of the values, owned by this call) the parameters' value: kept as
   * the shard when sharded, else all-gathered into every rank's full parameters.
   */
  setValues(shard: tf.Tensor1D): void {
    this.changes++;
    if (this.hostShard !== null) {
      this.hostShard = Float32Array.from(shard.dataSync() as Float32Array);
      shard.dispose();
      return;
    }
    if (this.valueShard !== null) {
      this.valueShard.dispose();
      this.valueShard = tf.keep(shard);
      return;
    }
    const input = this.staging.copyOut(shard);
    shard.dispose();
    const full = this.collective.allGather(input, this.gatherTarget());
    this.staging.scratch.release(input);
    this.layout.unflatten(full, (p, v) => p.assign(v));
  }

  /**
   * Takes one backward pass's local gradients of the parameters (null where a parameter took no part: zeros):
   * with `sync`, adds what earlier unsynchronised passes left, reduce-scatters the mean across ranks and adds
   * this rank's shard to {@link FlatParameter.gradShard}; without, keeps them locally until a synchronised pass.
   * With `defer`, where the collective can start a reduce-scatter in the background, it is started and the
   * step that waits for it and adds the shard is handed to `defer` (the caller runs it before the shard is read).
   */
  addGradients(grads: Array<tf.Tensor | null>, sync: boolean, defer?: (finish: () => void) => void): void {
    const byParam = new Map(this.params.map((p, i) => [p, grads[i] ?? null]));
    const scratch = this.staging.scratch;
    let flat = this.layout.flatten(
      (p) => (p.requiresGrad ? byParam.get(p)! : null),
      scratch.acquire(this.layout.paddedNumel),
      (t, target, offset) => this.staging.copy(t, target, offset),
    );
    // Gradients of parameters computed in half are half values (PyTorch's unsharded gradient in param_dtype).
    if (this.paramDtype !== null) flat = roundHalf(flat, this.paramDtype);
    if (this.pending !== null) {
      for (let i = 0; i < flat.length; i++) flat[i]! += this.pending[i]!;
      scratch.release(this.pending);
      this.pending = null;
    }
    if (!sync) {
      this.pending = flat;
      return;
    }
    const finish = this.reduceGradients(flat, defer !== undefined);
    if (defer === undefined) finish();
    else defer(finish);
  }

  /**
   * Reduces the local flat gradients to the mean over every rank, this rank's shard of it, and returns what adds
   * it to {@link FlatParameter.gradShard}: reduce-scattered among the sharding ranks (started in the background
   * when `background` and the collective can), then averaged with the replicas' (the mean of means of equal
   * groups), all in the reduce dtype.
   */
  private reduceGradients(flat: Float32Array, background: boolean): () => void {
    const dtype = this.reduceDtype;
    const options = dtype === null ? undefined : { halfFormat: dtype };
    const input = dtype === null ? flat : encodeHalf(flat, dtype);
    // The reduced shard becomes the gradient shard's storage.
    const out = dtype === null ? this.staging.tensorArray(this.layout.shardSize) : undefined;
    let wait: () => Float32Array | Uint16Array;
    if (background && this.collective.reduceScatterStart !== undefined) {
      const started = this.collective.reduceScatterStart<Float32Array | Uint16Array>(
        input,
        "mean",
        options,
        out,
      );
      wait = () => started.wait();
    } else {
      const reduced = this.collective.reduceScatter<Float32Array | Uint16Array>(input, "mean", options, out);
      wait = () => reduced;
    }
    return () => {
      const shard = wait();
      // The collective has read the local gradients: their buffer can serve the next backward.
      this.staging.scratch.release(flat);
      this.replicas?.allReduce(shard, "mean", options);
      this.addToShard(dtype === null ? (shard as Float32Array) : decodeHalf(shard as Uint16Array, dtype));
    };
  }

  /** Adds a reduced gradient shard to {@link FlatParameter.gradShard}. */
  private addToShard(shard: Float32Array): void {
    // Kept: backward may run inside the caller's tidy (the Trainer's); the shard lives until zeroGrad.
    const reduced = tf.keep(tf.tensor1d(shard, "float32"));
    if (this.gradShard === null) this.gradShard = reduced;
    else {
      const sum = tf.keep(tf.add(this.gradShard, reduced) as tf.Tensor1D);
      this.gradShard.dispose();
      reduced.dispose();
      this.gradShard = sum;
    }
  }

  /**
   * After a synchronised backward, for parameters that keep their full values: reduce-scatters the gradients
   * they hold (ZeRO-2's gradient partitioning) and frees them. Every trainable parameter must have one, or none.
   */
  reduceHeldGradients(): void {
    const trainable = this.params.filter((p) => p.requiresGrad);
    const missing = trainable.filter((p) => p.grad === null).length;
    if (missing === trainable.length) return;
    if (missing > 0)
      throw new FulmenError(
        `${missing} trainable parameter(s) of ${this.owner} received no gradient on rank ${this.collective.rank}. ` +
          "Every trainable parameter must take part in the loss on every rank (or set requiresGrad = false on it).",
      );
    this.addGradients(
      this.params.map((p) => p.grad),
      true,
    );
    for (const p of trainable) p.setGrad(null);
  }

  /**
   * Every parameter's whole gradient as this rank sees it (FSDP's `summon_full_params(with_grads=True)`): the
   * reduced shards all-gathered (the same on every rank; every rank must call it), or the local gradients of
   * unsynchronised passes, or null where there is none. The caller owns the tensors.
   */
  wholeGradients(): Map<Parameter, tf.Tensor | null> {
    const out = new Map<Parameter, tf.Tensor | null>();
    const flat =
      this.gradShard !== null
        ? this.collective.allGather(Float32Array.from(this.gradShard.dataSync() as Float32Array))
        : this.pending;
    for (const p of this.params) out.set(p, p.grad === null ? null : tf.clone(p.grad));
    if (flat !== null) this.layout.unflatten(flat, (p, v) => out.set(p, tf.clone(v)));
    return out;
  }

  /** Clears the gradient shard (to null, or to zeros with `setToNone` false) and unsynchronised gradients. */
  zeroGrad(setToNone: boolean): void {
    if (this.pending !== null) this.staging.scratch.release(this.pending);
    this.pending = null;
    if (this.gradShard === null) return;
    const old = this.gradShard;
    this.gradShard = setToNone ? null : tf.keep(tf.zerosLike(old) as tf.Tensor1D);
    old.dispose();
  }

  /** Gives the parameters their full values for good and frees the shards (the strategy's teardown). */
  unshard(): void {
    this.gather();
    this.valueShard?.dispose();
    this.valueShard = null;
    this.hostShard = null;
    this.zeroGrad(true);
  }
}

function roundHalf(values: Float32Array, dtype: HalfDtype): Float32Array {
  return dtype === "bfloat16" ? roundBfloat16Array(values) : roundFloat16Array(values);
}
