// The READMEs' TypeScript snippets, as a user copies them: every ```ts block must type-check with `tsc --strict`
// against the workspace packages (so the documentation cannot drift from the API), and the main README's Fabric
// loop must run without leaking a tensor per step.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..", "..");
/** Inside apps/examples, so that the snippets' imports resolve to the workspace packages as a user's would. */
const work = join(here, `.readme-snippets-${process.pid}`);
const READMES = [
  "README.md",
  "packages/core/README.md",
  "packages/fabric/README.md",
  "packages/trainer/README.md",
];

/** The ```ts blocks of a Markdown file, in order. */
function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** Writes every snippet to its own module file; returns the paths by README. */
function writeSnippets(): Map<string, string[]> {
  mkdirSync(work, { recursive: true });
  const out = new Map<string, string[]>();
  for (const readme of READMES) {
    const blocks = tsBlocks(readFileSync(join(repo, readme), "utf8"));
    out.set(
      readme,
      blocks.map((code, i) => {
        const file = join(work, `${readme.replace(/[/.]/g, "_")}-${i}.mts`);
        writeFileSync(file, code);
        return file;
      }),
    );
  }
  return out;
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the READMEs' TypeScript", () => {
  it("type-checks under tsc --strict as written", () => {
    const snippets = writeSnippets();
    // The main README has the Fabric and the Trainer snippets; each package README its own.
    expect(snippets.get("README.md")).toHaveLength(2);
    for (const readme of READMES) expect(snippets.get(readme)!.length, readme).toBeGreaterThan(0);
    // A fresh user project's settings (`tsc --init`): strict, Node's ESM resolution.
    const program = ts.createProgram([...snippets.values()].flat(), {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ["node"],
      skipLibCheck: true,
    });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => {
      const where =
        d.file === undefined
          ? ""
          : `${d.file.fileName.slice(work.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: `;
      return where + ts.flattenDiagnosticMessageText(d.messageText, "\n");
    });
    expect(errors).toEqual([]);
  });

  it("runs the main README's Fabric loop with a flat tensor count, disposing nothing by hand", () => {
    const fabricSnippet = tsBlocks(readFileSync(join(repo, "README.md"), "utf8")).find((b) =>
      b.includes("fabric.setupDataloaders"),
    )!;
    const { outputText } = ts.transpileModule(fabricSnippet, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    // The snippet's `declare const dataset` becomes a real dataset of 6 batches; every fabric.log call (once a
    // step) records the live tensor count.
    const prelude = `
import * as fulmenCore from "@fulmen/core";
import * as fulmenFabric from "@fulmen/fabric";
const counts = [];
const log = fulmenFabric.Fabric.prototype.log;
fulmenFabric.Fabric.prototype.log = function (...args) {
  counts.push(fulmenCore.tf.memory().numTensors);
  return log.apply(this, args);
};
process.on("exit", () => console.log("COUNTS " + JSON.stringify(counts)));
const g = new fulmenCore.Generator(7);
const dataset = {
  length: 6 * 64,
  get: (i) => ({ x: Float32Array.from({ length: 784 }, () => g.normal()), y: i % 10 }),
};
`;
    mkdirSync(work, { recursive: true });
    const script = join(work, "readme-fabric-loop.mjs");
    writeFileSync(script, prelude + outputText);
    const cwd = join(work, "run");
    mkdirSync(cwd, { recursive: true });
    const run = spawnSync(process.execPath, [script], { cwd, encoding: "utf8", timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    const line = run.stdout.split("\n").find((l) => l.startsWith("COUNTS "));
    const counts = JSON.parse(line!.slice("COUNTS ".length)) as number[];
    expect(counts).toHaveLength(6);
    // The same number of live tensors at every step: no batch and no loss is left behind.
    expect(new Set(counts).size, `tensor counts per step: ${counts.join(", ")}`).toBe(1);
  });
});
