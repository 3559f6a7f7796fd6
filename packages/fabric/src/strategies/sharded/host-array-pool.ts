/**
 * Float32 host arrays a sharded strategy reuses from step to step (the flat gradient buffers it reduce-scatters
 * from): a new multi-megabyte array per unit and step costs a zero fill and, above all, garbage collections that
 * also slow the other ranks' kernels on the same machine. Only arrays that never become a tensor's storage may
 * come from here (a tensor made from an array keeps it, and something derived from it may outlive the step).
 * At most {@link HostArrayPool.maxBytes} wait for reuse; beyond that returned arrays are left to the garbage
 * collector.
 */
export class HostArrayPool {
  private readonly free = new Map<number, Float32Array[]>();
  private pooledBytes = 0;

  /** The most bytes kept for reuse. */
  maxBytes = 0;

  /** An array of `length` elements, its contents whatever it held before (zeros when new). */
  acquire(length: number): Float32Array {
    const reused = this.free.get(length)?.pop();
    if (reused === undefined) return new Float32Array(length);
    this.pooledBytes -= reused.byteLength;
    return reused;
  }

  /** Takes back an array nothing reads or writes any more. */
  release(array: Float32Array): void {
    if (this.pooledBytes + array.byteLength > this.maxBytes) return;
    const list = this.free.get(array.length) ?? [];
    list.push(array);
    this.free.set(array.length, list);
    this.pooledBytes += array.byteLength;
  }
}
