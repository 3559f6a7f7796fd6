import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fastestAccelerator } from "./fastest-accelerator";

// `accelerator: "auto"` in a fresh process whose script never imports @fulmen/accelerator-host: Fabric must find
// the installed engine package by name, as it finds the Gloo collectives.

interface Chosen {
  accelerator: string;
  again?: string;
  backend?: string;
  loss?: number;
  commonJs?: string[];
  named?: string;
}

function runFixture(
  script: string,
  cwd = __dirname,
  nodeArgs: string[] = [],
): { chosen: Chosen; stderr: string } {
  // NODE_PATH (which pnpm's scripts set to every package of the workspace) is not how a user's project
  // installs packages: without it, only this app's dependencies are in reach, as in a user's project.
  const { NODE_PATH: _, ...env } = process.env;
  const run = spawnSync(process.execPath, [...nodeArgs, script], {
    cwd,
    env,
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(run.status, run.stderr).toBe(0);
  return { chosen: JSON.parse(run.stdout) as Chosen, stderr: run.stderr };
}

const projects = mkdtempSync(join(tmpdir(), "fulmen-auto-"));
afterAll(() => rmSync(projects, { recursive: true, force: true }));

/** The folder of an installed package, as this app resolves it (symlinks followed). */
function packageDir(name: string, from = __filename): string {
  return dirname(realpathSync(createRequire(from).resolve(`${name}/package.json`)));
}

/**
 * A user's project in a temporary folder: @fulmen/fabric and what an engine copy needs, linked to this
 * workspace's builds, and @fulmen/accelerator-host as `engine` says: absent; "unbuilt", a copy whose native
 * addon did not build (its dist, no build/Release), as on a machine without a compiler or OpenBLAS; or
 * "broken", a package that throws when it is loaded.
 */
function userProject(name: string, engine: "absent" | "unbuilt" | "broken"): string {
  const root = join(projects, name);
  const modules = join(root, "node_modules");
  mkdirSync(join(modules, "@fulmen"), { recursive: true });
  mkdirSync(join(modules, "@tensorflow"), { recursive: true });
  const engineDir = packageDir("@fulmen/accelerator-host");
  for (const dep of ["@fulmen/fabric", "@fulmen/core"]) symlinkSync(packageDir(dep), join(modules, dep));
  for (const dep of ["@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-cpu"])
    symlinkSync(packageDir(dep, join(engineDir, "package.json")), join(modules, dep));
  const copy = join(modules, "@fulmen/accelerator-host");
  if (engine === "unbuilt") {
    mkdirSync(join(copy, "build"), { recursive: true });
    cpSync(join(engineDir, "package.json"), join(copy, "package.json"));
    cpSync(join(engineDir, "dist"), join(copy, "dist"), { recursive: true });
    writeFileSync(
      join(copy, "build", "unavailable.txt"),
      "cblas.h not found (apt-get install libopenblas-dev)",
    );
  } else if (engine === "broken") {
    mkdirSync(copy);
    const exports = { ".": { import: "./index.mjs", require: "./index.cjs" } };
    writeFileSync(join(copy, "package.json"), JSON.stringify({ name: "@fulmen/accelerator-host", exports }));
    for (const file of ["index.mjs", "index.cjs"])
      writeFileSync(
        join(copy, file),
        'throw new Error("libopenblas.so.0: cannot open shared object file");\n',
      );
  }
  const script = join(root, "train.mjs");
  writeFileSync(
    script,
    `import { Fabric } from "@fulmen/fabric";
const first = new Fabric({ accelerator: "auto" });
const second = new Fabric({ accelerator: "auto" });
let named = "";
try { new Fabric({ accelerator: "host" }); } catch (e) { named = e.message; }
console.log(JSON.stringify({ accelerator: first.accelerator.name, again: second.accelerator.name, named }));
`,
  );
  return script;
}

describe('accelerator "auto" finds an installed engine package by itself', () => {
  it("picks the native engine from an ES module script that never imports it, and trains on it", () => {
    const { chosen, stderr } = runFixture(join(__dirname, "fixtures/auto-engine.mjs"));
    expect([chosen.accelerator, chosen.again]).toEqual([fastestAccelerator(), fastestAccelerator()]);
    if (chosen.accelerator === "host") expect(chosen.backend).toBe("fulmen-host");
    expect(Number.isFinite(chosen.loss)).toBe(true);
    // The engine came as an ES module: no CommonJS copy of core (or of the engine) beside the user's.
    expect(chosen.commonJs).toEqual([]);
    expect(stderr).not.toMatch(/Warning/);
  });

  // Node 22.12 warned about every require() of an ES module made from outside node_modules; later Nodes do so
  // under --trace-require-module=no-node-modules. Fabric's require of the engine comes from inside node_modules
  // (where the engine is installed), so a user never sees an ExperimentalWarning for it.
  it.skipIf(!process.allowedNodeEnvironmentFlags.has("--trace-require-module"))(
    "loads the engine's ES module without an experimental warning about require()",
    () => {
      const { chosen, stderr } = runFixture(join(__dirname, "fixtures/auto-engine.mjs"), __dirname, [
        "--trace-require-module=no-node-modules",
      ]);
      expect(chosen.accelerator).toBe(fastestAccelerator());
      expect(chosen.commonJs).toEqual([]);
      expect(stderr).not.toMatch(/ExperimentalWarning|fulmen-plugin-lookup/);
    },
  );

  it("picks it from a require() script, loading the engine's CommonJS build", () => {
    const { chosen, stderr } = runFixture(join(__dirname, "fixtures/auto-engine.cjs"));
    expect(chosen.accelerator).toBe(fastestAccelerator());
    expect(Number.isFinite(chosen.loss)).toBe(true);
    const loaded = (chosen.commonJs ?? []).map((f) => f.split(/[\\/]packages[\\/]/)[1]).filter(Boolean);
    expect(loaded).toEqual(
      expect.arrayContaining([
        "core/dist/index.cjs",
        "fabric/dist/index.cjs",
        "accelerator-host/dist/index.cjs",
      ]),
    );
    expect(stderr).not.toMatch(/Warning/);
  });

  it("falls back to wasm with one warning that says why and how to get the engine, when its addon did not build", () => {
    const script = userProject("unbuilt", "unbuilt");
    const { chosen, stderr } = runFixture(script, dirname(script));
    expect([chosen.accelerator, chosen.again]).toEqual(["wasm", "wasm"]);
    const warnings = stderr.split("\n").filter((line) => line.startsWith("Warning:"));
    expect(warnings).toHaveLength(1);
    expect(stderr).toMatch(/accelerator "auto" runs on "wasm"/);
    expect(stderr).toMatch(/"host" accelerator of @fulmen\/accelerator-host cannot run here/);
    expect(stderr).toMatch(/not built: cblas\.h not found/);
    expect(stderr).toMatch(/apt-get install -y g\+\+ make python3 libopenblas-dev/);
    expect(stderr).toMatch(/Set accelerator: "wasm" to choose it yourself/);
    expect(chosen.named).toMatch(
      /The accelerator "host" is not available on this machine: .*not built: cblas\.h/,
    );
  });

  it("falls back with one warning, and names the failure when asked for by name, when the package fails to load", () => {
    const script = userProject("broken", "broken");
    const { chosen, stderr } = runFixture(script, dirname(script));
    expect([chosen.accelerator, chosen.again]).toEqual(["wasm", "wasm"]);
    const warnings = stderr.split("\n").filter((line) => line.startsWith("Warning:"));
    expect(warnings).toEqual([
      'Warning: accelerator "auto" runs on "wasm": @fulmen/accelerator-host is installed but failed to load ' +
        '(libopenblas.so.0: cannot open shared object file). Set accelerator: "wasm" to choose it yourself and ' +
        "silence this message.",
    ]);
    expect(chosen.named).toMatch(
      /The accelerator "host" is provided by @fulmen\/accelerator-host, which is installed but failed to load \(libopenblas\.so\.0: cannot open shared object file\)\. Reinstall it/,
    );
  });

  it("runs on wasm without a word where the engine package is not installed", () => {
    const script = userProject("without-engine", "absent");
    const { chosen, stderr } = runFixture(script, dirname(script));
    expect([chosen.accelerator, chosen.again]).toEqual(["wasm", "wasm"]);
    expect(stderr).toBe("");
    expect(chosen.named).toMatch(
      /provided by @fulmen\/accelerator-host, which is not loaded: install it in your project/,
    );
  });
});
