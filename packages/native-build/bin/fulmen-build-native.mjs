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
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
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

if (existsSync(addon) && statSync(addon).mtimeMs >= newestSource() && !existsSync(unavailable))
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
const result = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8" });
if (result.status !== 0 || !existsSync(addon)) {
  const lines = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n");
  const errors = lines.filter(
    (line) => /error/i.test(line) && !/^gyp ERR! (stack|System|command|cwd|node)/.test(line),
  );
  giveUp(`node-gyp failed:\n${(errors.length > 0 ? errors : lines).slice(0, 25).join("\n")}`);
}
