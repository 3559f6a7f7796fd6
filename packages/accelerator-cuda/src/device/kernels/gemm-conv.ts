import { kernelUtil } from "@fulmen/accelerator-host";
import type { BatchMatMulAttrs, TensorInfo } from "@tensorflow/tfjs-core";
import type { DeviceBackend } from "../device-backend";
import { type DeviceKernelFactory, sizeOf, view } from "./shared";

// Shared with the host engine's kernels (its backend_util).
const { gemmShapeOf, convPlan, poolInfo, poolIsIdentity, poolShape } = kernelUtil;
type ConvAttrs = kernelUtil.ConvAttrs;
type PoolAttrs = kernelUtil.PoolAttrs;

/** GEMMs, on half storage when both operands are there (tensor cores on a GPU), else on float32. */
const batchMatMulKernel: DeviceKernelFactory = (fallback) => (args) => {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
  const backend = args.backend as DeviceBackend;
  const g = gemmShapeOf(a, b, transposeA, transposeB);
  if (g === null) return backend.runFallback("BatchMatMul", fallback, args);
  const out = backend.makeTensorInfo(g.outShape, "float32");
  if (sizeOf(out) === 0) return out;
  const sizes = [g.batchA, g.batchB, g.m, g.n, g.k, transposeA, transposeB] as const;
  const [halfA, halfB] = [backend.halfOf(a), backend.halfOf(b)];
  if (halfA !== null && halfB !== null && halfA.format === halfB.format)
    backend.device.batchMatMulHalf(
      halfA.format,
      halfA.address,
      halfB.address,
      backend.address(out),
      ...sizes,
    );
  else backend.device.batchMatMul(backend.address(a), backend.address(b), backend.address(out), ...sizes);
  return out;
};

/** Conv2D and its two gradients on float32, channels-last or channels-first (im2col and GEMMs on the device). */
function convKernel(kernelName: string, kind: 0 | 1 | 2): DeviceKernelFactory {
  return (fallback) => (args) => {
    const backend = args.backend as DeviceBackend;
    const plan = convPlan(
      kind,
      args.inputs as Record<string, TensorInfo>,
      args.attrs as unknown as ConvAttrs,
      { channelsFirst: true },
    );
    if (plan === null) return backend.runFallback(kernelName, fallback, args);
    const out = backend.makeTensorInfo(plan.outShape, "float32");
    if (sizeOf(out) > 0)
      backend.device.conv2d(
        kind,
        backend.address(plan.first),
        backend.address(plan.second),
        backend.address(out),
        plan.shape,
      );
    return out;
  };
}

/** MaxPool or AvgPool of a float32 NHWC tensor. */
const poolKernel =
  (kernelName: "MaxPool" | "AvgPool", kind: number): DeviceKernelFactory =>
  (fallback) =>
  (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as DeviceBackend;
    if (x.dtype !== "float32" || x.shape.length !== 4) return backend.runFallback(kernelName, fallback, args);
    const info = poolInfo(x, args.attrs as unknown as PoolAttrs);
    if (poolIsIdentity(info)) return view(backend, x, x.shape);
    const out = backend.makeTensorInfo(info.outShape, "float32");
    if (sizeOf(out) > 0) backend.device.pool(kind, backend.address(x), backend.address(out), poolShape(info));
    return out;
  };

/** MaxPoolGrad (inputs dy, input, output) or AvgPoolGrad (inputs dy, input). */
const poolGradKernel =
  (kernelName: "MaxPoolGrad" | "AvgPoolGrad", kind: number): DeviceKernelFactory =>
  (fallback) =>
  (args) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    const backend = args.backend as DeviceBackend;
    if (input.dtype !== "float32" || input.shape.length !== 4)
      return backend.runFallback(kernelName, fallback, args);
    const info = poolInfo(input, args.attrs as unknown as PoolAttrs);
    const dx = backend.makeTensorInfo(input.shape, "float32");
    if (sizeOf(dx) > 0)
      backend.device.poolGrad(
        kind,
        backend.address(dy),
        kind === 0 ? backend.address(input) : null,
        backend.address(dx),
        poolShape(info),
      );
    return dx;
  };

/** The device's GEMM, convolution and pooling kernels, by tfjs kernel name. */
export const GEMM_CONV_DEVICE_KERNELS: Record<string, DeviceKernelFactory> = {
  BatchMatMul: batchMatMulKernel,
  Conv2D: convKernel("Conv2D", 0),
  Conv2DBackpropInput: convKernel("Conv2DBackpropInput", 1),
  Conv2DBackpropFilter: convKernel("Conv2DBackpropFilter", 2),
  MaxPool: poolKernel("MaxPool", 0),
  AvgPool: poolKernel("AvgPool", 1),
  MaxPoolGrad: poolGradKernel("MaxPoolGrad", 0),
  AvgPoolGrad: poolGradKernel("AvgPoolGrad", 1),
};
