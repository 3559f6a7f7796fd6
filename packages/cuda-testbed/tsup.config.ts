import { libraryConfig } from "../../tooling/tsup-base";

export default libraryConfig();
