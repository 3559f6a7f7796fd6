import { libraryConfig } from "../../tooling/tsup-base";

export default libraryConfig({
  // Two entries, the user API and the plugin authors' (`@fulmen/core/plugin`), over shared chunks: one copy of
  // every class and registry whichever entry a program imports (an `instanceof` across them must hold).
  entry: ["src/index.ts", "src/plugin.ts"],
  splitting: true,
  // tsup turns the split ES chunks into CommonJS with sucrase, whose class-field transform leaves classes
  // anonymous (a class's name would read "_class": error reports, module summaries, messages naming a class).
  keepNames: true,
  // tfjs-core's gradient and chained-op registrations cannot be imported by Node directly (extensionless ESM
  // imports), so they are bundled; tfjs-core itself stays an ordinary external dependency.
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
  esbuildOptions(options) {
    options.mainFields = ["module", "main"];
  },
});
