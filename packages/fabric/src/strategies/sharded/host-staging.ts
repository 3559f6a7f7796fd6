import type { Accelerator, tf } from "@fulmen/core";
import { HostArrayPool } from "./host-array-pool";

/**
 * How a sharded strategy moves values between tensors and the host arrays its collectives read and write, with
 * the accelerator's help where it offers it (as DDP's gradient buckets do): tensors are read in place
 * (`copyToHost`: `dataSync()` would hand the host engine's stored array to the reader for good, so that the
 * engine must allocate a new one for its next kernel), and arrays that become tensors come from the engine's
 * pool (`stagingBuffer`: taken back once the tensors made of them are gone). Arrays only the collectives read
 * (gradients to reduce, a shard to gather) are reused from {@link HostStaging.scratch}. Without that, every
 * step made and dropped several arrays the size of the model, and the garbage collections slowed the kernels of
 * every rank on the machine.
 */
export class HostStaging {
  /** Arrays that never become a tensor's storage, reused from step to step. */
  readonly scratch = new HostArrayPool();

  constructor(private readonly accelerator: Pick<Accelerator, "copyToHost" | "stagingBuffer"> = {}) {}

  /** Copies the values of float32 tensor `t` into `target` from `offset` on. */
  copy(t: tf.Tensor, target: Float32Array, offset = 0): void {
    if (this.accelerator.copyToHost) this.accelerator.copyToHost(t, target, offset);
    else target.set(t.dataSync() as Float32Array, offset);
  }

  /** A scratch array (see {@link HostStaging.scratch}) holding a copy of `t`'s values; hand it back with `scratch.release`. */
  copyOut(t: tf.Tensor): Float32Array {
    const out = this.scratch.acquire(t.size);
    this.copy(t, out);
    return out;
  }

  /**
   * An array of `length` elements (any contents) that is to become tensors' storage, whole or as views: never
   * written once a tensor uses it.
   */
  tensorArray(length: number): Float32Array {
    return this.accelerator.stagingBuffer?.(length) ?? new Float32Array(length);
  }
}
