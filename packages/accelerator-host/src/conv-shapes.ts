import { tf } from "@fulmen/core";
import type { TensorInfo } from "@tensorflow/tfjs-core";

type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/** tfjs's Conv2D attributes (and its gradients' shapes). */
export interface ConvAttrs {
  /** The stride along height and width (one number for both). */
  strides: number | [number, number];
  /**
   * tfjs's padding: `"valid"`, `"same"`, a number for every side, or `[before, after]` pairs per dimension.
   */
  pad: Parameters<typeof tf.backend_util.computeConv2DInfo>[4];
  /** The images' layout: `"NHWC"` (channels last, tfjs's default) or `"NCHW"` (channels first, PyTorch's). */
  dataFormat: "NHWC" | "NCHW";
  /** The dilation along height and width (default 1; the gradients' plans always use 1). */
  dilations?: number | [number, number];
  /** How output sizes that are not whole are rounded, with a numeric `pad` (tfjs's default: truncation). */
  dimRoundingMode?: "floor" | "round" | "ceil";
  /** Conv2DBackpropInput's attribute: the shape of the input whose gradient is computed. */
  inputShape?: [number, number, number, number];
  /**
   * Conv2DBackpropFilter's attribute: the `[fH, fW, inC, outC]` shape of the filter whose gradient is
   * computed.
   */
  filterShape?: [number, number, number, number];
}

/** A convolution kernel's work as the engine does it: its two operands, the shape record and the output's shape. */
export interface ConvPlan {
  /** The first operand: `x` for the convolution and the filter gradient, `dy` for the input gradient. */
  first: TensorInfo;
  /**
   * The second operand: the filter for the convolution and the input gradient, `dy` for the filter gradient.
   */
  second: TensorInfo;
  /** native/conv.h's Conv2DShape, in order (its last entry: 1 for channels-first). */
  shape: number[];
  /** The result's shape: the convolution's output, the input's shape, or the filter's shape (by kind). */
  outShape: number[];
}

/** The engine's shape record (native/conv.h's Conv2DShape, in order). */
function shapeOf(c: ConvInfo): number[] {
  const channelsFirst = c.dataFormat === "channelsFirst" ? 1 : 0;
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
    channelsFirst,
  ];
}

/**
 * Conv2D (kind 0: x, filter), its input gradient (1: dy, filter) or its filter gradient (2: x, dy) on float32;
 * null for what the engine leaves to tfjs (other dtypes, a dy whose size disagrees, and NCHW unless
 * `channelsFirst` says the engine runs it).
 */
export function convPlan(
  kind: 0 | 1 | 2,
  inputs: Record<string, TensorInfo>,
  attrs: ConvAttrs,
  options: { channelsFirst: boolean },
): ConvPlan | null {
  const [first, second] =
    kind === 0
      ? [inputs.x!, inputs.filter!]
      : kind === 1
        ? [inputs.dy!, inputs.filter!]
        : [inputs.x!, inputs.dy!];
  if (first.dtype !== "float32" || second.dtype !== "float32") return null;
  if (attrs.dataFormat === "NCHW" && !options.channelsFirst) return null;
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
  const rows = info.dataFormat === "channelsFirst" ? 2 : 1;
  if (dy !== null && (dy.shape[rows] !== info.outHeight || dy.shape[rows + 1] !== info.outWidth)) return null;
  const outShape = kind === 0 ? info.outShape : kind === 1 ? info.inShape : info.filterShape;
  return { first, second, shape: shapeOf(info), outShape };
}
