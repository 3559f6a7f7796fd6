import { libraryConfig } from "../../tooling/tsup-base";

export default libraryConfig({ entry: ["src/index.ts", "src/cli.ts"] });
