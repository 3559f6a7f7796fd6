import { tf } from "@fulmen/core";
import type { TensorInfo } from "@tensorflow/tfjs-core";
import type { HostEngineBackend } from "./host-backend";
import type { KernelFactory } from "./kernel-factory";

type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

interface ConvAttrs {
  strides: number | [number, number];
  pad: Parameters<typeof tf.backend_util.computeConv2DInfo>[4];
  dataFormat: "NHWC" | "NCHW";
  dilations?: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
  inputShape?: [number, number, number, number];
  filterShape?: [number, number, number, number];
}

/** The engine's shape record (native/conv.h's Conv2DShape, in order). */
function shapeOf(c: ConvInfo): number[] {
  return [
    c.batchSize,
    c.inHeight,
    c.inWidth,
    c.inChannels,
    c.outHeight,
    c.outWidth,
    c.outChannels,
    c.filterHeight,
    c.filterWidth,
    c.strideHeight,
    c.strideWidth,
    c.dilationHeight,
    c.dilationWidth,
    c.padInfo.top,
    c.padInfo.left,
  ];
}

/**
 * Conv2D and its two gradients on im2col + OpenBLAS GEMM, channels-last (tfjs's default layout); NCHW and
 * non-float32 inputs go to tfjs's kernels.
 */
function convKernel(kernelName: string, kind: 0 | 1 | 2): KernelFactory {
  return (engine, fallback) => (args) => {
    const backend = args.backend as HostEngineBackend;
    const attrs = args.attrs as unknown as ConvAttrs;
    const inputs = args.inputs as Record<string, TensorInfo>;
    const [first, second] =
      kind === 0
        ? [inputs.x!, inputs.filter!]
        : kind === 1
          ? [inputs.dy!, inputs.filter!]
          : [inputs.x!, inputs.dy!];
    if (attrs.dataFormat === "NCHW" || first.dtype !== "float32" || second.dtype !== "float32")
      return backend.runFallback(kernelName, fallback, args);
    const dataFormat = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat ?? "NHWC");
    const info =
      kind === 0
        ? tf.backend_util.computeConv2DInfo(
            first.shape as [number, number, number, number],
            second.shape as [number, number, number, number],
            attrs.strides,
            attrs.dilations ?? 1,
            attrs.pad,
            attrs.dimRoundingMode,
            false,
            dataFormat,
          )
        : tf.backend_util.computeConv2DInfo(
            kind === 1 ? attrs.inputShape! : (first.shape as [number, number, number, number]),
            kind === 1 ? (second.shape as [number, number, number, number]) : attrs.filterShape!,
            attrs.strides,
            1,
            attrs.pad,
            attrs.dimRoundingMode,
            false,
            dataFormat,
          );
    // A dy whose spatial size disagrees with the shapes (tfjs's ops allow it) is left to tfjs's kernel.
    const dy = kind === 1 ? first : kind === 2 ? second : null;
    if (dy !== null && (dy.shape[1] !== info.outHeight || dy.shape[2] !== info.outWidth))
      return backend.runFallback(kernelName, fallback, args);
    const outShape = kind === 0 ? info.outShape : kind === 1 ? info.inShape : info.filterShape;
    const out = backend.allocate(Float32Array, tf.util.sizeFromShape(outShape));
    if (out.length > 0)
      engine.conv2d(kind, backend.floats(first), backend.floats(second), out, shapeOf(info));
    return backend.makeTensorInfo(outShape, "float32", out);
  };
}

/** The engine's convolution kernels, by tfjs kernel name. */
export const CONV_KERNELS: Record<string, KernelFactory> = {
  Conv2D: convKernel("Conv2D", 0),
  Conv2DBackpropInput: convKernel("Conv2DBackpropInput", 1),
  Conv2DBackpropFilter: convKernel("Conv2DBackpropFilter", 2),
};
