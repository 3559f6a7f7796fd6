import type { BatchMatMulAttrs, BatchMatMulInputs, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import type { HostEngineBackend } from "./host-backend";
import type { NativeEngine } from "./native-engine";

const product = (dims: number[]) => dims.reduce((p, d) => p * d, 1);

/** How a BatchMatMul maps onto the engine's batched GEMM (both builds share it). */
export interface GemmShape {
  /** How many matrices `a` holds: the product of its batch dimensions (1 when it has none). */
  batchA: number;
  /** How many matrices `b` holds: the product of its batch dimensions (1 when it has none). */
  batchB: number;
  /** The rows of each product: `a`'s second-to-last dimension, its last with `transposeA`. */
  m: number;
  /** The columns of each product: `b`'s last dimension, its second-to-last with `transposeB`. */
  n: number;
  /** The inner dimension the product sums over, shared by `a` and `b`. */
  k: number;
  /** The output's shape: the larger batch's dimensions, then `[m, n]`. */
  outShape: number[];
}

/**
 * The GEMM of `[...batch, M, K]` × `[...batch, K, N]` (with transposes) when the batch dimensions are equal or
 * one side has none/ones; null for float32-less or other broadcasts (which go to tfjs's kernel). Throws tfjs's
 * error when the inner dimensions differ.
 */
export function gemmShapeOf(
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): GemmShape | null {
  const batchDimsA = a.shape.slice(0, -2);
  const batchDimsB = b.shape.slice(0, -2);
  const batchA = product(batchDimsA);
  const batchB = product(batchDimsB);
  const sameBatch =
    batchDimsA.length === batchDimsB.length && batchDimsA.every((d, i) => d === batchDimsB[i]);
  if (
    a.dtype !== "float32" ||
    b.dtype !== "float32" ||
    a.shape.length < 2 ||
    b.shape.length < 2 ||
    !(sameBatch || batchA === 1 || batchB === 1)
  )
    return null;
  const m = transposeA ? a.shape.at(-1)! : a.shape.at(-2)!;
  const k = transposeA ? a.shape.at(-2)! : a.shape.at(-1)!;
  const kB = transposeB ? b.shape.at(-1)! : b.shape.at(-2)!;
  const n = transposeB ? b.shape.at(-2)! : b.shape.at(-1)!;
  if (k !== kB)
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kB}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  const batchDims = batchA >= batchB ? batchDimsA : batchDimsB;
  return { batchA, batchB, m, n, k, outShape: [...batchDims, m, n] };
}

/** tfjs's BatchMatMul on the host engine's GEMM; other cases go to tfjs's cpu kernel (counted as a fallback). */
export function nativeBatchMatMul(engine: NativeEngine, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as unknown as BatchMatMulInputs & { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    const backend = args.backend as HostEngineBackend;
    const g = gemmShapeOf(a, b, transposeA, transposeB);
    if (g === null) return backend.runFallback("BatchMatMul", fallback, args);
    const out = backend.allocate(Float32Array, product(g.outShape));
    engine.batchMatMul(
      backend.floats(a),
      backend.floats(b),
      out,
      g.batchA,
      g.batchB,
      g.m,
      g.n,
      g.k,
      transposeA,
      transposeB,
    );
    return backend.makeTensorInfo(g.outShape, "float32", out);
  };
}
