import { tf } from "@fulmen/core";
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { HostEngineBackend } from "./host-backend";
import type { KernelFactory } from "./kernel-factory";
import { BINARY, COMPARE, UNARY } from "./op-codes";
import {
  type ReductionAttrs,
  reducedBlock,
  reducedShape,
  reduceInRuns,
  reductionAxes,
} from "./reduced-block";

/**
 * A broadcasting kernel of two float32 tensors: arithmetic (float32 out) through `engine.binary`, comparisons
 * (tfjs's bool, 0/1 bytes) through `engine.compare`; other dtypes go to tfjs's kernel.
 */
function broadcastKernel(kernelName: string, code: number, output: "float32" | "bool"): KernelFactory {
  return (engine, fallback) => (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const backend = args.backend as HostEngineBackend;
    if (a.dtype !== "float32" || b.dtype !== "float32")
      return backend.runFallback(kernelName, fallback, args);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const [x, y] = [backend.floats(a), backend.floats(b)];
    if (output === "bool") {
      const out = backend.allocate(Uint8Array, tf.util.sizeFromShape(outShape));
      if (out.length > 0) engine.compare(code, x, a.shape, y, b.shape, out, outShape);
      return backend.makeTensorInfo(outShape, "bool", out);
    }
    const out = backend.allocate(Float32Array, tf.util.sizeFromShape(outShape));
    if (out.length > 0) engine.binary(code, x, a.shape, y, b.shape, out, outShape);
    return backend.makeTensorInfo(outShape, "float32", out);
  };
}

function unaryKernel(kernelName: string, code: number): KernelFactory {
  return (engine, fallback) => (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as HostEngineBackend;
    if (x.dtype !== "float32") return backend.runFallback(kernelName, fallback, args);
    const out = backend.allocate(Float32Array, tf.util.sizeFromShape(x.shape));
    engine.unary(code, backend.floats(x), out);
    return backend.makeTensorInfo(x.shape, "float32", out);
  };
}

const stepKernel: KernelFactory = (engine, fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const backend = args.backend as HostEngineBackend;
  if (x.dtype !== "float32") return backend.runFallback("Step", fallback, args);
  const out = backend.allocate(Float32Array, tf.util.sizeFromShape(x.shape));
  engine.step(backend.floats(x), out, (args.attrs as { alpha?: number }).alpha ?? 0);
  return backend.makeTensorInfo(x.shape, "float32", out);
};

/**
 * Sum (or, with `mean`, tfjs's mean: divide then sum) over axes that form one contiguous block (leading,
 * trailing or middle), and Sum over several blocks; Mean over several blocks and non-float32 inputs go to tfjs's
 * kernel.
 */
const reduceKernel =
  (kernelName: "Sum" | "Mean"): KernelFactory =>
  (engine, fallback) =>
  (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as HostEngineBackend;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    if (x.dtype !== "float32") return backend.runFallback(kernelName, fallback, args);
    const block = reducedBlock(x, axis);
    if (block === null) {
      const none = tf.util.parseAxisParam(axis, x.shape).length === 0;
      if (kernelName === "Mean" || none) return backend.runFallback(kernelName, fallback, args);
      return reduceInRuns(
        x,
        axis,
        keepDims,
        (input, runBlock, shape) => {
          const out = backend.allocate(Float32Array, runBlock.outer * runBlock.inner);
          engine.sumMiddle(
            backend.floats(input),
            out,
            runBlock.outer,
            runBlock.reduce,
            runBlock.inner,
            false,
          );
          return backend.makeTensorInfo(shape, "float32", out);
        },
        (intermediate) => backend.disposeIntermediateTensorInfo(intermediate),
      );
    }
    const out = backend.allocate(Float32Array, block.outer * block.inner);
    engine.sumMiddle(backend.floats(x), out, block.outer, block.reduce, block.inner, kernelName === "Mean");
    const outShape = reducedShape(x, block.axes, keepDims);
    return backend.makeTensorInfo(outShape, "float32", out);
  };

