/** An example third-party plugin: importing it registers the "32-true-nan-guard" precision by name. */
export { NanGuardPrecision } from "./nan-guard-precision";
