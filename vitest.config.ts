import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";

/**
 * One vitest run for the whole workspace (`pnpm test`, and CI through it): every package under packages/ and
 * apps/ (and apps/examples' plugin packages) that has a test/ folder is a project named after its package, so
 * one JSON report covers every test. `vitest run --project @fulmen/core` (or a package's own `pnpm test`) runs
 * one package's.
 */
const WORKSPACE = fileURLToPath(new URL(".", import.meta.url));

/**
 * tfjs-core's per-file `dist/` modules (gradient registrations) use extensionless imports that Node cannot
 * resolve, so Vite transforms them instead of handing them to Node.
 */
const tfjsDeps = { server: { deps: { inline: [/@tensorflow\/tfjs-core\/dist\/(?!tf-core)/] } } };

/** What differs from the defaults below, by package folder. */
const SETTINGS: Record<string, Partial<NonNullable<TestProjectInlineConfiguration["test"]>>> = {
  // Packs every package and installs the tarballs into fresh projects: minutes per test.
  "apps/packaging": { testTimeout: 240_000, hookTimeout: 240_000 },
};

function packageDirs(): string[] {
  const dirs: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (!existsSync(dir) || depth > 2) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === "node_modules" || entry.name.startsWith(".")) continue;
      const child = join(dir, entry.name);
      if (existsSync(join(child, "package.json")) && existsSync(join(child, "test"))) dirs.push(child);
      walk(child, depth + 1);
    }
  };
  walk(join(WORKSPACE, "packages"), 1);
  walk(join(WORKSPACE, "apps"), 1);
  return dirs.sort();
}

const projects: TestProjectInlineConfiguration[] = packageDirs().map((dir) => ({
  test: {
    ...tfjsDeps,
    name: (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string }).name,
    root: dir,
    include: ["test/**/*.test.{ts,mjs}"],
    testTimeout: 60_000,
    ...SETTINGS[relative(WORKSPACE, dir)],
  },
}));

export default defineConfig({ test: { projects } });
