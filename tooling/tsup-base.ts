import { defineConfig, type Options } from "tsup";
import { tfjsGradientsPlugin } from "./tfjs-gradients-plugin";

/** The build every Fulmen library package shares: ESM + CJS + declarations for Node 20. */
export function libraryConfig(overrides: Options = {}) {
  return defineConfig({
    entry: ["src/index.ts"],
    format: ["esm", "cjs"],
    dts: true,
    clean: true,
    sourcemap: true,
    target: "node20",
    shims: true,
    esbuildPlugins: [tfjsGradientsPlugin()],
    ...overrides,
  });
}
