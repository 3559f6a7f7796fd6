/**
 * Finding and loading optional plugin packages (`@fulmen/collective-gloo`, `@fulmen/accelerator-host`, `@fulmen/accelerator-cuda`) by name,
 * as Lightning finds its optional integrations: the user installs the package and names what it provides.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

type Require = ReturnType<typeof createRequire>;

/**
 * Whether this file runs as the package's CommonJS build (tsup names it `.cjs`). A plugin is loaded in the
 * same format as the code asking for it, so that it registers into, and throws the errors of, the copy of
 * `@fulmen/core` the user already loaded instead of loading the other build beside it.
 */
const COMMONJS_BUILD = import.meta.url.endsWith(".cjs");

/** Whether Node can `require()` an ES module (Node 20.19+, 22.12+); only ES module builds need it. */
function canRequireEsm(): boolean {
  return (process.features as { require_module?: boolean }).require_module === true;
}

/** Whether a path is inside an installed package rather than the user's own project. */
function insideNodeModules(path: string): boolean {
  return path.split(sep).includes("node_modules");
}

/**
 * The folders a plugin package is looked up from, in order: this package's own (npm's flat layout and pnpm's
 * store, which lies inside the project's node_modules, both put the project's packages in reach), then the
 * user's entry script's, whose project lists the plugin as its own dependency even where this package cannot
 * see it (a workspace), or the working directory when there is no script (REPL, `node -e`), as Node would. An
 * entry script inside node_modules is a tool (a test runner), not the user's project, and is not used.
 */
function lookupStarts(): string[] {
  const starts = [dirname(fileURLToPath(import.meta.url))];
  const script = process.argv[1];
  const user = script ? dirname(resolve(script)) : process.cwd();
  if (!insideNodeModules(user)) starts.push(user);
  return starts;
}

/** A plugin package found on disk: its package.json, and a `require` that resolves the package to it. */
interface Located {
  manifestPath: string;
  from: Require;
}

/**
 * The copy of `packageName` installed in a node_modules folder on the way up from `start`, or undefined.
 * Unlike `require.resolve`, it ignores NODE_PATH: only packages installed in the project are picked up by name
 * (package managers' scripts put every package of a workspace on NODE_PATH).
 */
function installedFrom(start: string, packageName: string): Located | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifestPath = join(dir, "node_modules", packageName, "package.json");
    if (basename(dir) !== "node_modules" && existsSync(manifestPath))
      // Resolution from a file in `dir` looks in `dir/node_modules` first: it finds this copy, by its exports.
      return { manifestPath, from: createRequire(join(dir, "fulmen-plugin-lookup.js")) };
    if (dirname(dir) === dir) return undefined;
  }
}

/** The file an `import` of the package loads, from its package.json (`exports["."].import`, or `module`). */
function esModuleEntry({ manifestPath }: Located): string | undefined {
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    exports?: { "."?: string | { import?: string | { default?: string } } };
    module?: string;
  };
  const root = manifest.exports?.["."];
  const target =
    typeof root === "string"
      ? root
      : typeof root?.import === "string"
        ? root.import
        : (root?.import?.default ?? manifest.module);
  return target === undefined ? undefined : join(dirname(manifestPath), target);
}

/** Finds where `packageName` is installed, or undefined when it is not (or this is not Node). */
function locate(packageName: string): Located | undefined {
  if (typeof process === "undefined" || process.versions?.node === undefined) return undefined;
  for (const start of lookupStarts()) {
    const found = installedFrom(start, packageName);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Loads an installed plugin package synchronously, in the format of the code running (an ES module build
 * `require()`s the package's ES module where Node can, else its CommonJS build). Returns false when the
 * package is not installed; an error thrown while loading it propagates.
 */
export function loadPluginPackage(packageName: string): boolean {
  const found = locate(packageName);
  if (found === undefined) return false;
  if (!COMMONJS_BUILD && canRequireEsm()) {
    const entry = esModuleEntry(found);
    if (entry !== undefined) {
      try {
        // Required from the package's own folder, inside node_modules: Node 22.12 (and --trace-require-module
        // later) warns of require(esm) "experimental" when the requiring module lies outside node_modules, and
        // would name `found.from`'s made-up file in the user's project.
        createRequire(found.manifestPath)(entry);
        return true;
      } catch (error) {
        // An ES module with top-level await cannot be required; its CommonJS build can.
        if ((error as { code?: string }).code !== "ERR_REQUIRE_ASYNC_MODULE") throw error;
      }
    }
  }
  found.from(packageName);
  return true;
}

/**
 * Loads an installed plugin package, in the format of the code running (a CommonJS build `require()`s it, an
 * ES module build `import()`s its ES module). Returns false when the package is not installed.
 */
export async function importPluginPackage(packageName: string): Promise<boolean> {
  const found = locate(packageName);
  if (found === undefined) return false;
  if (COMMONJS_BUILD) {
    found.from(packageName);
    return true;
  }
  const entry = esModuleEntry(found) ?? found.from.resolve(packageName);
  await import(/* @vite-ignore */ pathToFileURL(entry).href);
  return true;
}
