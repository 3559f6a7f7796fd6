import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { BackendValues, DataId, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { BufferPool, type PooledArrayConstructor } from "./buffer-pool";

/** The most memory the host engine keeps for reuse (freed output arrays); `FULMEN_HOST_POOL_MB` overrides it. */
const MAX_POOLED_BYTES = Number(process.env.FULMEN_HOST_POOL_MB ?? 1024) * 1024 * 1024;

/** What tfjs's CPU backend stores per tensor. */
interface StoredData {
  values?: BackendValues;
}

/**
 * The host engine's tfjs backend. Its tensors live in host memory as tfjs's CPU backend keeps them, so kernels
 * the engine implements natively read and write them in place, and every other kernel runs tfjs's CPU
 * implementation on the same data with nothing moved; those calls are counted (`fallbackStats()`), so the gap
 * is visible.
 */
export class HostEngineBackend extends MathBackendCPU {
  private readonly fallbacks = new Map<string, number>();
  private readonly pool = new BufferPool(MAX_POOLED_BYTES);

  constructor() {
    super();
    // Every tensor's values pass through the storage's set and delete (write, move, disposeData): counting
    // there tells the pool when an array's last user is gone.
    const storage = this.data;
    const set = storage.set.bind(storage);
    const remove = storage.delete.bind(storage);
    storage.set = (dataId: DataId, value) => {
      if (storage.has(dataId)) this.pool.release((storage.get(dataId) as StoredData).values);
      this.pool.retain((value as StoredData).values);
      set(dataId, value);
    };
    storage.delete = (dataId: DataId) => {
      if (storage.has(dataId)) this.pool.release((storage.get(dataId) as StoredData).values);
      return remove(dataId);
    };
  }

  /** An output array for a native kernel, recycled when one of that size is free (contents undefined). */
  allocate<C extends PooledArrayConstructor>(type: C, length: number): InstanceType<C> {
    return this.pool.allocate(type, length);
  }

  /** Stored values handed to a reader stay the reader's: they are never recycled. */
  override readSync(dataId: DataId): BackendValues {
    const values = super.readSync(dataId);
    this.pool.escape(values);
    return values;
  }

  /** Whether this backend stores the tensor's values (a tensor made on another backend lives there). */
  holds(t: { dataId: DataId }): boolean {
    return this.data.has(t.dataId);
  }

  /** Bytes of freed arrays waiting for reuse. */
  get pooledBytes(): number {
    return this.pool.bytesPooled;
  }

  /**
   * The float32 values of a tensor of this backend, for a kernel to read: no copy when they are stored as
   * float32; tfjs's CPU kernels may leave a cast tensor's values in their original typed array (int32, bool),
   * which are converted.
   */
  floats(t: TensorInfo): Float32Array {
    const values = (this.data.get(t.dataId) as StoredData).values;
    return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
  }

  /** The stored values of a tensor, for a kernel to read (int32 ids, indices). */
  stored(t: TensorInfo): BackendValues {
    const values = (this.data.get(t.dataId) as StoredData).values;
    return values === undefined ? this.readSync(t.dataId) : values;
  }

  /** Runs tfjs's CPU kernel for `kernelName`, counting the call. */
  runFallback(
    kernelName: string,
    kernel: KernelFunc,
    args: Parameters<KernelFunc>[0],
  ): ReturnType<KernelFunc> {
    this.fallbacks.set(kernelName, (this.fallbacks.get(kernelName) ?? 0) + 1);
    return kernel(args);
  }

  /** How often each kernel ran on tfjs's CPU implementation instead of the native engine. */
  fallbackStats(): Record<string, number> {
    return Object.fromEntries([...this.fallbacks.entries()].sort((x, y) => y[1] - x[1]));
  }

  /** Forgets the counts. */
  resetFallbackStats(): void {
    this.fallbacks.clear();
  }
}
