/** @fulmen/precision: precision plugins and dynamic loss scaling. Importing it registers its plugins by name. */
export { GradScaler, type GradScalerOptions, type GradScalerStateDict } from "./grad-scaler";
export { bfloat16, float16 } from "./half/formats";
export { ROUND_KERNELS, registerRoundingKernels } from "./half/kernels";
export { HalfPrecision } from "./half-precision";
export { MixedPrecision } from "./mixed-precision";
export { Float32Precision } from "./true-precision";
