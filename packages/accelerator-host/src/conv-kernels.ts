import { tf } from "@fulmen/core";
import type { TensorInfo } from "@tensorflow/tfjs-core";
import { type ConvAttrs, convPlan } from "./conv-shapes";
import type { HostEngineBackend } from "./host-backend";
import type { KernelFactory } from "./kernel-factory";

/**
 * Conv2D and its two gradients on im2col + OpenBLAS GEMM, channels-last (tfjs's default layout) or channels-first
 * (`dataFormat: "NCHW"`, PyTorch's: core's NCHW layers then need no transposes); non-float32 inputs go to tfjs's
 * kernels.
 */
function convKernel(kernelName: string, kind: 0 | 1 | 2): KernelFactory {
  return (engine, fallback) => (args) => {
    const backend = args.backend as HostEngineBackend;
    const plan = convPlan(
      kind,
      args.inputs as Record<string, TensorInfo>,
      args.attrs as unknown as ConvAttrs,
      { channelsFirst: true },
    );
    if (plan === null) return backend.runFallback(kernelName, fallback, args);
    const out = backend.allocate(Float32Array, tf.util.sizeFromShape(plan.outShape));
    if (out.length > 0)
      engine.conv2d(kind, backend.floats(plan.first), backend.floats(plan.second), out, plan.shape);
    return backend.makeTensorInfo(plan.outShape, "float32", out);
  };
}

/** The engine's convolution kernels, by tfjs kernel name. */
export const CONV_KERNELS: Record<string, KernelFactory> = {
  Conv2D: convKernel("Conv2D", 0),
  Conv2DBackpropInput: convKernel("Conv2DBackpropInput", 1),
  Conv2DBackpropFilter: convKernel("Conv2DBackpropFilter", 2),
};
