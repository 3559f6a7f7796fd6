import { tf } from "@fulmen/core";
import { ensureRoundingKernels } from "@fulmen/core/plugin";
import { fastBatchMatMul } from "./kernels/batch-mat-mul";
import { conv2DBackpropFilter, conv2DBackpropInput } from "./kernels/conv2d-backprop";
import { fastGatherV2 } from "./kernels/gather-rows";
import { maxPoolGrad } from "./kernels/max-pool-grad";
import { unsortedSegmentSum } from "./kernels/unsorted-segment-sum";

let registered = false;

function replaceKernel(kernelName: string, kernelFunc: tf.KernelFunc): void {
  if (tf.getKernel(kernelName, "wasm") !== undefined) tf.unregisterKernel(kernelName, "wasm");
  tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc });
}

/**
 * Gives the wasm backend what training every layer of core's `nn` needs: the kernels it lacks
 * (Conv2DBackpropFilter, UnsortedSegmentSum for embeddings), faster forms of ones it has (BatchMatMul with
 * transposes, Conv2DBackpropInput, GatherV2 of whole rows), a MaxPoolGrad that routes gradients as PyTorch
 * does, and Fulmen's half-precision rounding kernels.
 */
export function registerWasmKernels(): void {
  if (registered) return;
  const batchMatMul = tf.getKernel("BatchMatMul", "wasm");
  if (batchMatMul !== undefined) replaceKernel("BatchMatMul", fastBatchMatMul(batchMatMul.kernelFunc));
  const gather = tf.getKernel("GatherV2", "wasm");
  if (gather !== undefined) replaceKernel("GatherV2", fastGatherV2(gather.kernelFunc));
  replaceKernel("Conv2DBackpropFilter", conv2DBackpropFilter as unknown as tf.KernelFunc);
  replaceKernel("Conv2DBackpropInput", conv2DBackpropInput as unknown as tf.KernelFunc);
  replaceKernel("UnsortedSegmentSum", unsortedSegmentSum as unknown as tf.KernelFunc);
  replaceKernel("MaxPoolGrad", maxPoolGrad as unknown as tf.KernelFunc);
  ensureRoundingKernels("wasm");
  registered = true;
}
