import { libraryConfig } from "../../tooling/tsup-base";

export default libraryConfig({
  entry: [
    "src/mnist-fabric.ts",
    "src/mnist-core.ts",
    "src/bench.ts",
    "src/bench-trainer.ts",
    "src/bench-allreduce.ts",
    "src/bench-ddp.ts",
    "src/bench-engine.ts",
    "src/bench-data.ts",
    "src/bench-sharded.ts",
    "src/mnist-trainer.ts",
    "src/char-gpt-trainer.ts",
  ],
  format: ["esm"],
  dts: false,
});
