import { tf } from "@fulmen/core";
import {
  GELU_GRAD_KERNEL,
  GELU_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
  ROUND_BFLOAT16_KERNEL,
  ROUND_FLOAT16_KERNEL,
} from "@fulmen/core/plugin";
import type { KernelFunc, TensorInfo } from "@tensorflow/tfjs-core";
import type { HostEngineBackend } from "./host-backend";
import type { NativeEngine } from "./native-engine";

function geluKernel(engine: NativeEngine): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as HostEngineBackend;
    const y = backend.allocate(Float32Array, tf.util.sizeFromShape(x.shape));
    engine.gelu(backend.floats(x), y);
    return backend.makeTensorInfo(x.shape, "float32", y);
  };
}

function geluGradKernel(engine: NativeEngine): KernelFunc {
  return (args) => {
    const { dy, x } = args.inputs as { dy: TensorInfo; x: TensorInfo };
    const backend = args.backend as HostEngineBackend;
    const dx = backend.allocate(Float32Array, tf.util.sizeFromShape(x.shape));
    engine.geluGrad(backend.floats(dy), backend.floats(x), dx);
    return backend.makeTensorInfo(x.shape, "float32", dx);
  };
}

interface LayerNormAttrs {
  eps: number;
  normalizedSize: number;
  hasWeight?: boolean;
  hasBias?: boolean;
}

function layerNormKernel(engine: NativeEngine): KernelFunc {
  return (args) => {
    const { x, weight, bias } = args.inputs as { x: TensorInfo; weight?: TensorInfo; bias?: TensorInfo };
    const { eps, normalizedSize } = args.attrs as unknown as LayerNormAttrs;
    const backend = args.backend as HostEngineBackend;
    const rows = tf.util.sizeFromShape(x.shape) / normalizedSize;
    const y = backend.allocate(Float32Array, tf.util.sizeFromShape(x.shape));
    const mean = backend.allocate(Float32Array, rows);
    const rstd = backend.allocate(Float32Array, rows);
    engine.layerNorm(
      backend.floats(x),
      weight === undefined ? null : backend.floats(weight),
      bias === undefined ? null : backend.floats(bias),
      y,
      mean,
      rstd,
      rows,
      normalizedSize,
      eps,
    );
    return [
      backend.makeTensorInfo(x.shape, "float32", y),
      backend.makeTensorInfo([rows], "float32", mean),
      backend.makeTensorInfo([rows], "float32", rstd),
    ];
  };
}

function layerNormGradKernel(engine: NativeEngine): KernelFunc {
  return (args) => {
    const { dy, x, mean, rstd, weight } = args.inputs as Record<string, TensorInfo | undefined>;
    const { normalizedSize, hasWeight, hasBias } = args.attrs as unknown as LayerNormAttrs;
    const backend = args.backend as HostEngineBackend;
    const rows = tf.util.sizeFromShape(x!.shape) / normalizedSize;
    const dx = backend.allocate(Float32Array, tf.util.sizeFromShape(x!.shape));
    const dWeight = hasWeight ? backend.allocate(Float32Array, normalizedSize) : null;
    const dBias = hasBias ? backend.allocate(Float32Array, normalizedSize) : null;
    engine.layerNormGrad(
      backend.floats(dy!),
      backend.floats(x!),
      backend.floats(mean!),
      backend.floats(rstd!),
      weight === undefined ? null : backend.floats(weight),
      dx,
      dWeight,
      dBias,
      rows,
      normalizedSize,
    );
    // The bias has the weight's shape (the normalized shape); a layer without a weight has no bias either.
    const paramShape = weight?.shape ?? [normalizedSize];
    return [
      backend.makeTensorInfo(x!.shape, "float32", dx),
      ...[dWeight, dBias].flatMap((g) =>
        g === null ? [] : [backend.makeTensorInfo(paramShape, "float32", g)],
      ),
    ];
  };
}

/** Rounding to float16 (format 0) or bfloat16 (1) values: the precision plugins' kernels. */
function roundHalfKernel(engine: NativeEngine, format: 0 | 1): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as HostEngineBackend;
    const out = backend.allocate(Float32Array, tf.util.sizeFromShape(x.shape));
    engine.roundHalf(format, backend.floats(x), out);
    return backend.makeTensorInfo(x.shape, "float32", out);
  };
}

/** Kernel names the engine registers itself even where tfjs's cpu backend has a kernel of that name. */
export const FUSED_KERNEL_NAMES = new Set([ROUND_FLOAT16_KERNEL, ROUND_BFLOAT16_KERNEL]);

/**
 * Registers the engine's fused kernels (core's GELU, layer-norm and half-rounding kernel families) for
 * `backendName`.
 */
export function registerFusedLayerKernels(engine: NativeEngine, backendName: string): void {
  const kernels: Array<[string, KernelFunc]> = [
    [ROUND_FLOAT16_KERNEL, roundHalfKernel(engine, 0)],
    [ROUND_BFLOAT16_KERNEL, roundHalfKernel(engine, 1)],
    [GELU_KERNEL, geluKernel(engine)],
    [GELU_GRAD_KERNEL, geluGradKernel(engine)],
    [LAYER_NORM_KERNEL, layerNormKernel(engine)],
    [LAYER_NORM_GRAD_KERNEL, layerNormGradKernel(engine)],
  ];
  for (const [kernelName, kernelFunc] of kernels) tf.registerKernel({ kernelName, backendName, kernelFunc });
}
