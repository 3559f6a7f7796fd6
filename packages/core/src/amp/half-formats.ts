import { tf } from "../runtime/tfjs";
import type { HalfDtype, HalfFormat } from "./autocast";
import { ensureRoundingKernels, ROUND_KERNELS } from "./rounding-kernels";

function kernelFormat(dtype: HalfDtype): HalfFormat {
  const kernelName = ROUND_KERNELS[dtype];
  return {
    dtype,
    round(t: tf.Tensor): tf.Tensor {
      if (t.dtype !== "float32") return t;
      ensureRoundingKernels(tf.getBackend());
      return tf.engine().runKernel(kernelName, { x: t }) as tf.Tensor;
    },
  };
}

/** bfloat16: float32's exponent range with 8 significant bits. */
export const bfloat16: HalfFormat = kernelFormat("bfloat16");
/** float16 (IEEE half): 11 significant bits, largest value 65504. */
export const float16: HalfFormat = kernelFormat("float16");

/** The half format of a dtype: what a precision plugin or a strategy names, and core rounds. */
export function halfFormat(dtype: HalfDtype): HalfFormat {
  return dtype === "bfloat16" ? bfloat16 : float16;
}
