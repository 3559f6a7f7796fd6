/** @fulmen/precision: precision plugins and dynamic loss scaling. */
export { GradScaler, type GradScalerOptions, type GradScalerStateDict } from "./grad-scaler";
