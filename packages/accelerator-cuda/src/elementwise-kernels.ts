import { tf } from "@fulmen/core";
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { HostEngineBackend } from "./host-backend";
import type { KernelFactory } from "./kernel-factory";

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

/** Binary ops by tfjs kernel name, with the engine's op codes (native/elementwise.h). */
const BINARY: Record<string, number> = {
  Add: 0,
  Sub: 1,
  Multiply: 2,
  RealDiv: 3,
  Maximum: 4,
  Minimum: 5,
  SquaredDifference: 6,
};

/** Unary ops by tfjs kernel name. */
const UNARY: Record<string, number> = {
  Sqrt: 0,
  Relu: 1,
  Exp: 2,
  Log: 3,
  Neg: 4,
  Square: 5,
  Abs: 6,
  Tanh: 7,
  Sigmoid: 8,
  Rsqrt: 9,
  Erf: 10,
};

function binaryKernel(kernelName: string, code: number): KernelFactory {
  return (engine, fallback) => (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const backend = args.backend as HostEngineBackend;
    if (a.dtype !== "float32" || b.dtype !== "float32")
      return backend.runFallback(kernelName, fallback, args);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = backend.allocate(Float32Array, size(outShape));
    if (out.length > 0)
      engine.binary(code, backend.floats(a), a.shape, backend.floats(b), b.shape, out, outShape);
    return backend.makeTensorInfo(outShape, "float32", out);
  };
}

function unaryKernel(kernelName: string, code: number): KernelFactory {
  return (engine, fallback) => (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as HostEngineBackend;
    if (x.dtype !== "float32") return backend.runFallback(kernelName, fallback, args);
    const out = backend.allocate(Float32Array, size(x.shape));
    engine.unary(code, backend.floats(x), out);
    return backend.makeTensorInfo(x.shape, "float32", out);
  };
}

const stepKernel: KernelFactory = (engine, fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const backend = args.backend as HostEngineBackend;
  if (x.dtype !== "float32") return backend.runFallback("Step", fallback, args);
  const out = backend.allocate(Float32Array, size(x.shape));
  engine.step(backend.floats(x), out, (args.attrs as { alpha?: number }).alpha ?? 0);
  return backend.makeTensorInfo(x.shape, "float32", out);
};

/**
 * Sum (or, with `mean`, tfjs's mean: divide then sum) over axes that form one contiguous block (leading,
 * trailing or middle); other axes and non-float32 inputs go to tfjs's kernel.
 */
const reduceKernel =
  (kernelName: "Sum" | "Mean"): KernelFactory =>
  (engine, fallback) =>
  (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as HostEngineBackend;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    const contiguous = axes.length > 0 && axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1);
    if (x.dtype !== "float32" || !contiguous) return backend.runFallback(kernelName, fallback, args);
    const first = axes[0]!;
    const last = axes.at(-1)!;
    const outer = size(x.shape.slice(0, first));
    const reduce = size(x.shape.slice(first, last + 1));
    const inner = size(x.shape.slice(last + 1));
    const out = backend.allocate(Float32Array, outer * inner);
    engine.sumMiddle(backend.floats(x), out, outer, reduce, inner, kernelName === "Mean");
    const outShape = keepDims
      ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !axes.includes(i));
    return backend.makeTensorInfo(outShape, "float32", out);
  };

/** The engine's element-wise and reduction kernels, by tfjs kernel name. */
export const ELEMENTWISE_KERNELS: Record<string, KernelFactory> = {
  ...Object.fromEntries(Object.entries(BINARY).map(([name, code]) => [name, binaryKernel(name, code)])),
  ...Object.fromEntries(Object.entries(UNARY).map(([name, code]) => [name, unaryKernel(name, code)])),
  Step: stepKernel,
  Sum: reduceKernel("Sum"),
  Mean: reduceKernel("Mean"),
};
