/** @fulmen/precision: precision plugins and dynamic loss scaling. Importing it registers its plugins by name. */
export { GradScaler, type GradScalerOptions, type GradScalerStateDict } from "./grad-scaler";
export { Float32Precision } from "./true-precision";
