// Builds the native engine (host build: OpenBLAS) with node-gyp at install. Never fails the install: where the addon cannot be built
// (no compiler, no libopenblas-dev), it records why in build/unavailable.txt, which the loader reports at use.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const addon = join(root, "build", "Release", "fulmen_engine.node");
const unavailable = join(root, "build", "unavailable.txt");

function newestSource() {
  const sources = readdirSync(join(root, "native")).map((f) => join(root, "native", f));
  sources.push(join(root, "binding.gyp"));
  return Math.max(...sources.map((f) => statSync(f).mtimeMs));
}

function giveUp(reason) {
  mkdirSync(dirname(unavailable), { recursive: true });
  writeFileSync(unavailable, `${reason}\n`);
  console.warn(
    `@fulmen/accelerator-cuda: the native host engine was not built (${reason.split("\n")[0]}).\n` +
      "  Fulmen still trains on the wasm and cpu accelerators; the host accelerator needs the addon:\n" +
      "  apt-get install -y g++ make python3 libopenblas-dev, then rebuild this package (pnpm rebuild / npm rebuild).",
  );
  process.exit(0);
}

if (existsSync(addon) && statSync(addon).mtimeMs >= newestSource() && !existsSync(unavailable))
  process.exit(0);
rmSync(unavailable, { force: true });

const hasCblas = () =>
  existsSync("/usr/include/cblas.h") ||
  readdirSync("/usr/include", { withFileTypes: true }).some(
    (d) => d.isDirectory() && existsSync(join("/usr/include", d.name, "cblas.h")),
  );
if (!process.env.OPENBLAS_INCLUDE_DIR && !(existsSync("/usr/include") && hasCblas()))
  giveUp("libopenblas-dev is not installed (no cblas.h)");

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
  const log = (errors.length > 0 ? errors : lines).slice(0, 25).join("\n");
  giveUp(`node-gyp failed:\n${log}`);
}
