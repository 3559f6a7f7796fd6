import { tf } from "@fulmen/core";
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { HostEngineBackend } from "./host-backend";
import type { KernelFactory } from "./kernel-factory";
import { type PoolAttrs, poolInfo, poolIsIdentity, poolShape } from "./pool-shapes";

/** MaxPool or AvgPool of a float32 NHWC tensor. */
const poolKernel =
  (kernelName: "MaxPool" | "AvgPool"): KernelFactory =>
  (engine, fallback) =>
  (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as HostEngineBackend;
    if (x.dtype !== "float32" || x.shape.length !== 4) return backend.runFallback(kernelName, fallback, args);
    const info = poolInfo(x, args.attrs as unknown as PoolAttrs);
    if (poolIsIdentity(info)) return backend.makeTensorInfo(x.shape, "float32", backend.floats(x).slice());
    const out = backend.allocate(Float32Array, tf.util.sizeFromShape(info.outShape));
    if (out.length > 0)
      (kernelName === "MaxPool" ? engine.maxPool : engine.avgPool)(backend.floats(x), out, poolShape(info));
    return backend.makeTensorInfo(info.outShape, "float32", out);
  };

/** MaxPoolGrad (inputs dy, input, output) or AvgPoolGrad (inputs dy, input). */
const poolGradKernel =
  (kernelName: "MaxPoolGrad" | "AvgPoolGrad"): KernelFactory =>
  (engine, fallback) =>
  (args) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    const backend = args.backend as HostEngineBackend;
    if (input.dtype !== "float32" || input.shape.length !== 4)
      return backend.runFallback(kernelName, fallback, args);
    const info = poolInfo(input, args.attrs as unknown as PoolAttrs);
    const dx = backend.allocate(Float32Array, tf.util.sizeFromShape(input.shape));
    if (dx.length > 0) {
      if (kernelName === "MaxPoolGrad")
        engine.maxPoolGrad(backend.floats(dy), backend.floats(input), dx, poolShape(info));
      else engine.avgPoolGrad(backend.floats(dy), dx, poolShape(info));
    }
    return backend.makeTensorInfo(input.shape, "float32", dx);
  };

/** The engine's pooling kernels and their gradients, by tfjs kernel name. */
export const POOL_KERNELS: Record<string, KernelFactory> = {
  MaxPool: poolKernel("MaxPool"),
  MaxPoolGrad: poolGradKernel("MaxPoolGrad"),
  AvgPool: poolKernel("AvgPool"),
  AvgPoolGrad: poolGradKernel("AvgPoolGrad"),
};
