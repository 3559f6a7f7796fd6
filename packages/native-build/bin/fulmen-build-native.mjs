#!/usr/bin/env node
// Builds the native addon of the package in the current directory with node-gyp, as its install script. Never
// fails the install: where the addon cannot be built (no compiler, a missing library), it writes the reason to
// build/unavailable.txt, which the package's loader reports when the addon is used.
//
// The package says what it needs in its package.json:
//   "fulmenNative": { "addon": "fulmen_gloo", "header": "gloo/allreduce.h", "apt": "libgloo-dev",
//                     "without": "multi-process strategies" }
// `header` is looked for under /usr/include and its multiarch folders. A prerequisite found elsewhere (a CUDA
// toolkit) is asked for with `"requires": { "command": ["node", "native/cuda-toolkit.cjs", "nvcc"], "missing":
// "no CUDA toolkit with nvcc was found" }`: an empty output of the command (run in the package) means it is missing.
//
// `fulmen-build-native --prebuild` (a package's prepack) builds the addon for the packed tarball instead:
// with `"prebuild": { "env": { ... } }` set (a static link, say), always, failing loudly, and copies it stripped to
// prebuilds/<platform>-<arch>[-glibc]/<addon>.node, which the package's loader takes when it has no build of its own.
// With `"prebuild": { "bundleLibraries": true }` the shared libraries it loads (but the C and C++ runtimes) are
// copied beside it too: the addon finds them there through its $ORIGIN rpath, which the package's binding.gyp sets.
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const root = process.cwd();
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const spec = manifest.fulmenNative;
if (!spec?.addon) {
  console.error(
    `fulmen-build-native: ${manifest.name} has no "fulmenNative": { "addon": … } in its package.json.`,
  );
  process.exit(1);
}
const addon = join(root, "build", "Release", `${spec.addon}.node`);
const prebuild = process.argv.includes("--prebuild");
if (prebuild) {
  // The prebuilt addon is built with other settings (a static link): the package's own build, which the
  // workspace's tests load, is set aside meanwhile and put back whatever happens.
  const build = join(root, "build");
  const kept = join(root, `build.kept-${process.pid}`);
  if (existsSync(build)) renameSync(build, kept);
  process.on("exit", () => {
    rmSync(build, { recursive: true, force: true });
    if (existsSync(kept)) renameSync(kept, build);
  });
}
const unavailable = join(root, "build", "unavailable.txt");

function newestSource() {
  const sources = readdirSync(join(root, "native"), { recursive: true })
    .map((f) => join(root, "native", String(f)))
    .filter((f) => statSync(f).isFile());
  sources.push(join(root, "binding.gyp"));
  // The addon's lists of sources (sources.gypi and the like) count too.
  for (const f of readdirSync(root)) if (f.endsWith(".gypi")) sources.push(join(root, f));
  return Math.max(...sources.map((f) => statSync(f).mtimeMs));
}

function giveUp(reason) {
  if (prebuild) {
    console.error(`${manifest.name}: the prebuilt addon could not be built: ${reason}`);
    process.exit(1);
  }
  mkdirSync(dirname(unavailable), { recursive: true });
  writeFileSync(unavailable, `${reason}\n`);
  console.warn(
    `${manifest.name}: the native addon was not built (${reason.split("\n")[0]}).\n` +
      `  Fulmen still works without it${spec.without ? `, except for ${spec.without}` : ""}. To build it:\n` +
      `  apt-get install -y g++ make python3${spec.apt ? ` ${spec.apt}` : ""}, then rebuild this package ` +
      "(pnpm rebuild / npm rebuild).",
  );
  process.exit(0);
}

function headerInstalled(header) {
  if (existsSync(join("/usr/include", header))) return true;
  if (!existsSync("/usr/include")) return false;
  return readdirSync("/usr/include", { withFileTypes: true }).some(
    (d) => d.isDirectory() && existsSync(join("/usr/include", d.name, header)),
  );
}

if (!prebuild && existsSync(addon) && statSync(addon).mtimeMs >= newestSource() && !existsSync(unavailable))
  process.exit(0);
rmSync(unavailable, { force: true });

if (spec.requires) {
  const [command, ...args] = spec.requires.command;
  const probe = spawnSync(command === "node" ? process.execPath : command, args, {
    cwd: root,
    encoding: "utf8",
  });
  if (probe.status !== 0 || (probe.stdout ?? "").trim() === "")
    giveUp(spec.requires.missing ?? `${spec.requires.command.join(" ")} found nothing`);
}

if (spec.header && !headerInstalled(spec.header))
  giveUp(`${spec.apt ?? spec.header} is not installed (no ${spec.header} under /usr/include)`);

let nodeGyp;
try {
  nodeGyp = createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js");
} catch {
  giveUp("node-gyp is not installed");
}

const args = [nodeGyp, "rebuild", "--jobs=max"];
// Debian's node keeps its headers in /usr/include/node; without --nodedir node-gyp tries to download them.
if (!process.env.npm_config_nodedir && existsSync("/usr/include/node/node_api.h"))
  args.push("--nodedir=/usr");
const env = prebuild ? { ...process.env, ...(spec.prebuild?.env ?? {}) } : process.env;
const result = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", env });
if (result.status !== 0 || !existsSync(addon)) {
  const lines = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n");
  const errors = lines.filter(
    (line) => /error/i.test(line) && !/^gyp ERR! (stack|System|command|cwd|node)/.test(line),
  );
  giveUp(`node-gyp failed:\n${(errors.length > 0 ? errors : lines).slice(0, 25).join("\n")}`);
}

if (prebuild) {
  // glibc's Linux binaries do not load on musl: the folder says which C library they need.
  const glibc = process.platform === "linux" && process.report?.getReport().header.glibcVersionRuntime;
  const folder = join(root, "prebuilds", `${process.platform}-${process.arch}${glibc ? "-glibc" : ""}`);
  mkdirSync(folder, { recursive: true });
  const target = join(folder, `${spec.addon}.node`);
  copyFileSync(addon, target);
  spawnSync("strip", ["--strip-unneeded", target]);
  if (spec.prebuild?.bundleLibraries)
    for (const library of bundledLibraries(addon)) copyFileSync(library.path, join(folder, library.name));
  console.log(`${manifest.name}: prebuilt ${target}`);
}

/** The shared libraries `file` loads, as ldd resolves them, but the C and C++ runtimes every machine has. */
function bundledLibraries(file) {
  const runtimes =
    /^(linux-vdso\.so|ld-linux|libc\.so|libm\.so|libstdc\+\+\.so|libgcc_s\.so|libpthread\.so|libdl\.so|librt\.so)/;
  const ldd = spawnSync("ldd", [file], { encoding: "utf8" });
  if (ldd.status !== 0) giveUp(`ldd ${file} failed: ${ldd.stderr}`);
  const libraries = [];
  for (const line of ldd.stdout.split("\n")) {
    const missing = /^\s*(\S+) => not found/.exec(line);
    if (missing !== null) giveUp(`${file} needs ${missing[1]}, which is not found here`);
    const match = /^\s*(\S+) => (\S+) \(/.exec(line);
    if (match === null || runtimes.test(match[1])) continue;
    libraries.push({ name: match[1], path: match[2] });
  }
  return libraries;
}
