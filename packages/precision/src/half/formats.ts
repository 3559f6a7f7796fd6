import { type HalfFormat, tf } from "@fulmen/core";
import { ROUND_KERNELS } from "./kernels";

function kernelFormat(dtype: "bfloat16" | "float16"): HalfFormat {
  const kernelName = ROUND_KERNELS[dtype];
  return {
    dtype,
    round(t: tf.Tensor): tf.Tensor {
      if (t.dtype !== "float32") return t;
      return tf.engine().runKernel(kernelName, { x: t }) as tf.Tensor;
    },
  };
}

/** bfloat16: float32's exponent range with 8 significant bits. */
export const bfloat16: HalfFormat = kernelFormat("bfloat16");
/** float16 (IEEE half): 11 significant bits, largest value 65504. */
export const float16: HalfFormat = kernelFormat("float16");
