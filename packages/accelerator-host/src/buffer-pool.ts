/** The typed arrays the pool hands out. */
export type PooledArray = Float32Array | Int32Array | Uint8Array;

/** The constructors of `PooledArray`. */
export type PooledArrayConstructor = Float32ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor;

/**
 * Recycles the host engine's output arrays, as PyTorch's allocator keeps freed blocks. A JavaScript typed array
 * is freed only when the garbage collector finds it, and a fresh one costs page faults and zeroing: a training
 * step that allocates tens of MB per kernel spends more time there than in arithmetic. The pool hands out arrays
 * it made and takes one back when the last tensor storing its memory is gone.
 *
 * Safety: memory is tracked per ArrayBuffer (tfjs's CPU kernels may store views of an input, e.g. a contiguous
 * Slice), so an array returns only when nothing stores any view of it — then the whole array returns, whichever
 * view went last; an array that left the backend (read by `dataSync()`/`data()`, which give the stored array
 * itself) is never reused, since its reader may keep it.
 */
export class BufferPool {
  private readonly free = new Map<string, PooledArray[]>();
  /** Buffers this pool made that have not escaped, with how many stored tensors use them. */
  private readonly uses = new WeakMap<ArrayBufferLike, number>();
  /** The whole array each pooled buffer was handed out as (its users may be views on it). */
  private readonly owners = new WeakMap<ArrayBufferLike, PooledArray>();
  private pooledBytes = 0;

  /** @param maxPooledBytes the most memory kept for reuse; beyond it freed arrays go to the garbage collector. */
  constructor(private readonly maxPooledBytes: number) {}

  /** An array of `length` elements; its contents are whatever it held before (zero when new). */
  allocate<C extends PooledArrayConstructor>(type: C, length: number): InstanceType<C> {
    const key = `${type.name}:${length}`;
    const reused = this.free.get(key)?.pop();
    if (reused !== undefined) {
      this.pooledBytes -= reused.byteLength;
      this.uses.set(reused.buffer, 0);
      return reused as InstanceType<C>;
    }
    const fresh = new type(length) as InstanceType<C>;
    if (length > 0) {
      this.uses.set(fresh.buffer, 0);
      this.owners.set(fresh.buffer, fresh);
    }
    return fresh;
  }

  /** A tensor now stores `values`. */
  retain(values: unknown): void {
    const buffer = bufferOf(values);
    if (buffer === null) return;
    const count = this.uses.get(buffer);
    if (count !== undefined) this.uses.set(buffer, count + 1);
  }

  /** A tensor storing `values` is gone; the array returns to the pool when it was the last user. */
  release(values: unknown): void {
    const buffer = bufferOf(values);
    if (buffer === null) return;
    const count = this.uses.get(buffer);
    if (count === undefined) return;
    if (count > 1) {
      this.uses.set(buffer, count - 1);
      return;
    }
    this.uses.delete(buffer);
    // The last user may be a view (a slice, a gradient in a DDP bucket): the whole array returns.
    const array = this.owners.get(buffer);
    if (array === undefined || this.pooledBytes + array.byteLength > this.maxPooledBytes) return;
    const key = `${array.constructor.name}:${array.length}`;
    const list = this.free.get(key);
    if (list === undefined) this.free.set(key, [array]);
    else list.push(array);
    this.pooledBytes += array.byteLength;
  }

  /** `values` left the backend: its memory is the reader's from now on. */
  escape(values: unknown): void {
    const buffer = bufferOf(values);
    if (buffer !== null) this.uses.delete(buffer);
  }

  /** Bytes waiting for reuse. */
  get bytesPooled(): number {
    return this.pooledBytes;
  }

  /** Drops every pooled array. */
  clear(): void {
    this.free.clear();
    this.pooledBytes = 0;
  }
}

function bufferOf(values: unknown): ArrayBufferLike | null {
  return values instanceof Float32Array || values instanceof Int32Array || values instanceof Uint8Array
    ? values.buffer
    : null;
}
