import { kernelUtil } from "@fulmen/accelerator-host";
import { tf } from "@fulmen/core";
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { DeviceBackend } from "../device-backend";
import { type DeviceKernelFactory, sizeOf } from "./shared";

// Shared with the host engine's kernels (its backend_util).
const { BINARY, COMPARE, UNARY, reducedBlock, reducedShape, reduceInRuns, reductionAxes } = kernelUtil;
type ReductionAttrs = kernelUtil.ReductionAttrs;

/** Broadcasting arithmetic (float32 out) or comparison (bool out) of two float32 tensors on the device. */
function broadcastKernel(kernelName: string, code: number, output: "float32" | "bool"): DeviceKernelFactory {
  return (fallback) => (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const backend = args.backend as DeviceBackend;
    if (a.dtype !== "float32" || b.dtype !== "float32")
      return backend.runFallback(kernelName, fallback, args);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = backend.makeTensorInfo(outShape, output);
    if (sizeOf(out) > 0) {
      const run = output === "bool" ? backend.device.compare : backend.device.binary;
      run.call(
        backend.device,
        code,
        backend.address(a),
        a.shape,
        backend.address(b),
        b.shape,
        backend.address(out),
        outShape,
      );
    }
    return out;
  };
}

function unaryKernel(kernelName: string, code: number): DeviceKernelFactory {
  return (fallback) => (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as DeviceBackend;
    if (x.dtype !== "float32") return backend.runFallback(kernelName, fallback, args);
    const out = backend.makeTensorInfo(x.shape, "float32");
    if (sizeOf(x) > 0) backend.device.unary(code, backend.address(x), backend.address(out), sizeOf(x));
    return out;
  };
}

/**
 * Sum, Mean, Max or Min over contiguous axes of a float32 tensor, and Sum over several runs of axes; other cases
 * go to tfjs's kernel.
 */
const reduceKernel =
  (kernelName: "Sum" | "Mean" | "Max" | "Min", kind: number): DeviceKernelFactory =>
  (fallback) =>
  (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as DeviceBackend;
    const attrs = args.attrs as unknown as ReductionAttrs;
    const axes = reductionAxes(kernelName, attrs);
    const block = x.dtype === "float32" ? reducedBlock(x, axes) : null;
    const several = x.dtype === "float32" && tf.util.parseAxisParam(axes, x.shape).length > 0;
    if (block === null && kernelName === "Sum" && several)
      return reduceInRuns(
        x,
        axes,
        attrs.keepDims,
        (input, runBlock, shape) => {
          const out = backend.makeTensorInfo(shape, "float32");
          if (sizeOf(out) > 0)
            backend.device.reduceMiddle(
              kind,
              backend.address(input),
              backend.address(out),
              runBlock.outer,
              runBlock.reduce,
              runBlock.inner,
            );
          return out;
        },
        (intermediate) => backend.disposeData(intermediate.dataId),
      );
    // An empty max or min has no first value to start from: tfjs's kernel says what it gives.
    if (block === null || (kind >= 2 && block.reduce === 0))
      return backend.runFallback(kernelName, fallback, args);
    const out = backend.makeTensorInfo(reducedShape(x, block.axes, attrs.keepDims), "float32");
    if (sizeOf(out) > 0)
      backend.device.reduceMiddle(
        kind,
        backend.address(x),
        backend.address(out),
        block.outer,
        block.reduce,
        block.inner,
      );
    return out;
  };

const stepKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const backend = args.backend as DeviceBackend;
  if (x.dtype !== "float32") return backend.runFallback("Step", fallback, args);
  const out = backend.makeTensorInfo(x.shape, "float32");
  if (sizeOf(x) > 0)
    backend.device.step(
      backend.address(x),
      backend.address(out),
      sizeOf(x),
      (args.attrs as { alpha?: number }).alpha ?? 0,
    );
  return out;
};

/** Select with a condition of the values' own shape; other layouts go to tfjs's kernel. */
const selectKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { condition, t, e } = args.inputs as { condition: TensorInfo; t: TensorInfo; e: TensorInfo };
  const backend = args.backend as DeviceBackend;
  if (
    condition.dtype !== "bool" ||
    t.dtype !== "float32" ||
    e.dtype !== "float32" ||
    !tf.util.arraysEqual(condition.shape, t.shape) ||
    !tf.util.arraysEqual(t.shape, e.shape)
  )
    return backend.runFallback("Select", fallback, args);
  const out = backend.makeTensorInfo(t.shape, "float32");
  if (sizeOf(t) > 0)
    backend.device.select(
      backend.address(condition),
      backend.address(t),
      backend.address(e),
      backend.address(out),
      sizeOf(t),
    );
  return out;
};

const clipKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const backend = args.backend as DeviceBackend;
  if (x.dtype !== "float32") return backend.runFallback("ClipByValue", fallback, args);
  const { clipValueMin, clipValueMax } = args.attrs as { clipValueMin: number; clipValueMax: number };
  const out = backend.makeTensorInfo(x.shape, "float32");
  if (sizeOf(x) > 0)
    backend.device.clip(backend.address(x), backend.address(out), sizeOf(x), clipValueMin, clipValueMax);
  return out;
};

/** Softmax over the last axis (the only one tfjs supports). */
const softmaxKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { logits } = args.inputs as { logits: TensorInfo };
  const { dim } = args.attrs as { dim: number };
  const backend = args.backend as DeviceBackend;
  const last = logits.shape.length - 1;
  if (logits.dtype !== "float32" || (dim !== -1 && dim !== last) || sizeOf(logits) === 0)
    return backend.runFallback("Softmax", fallback, args);
  const cols = logits.shape[last]!;
  const out = backend.makeTensorInfo(logits.shape, "float32");
  backend.device.softmax(backend.address(logits), backend.address(out), sizeOf(logits) / cols, cols);
  return out;
};

/** The device's element-wise, comparison, reduction and softmax kernels, by tfjs kernel name. */
export const ELEMENTWISE_DEVICE_KERNELS: Record<string, DeviceKernelFactory> = {
  ...Object.fromEntries(
    Object.entries(BINARY).map(([name, code]) => [name, broadcastKernel(name, code, "float32")]),
  ),
  ...Object.fromEntries(
    Object.entries(COMPARE).map(([name, code]) => [name, broadcastKernel(name, code, "bool")]),
  ),
  ...Object.fromEntries(Object.entries(UNARY).map(([name, code]) => [name, unaryKernel(name, code)])),
  Sum: reduceKernel("Sum", 0),
  Mean: reduceKernel("Mean", 1),
  Max: reduceKernel("Max", 2),
  Min: reduceKernel("Min", 3),
  Step: stepKernel,
  Select: selectKernel,
  ClipByValue: clipKernel,
  Softmax: softmaxKernel,
};
