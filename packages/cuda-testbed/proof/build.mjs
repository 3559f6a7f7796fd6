// Bundles the GPU proof for a machine with a GPU but no node_modules: .gpu-proof/ holds the proof as one file,
// the GPU engine's addons where the bundle looks for them, a run script and (with --with-node) this machine's
// Node binary, xz-compressed. Build the addons first (pnpm install or pnpm rebuild, with nvcc present).
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, ".gpu-proof");
// The GPU engine's addons are @fulmen/accelerator-cuda's; the emulator and the device over host memory this package's.
const cudaRoot = dirname(
  createRequire(join(root, "package.json")).resolve("@fulmen/accelerator-cuda/package.json"),
);
const addons = ["fulmen_cuda_engine.node", "fulmen_cuda_probe.node"].filter((addon) =>
  existsSync(join(cudaRoot, "build", "Release", addon)),
);
if (addons.length < 2)
  console.warn(
    "The GPU engine's addons are not built here (no nvcc at install): the bundle runs only --target device.",
  );
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "dist"), { recursive: true });
mkdirSync(join(out, "build", "Release"), { recursive: true });
await build({
  entryPoints: [join(root, "proof", "gpu-proof.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile: join(out, "dist", "gpu-proof.mjs"),
  // tfjs-core marks its test modules side-effect free; they register specs when imported.
  ignoreAnnotations: true,
  external: ["*.node"],
  banner: {
    // CommonJS dependencies (jasmine) expect require and __dirname.
    js: [
      "import { createRequire as __fulmenRequire } from 'node:module';",
      "import { dirname as __fulmenDirname } from 'node:path';",
      "import { fileURLToPath as __fulmenPath } from 'node:url';",
      "const require = __fulmenRequire(import.meta.url);",
      "const __filename = __fulmenPath(import.meta.url);",
      "const __dirname = __fulmenDirname(__filename);",
    ].join(" "),
  },
  logLevel: "warning",
});
// jasmine-core lists its own folder when it loads: its files go next to the bundle.
const jasmineCore = dirname(
  createRequire(createRequire(join(root, "package.json")).resolve("jasmine")).resolve("jasmine-core"),
);
cpSync(join(jasmineCore, "jasmine-core"), join(out, "dist", "jasmine-core"), { recursive: true });
for (const addon of addons)
  copyFileSync(join(cudaRoot, "build", "Release", addon), join(out, "build", "Release", addon));
// The test bed's addon too, for dry runs (--target device, --target emulated).
const testbed = join(root, "build", "Release", "fulmen_cuda_testbed.node");
if (existsSync(testbed)) copyFileSync(testbed, join(out, "build", "Release", "fulmen_cuda_testbed.node"));
if (process.argv.includes("--with-node")) {
  const xz = spawnSync("xz", ["-6", "-T0", "-c", process.execPath], { maxBuffer: 1 << 30 });
  if (xz.status !== 0) throw new Error(`xz failed: ${xz.stderr}`);
  writeFileSync(join(out, "node.xz"), xz.stdout);
}
// The whole proof, plain and sanitized, in one call of the device tool.
copyFileSync(join(root, "proof", "device-check.sh"), join(out, "device-check.sh"));
chmodSync(join(out, "device-check.sh"), 0o755);
const run = join(out, "run.sh");
writeFileSync(
  run,
  `#!/bin/sh
# Runs the GPU proof with the carried Node binary (or the node on PATH); arguments go to the proof.
set -e
here=$(cd "$(dirname "$0")" && pwd)
node=node
if [ -f "$here/node.xz" ]; then
  node=\${TMPDIR:-/tmp}/fulmen-node
  if [ ! -x "$node" ]; then
    # xz where it is installed, else Python's lzma module
    if command -v xz >/dev/null; then xz -dc "$here/node.xz" > "$node"
    else python3 -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'))" "$here/node.xz" "$node"; fi
    chmod +x "$node"
  fi
fi
# PyTorch's pip wheels bring a cuBLAS outside the loader's path: use it when none is set.
if [ -z "\${FULMEN_CUBLAS_PATH:-}" ]; then
  lib=$(python3 -c "import glob, os, sys; c = sorted(p for d in sys.path if os.path.isdir(d) for p in glob.glob(os.path.join(d, 'nvidia', '**', 'libcublas.so.*'), recursive=True)); print(c[-1] if c else '')" 2>/dev/null || true)
  [ -n "$lib" ] && export FULMEN_CUBLAS_PATH="$lib"
fi
# FULMEN_PROOF_WRAPPER runs the proof under a tool, e.g. "compute-sanitizer --tool memcheck --error-exitcode 9".
exec \${FULMEN_PROOF_WRAPPER:-} "$node" "$here/dist/gpu-proof.mjs" "$@"
`,
);
chmodSync(run, 0o755);
console.log(`GPU proof bundled in ${out}`);
