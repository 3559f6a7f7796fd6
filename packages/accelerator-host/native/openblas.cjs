// How the engine links OpenBLAS, for binding.gyp: `node native/openblas.cjs` prints the linker arguments, one a
// line. A source build links the system's shared library (-lopenblas). The prebuilt addon packed into the tarball
// (FULMEN_STATIC_OPENBLAS=1, set by the prepack build) links Debian's static archive instead, so that it needs no
// OpenBLAS where it is installed: only the C and C++ runtimes. CommonJS: gyp runs it with node.
"use strict";
const { existsSync } = require("node:fs");

// Debian's pthread build first (the one libopenblas-dev selects), then the generic names.
const ARCHIVES = [
  "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.a",
  "/usr/lib/x86_64-linux-gnu/libopenblas.a",
  "/usr/lib/libopenblas.a",
];

if (process.env.FULMEN_STATIC_OPENBLAS === "1") {
  const archive = ARCHIVES.find((path) => existsSync(path));
  if (archive === undefined) {
    console.error(
      `openblas.cjs: no static OpenBLAS (looked for ${ARCHIVES.join(", ")}); install libopenblas-dev`,
    );
    process.exit(1);
  }
  console.log(archive);
  console.log("-pthread");
} else console.log("-lopenblas");
