import type { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkOptionNames } from "../../utils/options";
import { asBatch } from "./conv";
import { type MaxUnpoolOptions, maxUnpool } from "./max-indices";
import { type IntTuple, tuple } from "./tuples";

/**
 * `F.max_unpool1d/2d/3d`: the partial inverse of max pooling — each value put back at the position its pooling
 * recorded (`returnIndices`), zeros elsewhere.
 */

/** The unpooled spatial size: `outputSize` (spatial or full shape) or `(in − 1)·stride − 2·padding + kernel`. */
function unpooledSize(
  owner: string,
  spatial: readonly number[],
  kernelSize: IntTuple,
  options: MaxUnpoolOptions,
): number[] {
  const n = spatial.length;
  const kernel = tuple(owner, "kernelSize", kernelSize, n, 1);
  const stride = tuple(owner, "stride", options.stride ?? kernelSize, n, 1);
  const padding = tuple(owner, "padding", options.padding ?? 0, n, 0);
  const defaults = spatial.map((s, i) => (s - 1) * stride[i]! - 2 * padding[i]! + kernel[i]!);
  const given = options.outputSize;
  if (given == null) return defaults;
  const size = given.length > n ? given.slice(given.length - n) : [...given];
  if (
    size.length !== n ||
    size.some((s, i) => !Number.isInteger(s) || Math.abs(s - defaults[i]!) >= stride[i]!)
  ) {
    throw new FulmenError(
      `${owner}: outputSize [${given}] must give ${n} spatial sizes each within a stride of the default [${defaults}].`,
    );
  }
  return size;
}

function unpoolNd(
  owner: string,
  dims: number,
  layout: string,
  x: tf.Tensor,
  indices: tf.Tensor,
  kernelSize: IntTuple,
  options: MaxUnpoolOptions,
): tf.Tensor {
  checkOptionNames(owner, options, ["stride", "padding", "outputSize"]);
  const batch = asBatch(owner, x, dims, layout);
  const idx = batch === x ? indices : indices.rank === x.rank ? indices.expandDims(0) : indices;
  const size = unpooledSize(owner, batch.shape.slice(2), kernelSize, options);
  const out = maxUnpool(owner, batch, idx, size);
  if (batch === x) return out;
  const squeezed = out.squeeze([0]);
  out.dispose();
  batch.dispose();
  if (idx !== indices) idx.dispose();
  return squeezed;
}

/** Max unpooling of `[N, C, L]` (or `[C, L]`) values, like `F.max_unpool1d(x, indices, kernelSize, ...)`. */
export function maxUnpool1d(
  x: tf.Tensor,
  indices: tf.Tensor,
  kernelSize: IntTuple,
  options: MaxUnpoolOptions = {},
): tf.Tensor {
  return unpoolNd("maxUnpool1d", 1, "C, L", x, indices, kernelSize, options);
}

/** Max unpooling of `[N, C, H, W]` (or `[C, H, W]`) values, like `F.max_unpool2d(x, indices, kernelSize, ...)`. */
export function maxUnpool2d(
  x: tf.Tensor,
  indices: tf.Tensor,
  kernelSize: IntTuple,
  options: MaxUnpoolOptions = {},
): tf.Tensor {
  return unpoolNd("maxUnpool2d", 2, "C, H, W", x, indices, kernelSize, options);
}

/** Max unpooling of `[N, C, D, H, W]` (or `[C, D, H, W]`) values, like `F.max_unpool3d(x, indices, kernelSize, ...)`. */
export function maxUnpool3d(
  x: tf.Tensor,
  indices: tf.Tensor,
  kernelSize: IntTuple,
  options: MaxUnpoolOptions = {},
): tf.Tensor {
  return unpoolNd("maxUnpool3d", 3, "C, D, H, W", x, indices, kernelSize, options);
}
