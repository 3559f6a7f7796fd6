import { DATA_DEVICE_KERNELS } from "./kernels/data";
import { ELEMENTWISE_DEVICE_KERNELS } from "./kernels/elementwise";
import { GEMM_CONV_DEVICE_KERNELS } from "./kernels/gemm-conv";
import { MOVEMENT_DEVICE_KERNELS } from "./kernels/movement";
import type { DeviceKernelFactory } from "./kernels/shared";

export { DEVICE_FUSED_KERNELS } from "./kernels/fused";
export type { DeviceKernelFactory } from "./kernels/shared";

/** The device's kernels by tfjs kernel name; every other kernel of tfjs's CPU backend runs as a fallback. */
export const DEVICE_KERNELS: Record<string, DeviceKernelFactory> = {
  ...ELEMENTWISE_DEVICE_KERNELS,
  ...DATA_DEVICE_KERNELS,
  ...MOVEMENT_DEVICE_KERNELS,
  ...GEMM_CONV_DEVICE_KERNELS,
};
