import type { tf } from "@fulmen/core";
import { release, swapLastTwo, type TensorInfo, type WasmBackendLike } from "../backend-access";

/**
 * wasm's BatchMatMul runs its fast XNNPACK path only without transpose flags, and autodiff's matmul gradients
 * (and Linear's `x Wᵀ`) set them: this wrapper transposes explicitly and calls the fast path (about 10× faster).
 */
export function fastBatchMatMul(original: tf.KernelFunc): tf.KernelFunc {
  return ((args: {
    inputs: { a: TensorInfo; b: TensorInfo };
    backend: WasmBackendLike;
    attrs: Record<string, unknown>;
  }) => {
    const { inputs, backend, attrs } = args;
    if (!attrs.transposeA && !attrs.transposeB)
      return original(args as unknown as Parameters<tf.KernelFunc>[0]);
    const a = attrs.transposeA ? swapLastTwo(backend, inputs.a) : inputs.a;
    const b = attrs.transposeB ? swapLastTwo(backend, inputs.b) : inputs.b;
    const out = original({
      inputs: { a, b },
      backend,
      attrs: { ...attrs, transposeA: false, transposeB: false },
    } as unknown as Parameters<tf.KernelFunc>[0]);
    if (a !== inputs.a) release(backend, a);
    if (b !== inputs.b) release(backend, b);
    return out;
  }) as unknown as tf.KernelFunc;
}
