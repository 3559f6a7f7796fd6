import type { KernelFunc } from "@tensorflow/tfjs-core";
import type { NativeEngine } from "./native-engine";

/** Makes a host-backend kernel from the engine and tfjs's CPU kernel of the same name (its fallback). */
export type KernelFactory = (engine: NativeEngine, fallback: KernelFunc) => KernelFunc;
