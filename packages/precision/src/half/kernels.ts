import { ensureRoundingKernels } from "@fulmen/core/plugin";

// Core's rounding kernels, re-exported under the names this package has always had.
export { ROUND_KERNELS } from "@fulmen/core/plugin";

/**
 * Registers core's rounding kernels for a backend that reads synchronously (cpu, wasm). Core's half formats
 * register them on demand; this stays for callers that want them before the first rounding.
 */
export function registerRoundingKernels(backendName: string): void {
  ensureRoundingKernels(backendName);
}