/** Select with a condition of the values' own shape; other layouts go to tfjs's kernel. */
const selectKernel: KernelFactory = (engine, fallback) => (args) => {
  const { condition, t, e } = args.inputs as { condition: TensorInfo; t: TensorInfo; e: TensorInfo };
  const backend = args.backend as HostEngineBackend;
  const flags = backend.stored(condition);
  if (
    t.dtype !== "float32" ||
    e.dtype !== "float32" ||
    !(flags instanceof Uint8Array) ||
    !tf.util.arraysEqual(condition.shape, t.shape) ||
    !tf.util.arraysEqual(t.shape, e.shape)
  )
    return backend.runFallback("Select", fallback, args);
  const out = backend.allocate(Float32Array, tf.util.sizeFromShape(t.shape));
  engine.select(flags, backend.floats(t), backend.floats(e), out);
  return backend.makeTensorInfo(t.shape, "float32", out);
};

const clipKernel: KernelFactory = (engine, fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const backend = args.backend as HostEngineBackend;
  if (x.dtype !== "float32") return backend.runFallback("ClipByValue", fallback, args);
  const { clipValueMin, clipValueMax } = args.attrs as { clipValueMin: number; clipValueMax: number };
  const out = backend.allocate(Float32Array, tf.util.sizeFromShape(x.shape));
  engine.clip(backend.floats(x), out, clipValueMin, clipValueMax);
  return backend.makeTensorInfo(x.shape, "float32", out);
};

const addNKernel: KernelFactory = (engine, fallback) => (args) => {
  const inputs = args.inputs as unknown as TensorInfo[];
  const backend = args.backend as HostEngineBackend;
  if (inputs.length === 0 || !inputs.every((t) => t.dtype === "float32"))
    return backend.runFallback("AddN", fallback, args);
  const out = backend.allocate(Float32Array, tf.util.sizeFromShape(inputs[0]!.shape));
  engine.addN(
    inputs.map((t) => backend.floats(t)),
    out,
  );
  return backend.makeTensorInfo(inputs[0]!.shape, "float32", out);
};

/** Max or Min over contiguous axes of a non-empty float32 tensor. */
const extremumKernel =
  (kernelName: "Max" | "Min"): KernelFactory =>
  (engine, fallback) =>
  (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as HostEngineBackend;
    const attrs = args.attrs as unknown as ReductionAttrs;
    const axes = reductionAxes(kernelName, attrs);
    const keepDims = attrs.keepDims;
    const block = x.dtype === "float32" ? reducedBlock(x, axes) : null;
    if (block === null || block.reduce === 0) return backend.runFallback(kernelName, fallback, args);
    const out = backend.allocate(Float32Array, block.outer * block.inner);
    engine.extremumMiddle(
      backend.floats(x),
      out,
      block.outer,
      block.reduce,
      block.inner,
      kernelName === "Max",
    );
    return backend.makeTensorInfo(reducedShape(x, block.axes, keepDims), "float32", out);
  };

/** The engine's element-wise and reduction kernels, by tfjs kernel name. */
export const ELEMENTWISE_KERNELS: Record<string, KernelFactory> = {
  ...Object.fromEntries(
    Object.entries(BINARY).map(([name, code]) => [name, broadcastKernel(name, code, "float32")]),
  ),
  ...Object.fromEntries(Object.entries(UNARY).map(([name, code]) => [name, unaryKernel(name, code)])),
  Step: stepKernel,
  Sum: reduceKernel("Sum"),
  Mean: reduceKernel("Mean"),
  ...Object.fromEntries(
    Object.entries(COMPARE).map(([name, code]) => [name, broadcastKernel(name, code, "bool")]),
  ),
  Select: selectKernel,
  ClipByValue: clipKernel,
  AddN: addNKernel,
  Max: extremumKernel("Max"),
  Min: extremumKernel("Min"),
};
