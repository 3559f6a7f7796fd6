import { libraryConfig } from "../../tooling/tsup-base";

export default libraryConfig({
  // tfjs-core's gradient and chained-op registrations cannot be imported by Node directly (extensionless ESM
  // imports), so they are bundled; tfjs-core itself stays an ordinary external dependency.
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
  esbuildOptions(options) {
    options.mainFields = ["module", "main"];
  },
});
