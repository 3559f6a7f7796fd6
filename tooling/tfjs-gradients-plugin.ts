import type { Options } from "tsup";

type EsbuildPlugin = NonNullable<Options["esbuildPlugins"]>[number];

/**
 * Keeps the bare `@tensorflow/tfjs-core` import external while its `dist/` sub-modules (the gradient and
 * chained-op registrations, which Node cannot load directly) are bundled. tfjs keeps its engine and registries
 * on the global object, so the bundled registrations land in the same registries as the package's own copy.
 */
export function tfjsGradientsPlugin(): EsbuildPlugin {
  return {
    name: "fulmen-tfjs-gradients",
    setup(build) {
      build.onResolve({ filter: /^@tensorflow\/tfjs-(core|backend-cpu|backend-wasm)$/ }, (args) => ({
        path: args.path,
        external: true,
      }));
    },
  };
}
