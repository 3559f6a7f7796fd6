// Where the CUDA toolkit is, for binding.gyp: `node native/cuda-toolkit.cjs home|nvcc` prints the toolkit's
// folder or its nvcc, or nothing when there is no usable toolkit (the GPU targets are then left out and the
// install still succeeds); `gencode` prints nvcc's -gencode flags, one per line, for the GPUs Fulmen targets
// (V100 sm_70, T4 sm_75, A100 sm_80, H100 sm_90, and PTX of the newest for later GPUs) that this nvcc can build
// (CUDA 13 dropped sm_70). Looked for as the toolkit documents it: $CUDA_PATH, then $CUDA_HOME, then the nvcc
// on PATH (its folder's parent), then /usr/local/cuda. A folder counts only with the headers and the static
// runtime the addons link (include/cuda_runtime_api.h, lib64/libcudart_static.a). CommonJS: gyp runs it with node.
"use strict";
const { execFileSync } = require("node:child_process");
const { existsSync, realpathSync } = require("node:fs");
const { delimiter, dirname, join } = require("node:path");

function usable(home) {
  return (
    typeof home === "string" &&
    home !== "" &&
    existsSync(join(home, "include", "cuda_runtime_api.h")) &&
    existsSync(join(home, "lib64", "libcudart_static.a"))
  );
}

function nvccOnPath(env) {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "nvcc");
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  return null;
}

/** The toolkit folder and its nvcc (null where missing), from the environment `env`. */
function findCudaToolkit(env = process.env) {
  const onPath = nvccOnPath(env);
  const candidates = [
    env.CUDA_PATH,
    env.CUDA_HOME,
    onPath === null ? null : dirname(dirname(onPath)),
    "/usr/local/cuda",
  ];
  const home = candidates.find(usable) ?? null;
  if (home === null) return { home: null, nvcc: null };
  const nvcc = join(home, "bin", "nvcc");
  return { home, nvcc: existsSync(nvcc) ? nvcc : null };
}

/** The compute capabilities Fulmen builds for: V100, T4, A100, H100. */
const TARGETS = [70, 75, 80, 90];

/**
 * nvcc's -gencode flags for the targets that `nvcc` supports (from `nvcc --list-gpu-arch`; all of them when
 * it cannot tell, before CUDA 11), plus PTX of the newest so that later GPUs compile it at load.
 */
function gencodeFlags(
  nvcc,
  listArchitectures = () => execFileSync(nvcc, ["--list-gpu-arch"], { encoding: "utf8" }),
) {
  let supported = TARGETS;
  try {
    const listed = new Set([...listArchitectures().matchAll(/compute_(\d+)/g)].map((m) => Number(m[1])));
    if (listed.size > 0) supported = TARGETS.filter((t) => listed.has(t));
  } catch {
    // An nvcc without --list-gpu-arch: it predates the removals, so every target is there.
  }
  if (supported.length === 0) return [];
  const newest = supported[supported.length - 1];
  return [
    ...supported.flatMap((t) => ["-gencode", `arch=compute_${t},code=sm_${t}`]),
    "-gencode",
    `arch=compute_${newest},code=compute_${newest}`,
  ];
}

module.exports = { findCudaToolkit, gencodeFlags, TARGETS };

if (require.main === module) {
  const found = findCudaToolkit();
  const what = process.argv[2];
  if (what === "gencode") {
    if (found.nvcc !== null) process.stdout.write(`${gencodeFlags(found.nvcc).join("\n")}\n`);
  } else process.stdout.write(`${(what === "nvcc" ? found.nvcc : found.home) ?? ""}\n`);
}
