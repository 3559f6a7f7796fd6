import { FulmenError, tf } from "@fulmen/core";
import type { TensorInfo, WasmBackendLike } from "../backend-access";

interface MaxPoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: "valid" | "same" | number;
  dimRoundingMode?: "floor" | "round" | "ceil";
}

/**
 * The gradient of 2-D max pooling over NHWC input, computed in JavaScript: each window's gradient goes to its
 * first maximum in row-major order, as PyTorch and tfjs's cpu backend route it. The wasm backend's own kernel
 * routes it elsewhere when a window has several maxima (the last one) and, for several channels, sometimes to
 * the wrong element altogether, which trains a CNN with wrong gradients.
 */
export function maxPoolGrad(args: {
  inputs: { dy: TensorInfo; input: TensorInfo };
  backend: WasmBackendLike;
  attrs: MaxPoolGradAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, input } = inputs;
  if (input.shape.length !== 4 || input.dtype !== "float32") {
    throw new FulmenError(
      `wasm MaxPoolGrad supports float32 NHWC input only, got ${input.dtype} [${input.shape}].`,
    );
  }
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const { top, left } = info.padInfo;
  const x = backend.readSync(input.dataId);
  const g = backend.readSync(dy.dataId);
  const dx = new Float32Array(x.length);
  for (let b = 0; b < batchSize; b++) {
    const base = b * inHeight * inWidth * channels;
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * strideHeight - top;
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = ox * strideWidth - left;
        const outIndex = ((b * outHeight + oy) * outWidth + ox) * channels;
        for (let c = 0; c < channels; c++) {
          let best = -1;
          let bestValue = Number.NEGATIVE_INFINITY;
          for (let ky = 0; ky < filterHeight; ky++) {
            const iy = y0 + ky;
            if (iy < 0 || iy >= inHeight) continue;
            for (let kx = 0; kx < filterWidth; kx++) {
              const ix = x0 + kx;
              if (ix < 0 || ix >= inWidth) continue;
              const at = base + (iy * inWidth + ix) * channels + c;
              // strictly greater: the first maximum keeps the gradient
              if (best < 0 || x[at]! > bestValue) {
                best = at;
                bestValue = x[at]!;
              }
            }
          }
          if (best >= 0) dx[best]! += g[outIndex + c]!;
        }
      }
    }
  }
  return backend.makeOutput(input.shape, "float32", undefined, dx);
}
