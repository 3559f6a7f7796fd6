/**
 * Vitest settings shared by every package: tfjs-core's per-file `dist/` modules (gradient registrations) use
 * extensionless imports that Node cannot resolve, so Vite transforms them instead of handing them to Node.
 */
export const tfjsVitestDeps = {
  server: { deps: { inline: [/@tensorflow\/tfjs-core\/dist\/(?!tf-core)/] } },
};
