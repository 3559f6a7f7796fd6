import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";

/**
 * The host engine's tfjs backend. Its tensors live in host memory as tfjs's CPU backend keeps them, so kernels
 * the engine implements natively read and write them in place, and every other kernel runs tfjs's CPU
 * implementation on the same data with nothing moved; those calls are counted (`fallbackStats()`), so the gap
 * is visible.
 */
export class HostEngineBackend extends MathBackendCPU {
  private readonly fallbacks = new Map<string, number>();

  /**
   * The float32 values of a tensor of this backend: no copy when they are stored as float32; tfjs's CPU kernels
   * may leave a cast tensor's values in their original typed array (int32, bool), which are converted.
   */
  floats(t: TensorInfo): Float32Array {
    const values = this.readSync(t.dataId);
    return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
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
