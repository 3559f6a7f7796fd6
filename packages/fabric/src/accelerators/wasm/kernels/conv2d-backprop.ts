import { FulmenError, tf } from "@fulmen/core";
import { release, runKernel, type TensorInfo, type WasmBackendLike } from "../backend-access";

interface Conv2DBackpropAttrs {
  strides: number | [number, number];
  pad: "valid" | "same" | number | number[][];
  dataFormat: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
}

function convInfo(xShape: number[], filterShape: number[], attrs: Conv2DBackpropAttrs) {
  if (attrs.dataFormat === "NCHW") throw new FulmenError("wasm conv gradients support NHWC data only.");
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad as "valid",
    attrs.dimRoundingMode,
  );
}

/**
 * dW of a convolution, computed as a forward convolution (missing from the wasm backend): with the batch as
 * channels, the input `[Cin, H, W, N]` is convolved with `dy` `[OH, OW, N, Cout]` dilated by the stride, which
 * gives `[Cin, KH, KW, Cout]` (cropped) → `[KH, KW, Cin, Cout]`.
 */
export function conv2DBackpropFilter(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: WasmBackendLike;
  attrs: Conv2DBackpropAttrs & { filterShape: number[] };
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const info = convInfo(inputs.x.shape, attrs.filterShape, attrs);
  const { top, bottom, left, right } = info.padInfo;
  const xT = runKernel(backend, "Transpose", { x: inputs.x }, { perm: [3, 1, 2, 0] });
  const dyT = runKernel(backend, "Transpose", { x: inputs.dy }, { perm: [1, 2, 0, 3] });
  const conv = runKernel(
    backend,
    "Conv2D",
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: "NHWC",
      dilations: [info.strideHeight, info.strideWidth],
    },
  );
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  const cropped =
    conv.shape[1] === kh && conv.shape[2] === kw
      ? conv
      : runKernel(
          backend,
          "Slice",
          { x: conv },
          { begin: [0, 0, 0, 0], size: [conv.shape[0]!, kh, kw, conv.shape[3]!] },
        );
  const out = runKernel(backend, "Transpose", { x: cropped }, { perm: [1, 2, 0, 3] });
  release(backend, xT, dyT, conv);
  if (cropped !== conv) release(backend, cropped);
  return out;
}

/**
 * dX of a convolution, computed as a forward convolution (about 10× faster than wasm's own kernel): `dy`
 * dilated by the stride and padded by `kernel - 1 - pad` is correlated with the flipped kernel whose in/out
 * channels are swapped.
 */
export function conv2DBackpropInput(args: {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  backend: WasmBackendLike;
  attrs: Conv2DBackpropAttrs & { inputShape: number[] };
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const info = convInfo(attrs.inputShape, inputs.filter.shape, attrs);
  const [n, h, w] = [info.batchSize, info.inHeight, info.inWidth];
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  const [sh, sw] = [info.strideHeight, info.strideWidth];
  const padTop = kh - 1 - info.padInfo.top;
  const padLeft = kw - 1 - info.padInfo.left;
  const [hp, wp] = [h + kh - 1, w + kw - 1];
  const [oh, ow, c] = [info.outHeight, info.outWidth, info.outChannels];
  let padded: TensorInfo;
  const padBottom = hp - ((oh - 1) * sh + 1) - padTop;
  const padRight = wp - ((ow - 1) * sw + 1) - padLeft;
  if (sh === 1 && sw === 1 && padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0) {
    padded = runKernel(
      backend,
      "PadV2",
      { x: inputs.dy },
      {
        paddings: [
          [0, 0],
          [padTop, padBottom],
          [padLeft, padRight],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
  } else {
    // Stride > 1 (or padding beyond the kernel): place dy's rows and columns `stride` apart, in JavaScript.
    const dy = backend.readSync(inputs.dy.dataId);
    const values = new Float32Array(n * hp * wp * c);
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < oh; i++) {
        const row = i * sh + padTop;
        if (row < 0 || row >= hp) continue;
        for (let j = 0; j < ow; j++) {
          const col = j * sw + padLeft;
          if (col < 0 || col >= wp) continue;
          const src = ((b * oh + i) * ow + j) * c;
          values.set((dy as Float32Array).subarray(src, src + c), ((b * hp + row) * wp + col) * c);
        }
      }
    }
    padded = backend.makeOutput([n, hp, wp, c], "float32", undefined, values);
  }
  const flipped = runKernel(backend, "Reverse", { x: inputs.filter }, { dims: [0, 1] });
  const swapped = runKernel(backend, "Transpose", { x: flipped }, { perm: [0, 1, 3, 2] });
  const out = runKernel(
    backend,
    "Conv2D",
    { x: padded, filter: swapped },
    { strides: [1, 1], pad: "valid", dataFormat: "NHWC", dilations: [1, 1] },
  );
  release(backend, padded, flipped, swapped);
  return out;
}
