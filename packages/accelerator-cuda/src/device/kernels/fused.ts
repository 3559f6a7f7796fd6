import { kernelUtil } from "@fulmen/accelerator-host";
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
import type { DeviceBackend } from "../device-backend";
import { optional, sizeOf, view } from "./shared";

// Shared with the host engine's kernels (its backend_util).
const { UPDATE_SPECS } = kernelUtil;
type UpdateSpec = kernelUtil.UpdateSpec;

interface LayerNormAttrs {
  eps: number;
  normalizedSize: number;
  hasWeight?: boolean;
  hasBias?: boolean;
}

/**
 * Rounding to float16 (format 0) or bfloat16 (1): the precision plugins' kernels. The result is kept in half
 * storage, 2 bytes a value — what a GEMM of two such tensors multiplies on tensor cores; rounding a tensor already
 * stored in the format is a view.
 */
function roundHalfKernel(format: 0 | 1): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const backend = args.backend as DeviceBackend;
    if (backend.halfOf(x)?.format === format) return view(backend, x, x.shape);
    const out = backend.makeHalfTensorInfo(x.shape, format);
    const n = sizeOf(x);
    if (n > 0) backend.device.toHalf(format, backend.address(x), backend.halfOf(out)!.address, n);
    return out;
  };
}

/** A fused optimizer update on the device: state in, fresh state out, one kernel per parameter. */
function deviceUpdateKernel(spec: UpdateSpec): KernelFunc {
  return (args) => {
    const inputs = args.inputs as Record<string, TensorInfo | undefined>;
    const attrs = args.attrs as Record<string, unknown>;
    const backend = args.backend as DeviceBackend;
    const shape = inputs.param!.shape;
    const outputs = spec
      .outputs(attrs)
      .map((present) => (present ? backend.makeTensorInfo(shape, "float32") : null));
    const n = tf.util.sizeFromShape(shape);
    if (n > 0)
      backend.device[spec.method](
        ...spec.inputs.map((name) => optional(backend, inputs[name])),
        ...outputs.map((t) => (t === null ? null : backend.address(t))),
        n,
        spec.hyper(attrs),
      );
    return outputs.filter((t): t is TensorInfo => t !== null);
  };
}

/**
 * Core's fused kernels on the device: the GELU and layer-norm pairs (nn.GELU and nn.LayerNorm use them where
 * registered) and the optimizer updates (Adam/AdamW, SGD, RMSprop, Adagrad).
 */
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
  ...Object.fromEntries(UPDATE_SPECS.map((spec) => [spec.kernelName, deviceUpdateKernel(spec)])),
  [ROUND_FLOAT16_KERNEL]: roundHalfKernel(0),
  [ROUND_BFLOAT16_KERNEL]: roundHalfKernel(1),
  [LAYER_NORM_KERNEL]: (args) => {
    const { x, weight, bias } = args.inputs as { x: TensorInfo; weight?: TensorInfo; bias?: TensorInfo };
    const { eps, normalizedSize } = args.attrs as unknown as LayerNormAttrs;
    const backend = args.backend as DeviceBackend;
    const rows = sizeOf(x) / normalizedSize;
    const [y, mean, rstd] = [
      backend.makeTensorInfo(x.shape, "float32"),
      backend.makeTensorInfo([rows], "float32"),
      backend.makeTensorInfo([rows], "float32"),
    ];
    if (rows > 0 && normalizedSize > 0)
      backend.device.layerNorm(
        backend.address(x),
        optional(backend, weight),
        optional(backend, bias),
        backend.address(y),
        backend.address(mean),
        backend.address(rstd),
        rows,
        normalizedSize,
        eps,
      );
    return [y, mean, rstd];
  },
  [LAYER_NORM_GRAD_KERNEL]: (args) => {
    const { dy, x, mean, rstd, weight } = args.inputs as Record<string, TensorInfo | undefined>;
    const { normalizedSize, hasWeight, hasBias } = args.attrs as unknown as LayerNormAttrs;
    const backend = args.backend as DeviceBackend;
    const rows = sizeOf(x!) / normalizedSize;
    // The bias has the weight's shape (the normalized shape); a layer without a weight has no bias either.
    const paramShape = weight?.shape ?? [normalizedSize];
    const dx = backend.makeTensorInfo(x!.shape, "float32");
    const dWeight = hasWeight ? backend.makeTensorInfo(paramShape, "float32") : undefined;
    const dBias = hasBias ? backend.makeTensorInfo(paramShape, "float32") : undefined;
    if (rows > 0 && normalizedSize > 0)
      backend.device.layerNormGrad(
        backend.address(dy!),
        backend.address(x!),
        backend.address(mean!),
        backend.address(rstd!),
        optional(backend, weight),
        backend.address(dx),
        optional(backend, dWeight),
        optional(backend, dBias),
        rows,
        normalizedSize,
      );
    else
      for (const g of [dWeight, dBias])
        if (g !== undefined) backend.device.fill(backend.address(g), 0, 0, normalizedSize);
    return [dx, ...[dWeight, dBias].filter((g): g is TensorInfo => g !== undefined)];
  },
};
