import type { BatchMatMulAttrs, BatchMatMulInputs, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import type { HostEngineBackend } from "./host-backend";
import type { NativeEngine } from "./native-engine";

const product = (dims: number[]) => dims.reduce((p, d) => p * d, 1);

/**
 * tfjs's BatchMatMul on the native GEMM: operands `[...batch, M, K]` × `[...batch, K, N]` (with transposes),
 * where the batch dimensions are equal or one side has none/ones. Other broadcasts and non-float32 inputs go to
 * the tfjs cpu kernel (counted as a fallback).
 */
export function nativeBatchMatMul(engine: NativeEngine, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as unknown as BatchMatMulInputs & { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    const backend = args.backend as HostEngineBackend;
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
    ) {
      return backend.runFallback("BatchMatMul", fallback, args);
    }
    const m = transposeA ? a.shape.at(-1)! : a.shape.at(-2)!;
    const k = transposeA ? a.shape.at(-2)! : a.shape.at(-1)!;
    const kB = transposeB ? b.shape.at(-1)! : b.shape.at(-2)!;
    const n = transposeB ? b.shape.at(-2)! : b.shape.at(-1)!;
    if (k !== kB)
      throw new Error(
        `Error in matMul: inner shapes (${k}) and (${kB}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
      );
    const batchDims = batchA >= batchB ? batchDimsA : batchDimsB;
    const out = backend.allocate(Float32Array, Math.max(batchA, batchB) * m * n);
    engine.batchMatMul(
      backend.floats(a),
      backend.floats(b),
      out,
      batchA,
      batchB,
      m,
      n,
      k,
      transposeA,
      transposeB,
    );
    return backend.makeTensorInfo([...batchDims, m, n], "float32", out);
  };
}
