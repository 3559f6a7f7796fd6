import { GELU_GRAD_KERNEL, GELU_KERNEL, tf } from "@fulmen/core";
import type { BatchMatMulAttrs, KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import { gemmShapeOf } from "../batch-mat-mul";
import { BINARY, COMPARE, UNARY } from "../op-codes";
import type { DeviceBackend } from "./device-backend";

/** Makes a device kernel from tfjs's CPU kernel of the same name (its fallback). */
export type DeviceKernelFactory = (fallback: KernelFunc) => KernelFunc;

const sizeOf = (t: TensorInfo) => tf.util.sizeFromShape(t.shape);

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

/** A view: the input's block with one more reference and another shape, as tfjs's kernels do. */
function view(backend: DeviceBackend, x: TensorInfo, shape: number[]): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

const identityKernel: DeviceKernelFactory = () => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  return view(args.backend as DeviceBackend, x, x.shape);
};

const reshapeKernel: DeviceKernelFactory = () => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { shape } = args.attrs as { shape: number[] };
  const size = sizeOf(x);
  const target = tf.util.inferFromImplicitShape(shape, size);
  tf.util.assert(
    size === tf.util.sizeFromShape(target),
    () =>
      `The new shape (${target}) has ${tf.util.sizeFromShape(target)} elements and the old shape (${x.shape}), ${size} elements. The new shape and old shape must have the same number of elements.`,
  );
  return view(args.backend as DeviceBackend, x, target);
};

/** A cast to the tensor's own dtype is a view; other casts go to tfjs's kernel. */
const castKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { dtype } = args.attrs as { dtype: string };
  const backend = args.backend as DeviceBackend;
  return dtype === x.dtype ? view(backend, x, x.shape) : backend.runFallback("Cast", fallback, args);
};

const batchMatMulKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
  const backend = args.backend as DeviceBackend;
  const g = gemmShapeOf(a, b, transposeA, transposeB);
  if (g === null) return backend.runFallback("BatchMatMul", fallback, args);
  const out = backend.makeTensorInfo(g.outShape, "float32");
  if (sizeOf(out) > 0)
    backend.device.batchMatMul(
      backend.address(a),
      backend.address(b),
      backend.address(out),
      g.batchA,
      g.batchB,
      g.m,
      g.n,
      g.k,
      transposeA,
      transposeB,
    );
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

/** The device's kernels by tfjs kernel name; every other kernel of tfjs's CPU backend runs as a fallback. */
export const DEVICE_KERNELS: Record<string, DeviceKernelFactory> = {
  ...Object.fromEntries(
    Object.entries(BINARY).map(([name, code]) => [name, broadcastKernel(name, code, "float32")]),
  ),
  ...Object.fromEntries(
    Object.entries(COMPARE).map(([name, code]) => [name, broadcastKernel(name, code, "bool")]),
  ),
  ...Object.fromEntries(Object.entries(UNARY).map(([name, code]) => [name, unaryKernel(name, code)])),
  Identity: identityKernel,
  Reshape: reshapeKernel,
  Cast: castKernel,
  BatchMatMul: batchMatMulKernel,
  Softmax: softmaxKernel,
};

/** Core's fused GELU pair on the device (nn.GELU uses it where the backend registers it). */
export const DEVICE_FUSED_KERNELS: Record<string, KernelFunc> = {
  [GELU_KERNEL]: (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as DeviceBackend;
    const y = backend.makeTensorInfo(x.shape, "float32");
    if (sizeOf(x) > 0) backend.device.gelu(backend.address(x), backend.address(y), sizeOf(x));
    return y;
  },
  [GELU_GRAD_KERNEL]: (args) => {
    const { dy, x } = args.inputs as { dy: TensorInfo; x: TensorInfo };
    const backend = args.backend as DeviceBackend;
    const dx = backend.makeTensorInfo(x.shape, "float32");
    if (sizeOf(x) > 0)
      backend.device.geluGrad(backend.address(dy), backend.address(x), backend.address(dx), sizeOf(x));
    return dx;
  },
};
