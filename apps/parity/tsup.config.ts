import { libraryConfig } from "../../tooling/tsup-base";

export default libraryConfig({ entry: ["src/cli.ts", "src/index.ts"], format: ["esm"], dts: false });
