/** Imports tfjs-core's conformance spec files for the kernels the engine implements (registering their specs). */
export function importConformanceSpecs(): Promise<void>;
