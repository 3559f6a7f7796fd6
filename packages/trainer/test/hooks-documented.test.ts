import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { Callback } from "../src/callbacks/callback";

// Issue 16: every hook a user or a plugin author overrides says, in a TSDoc comment directly above it, when the
// Trainer calls it. The sources are parsed with the TypeScript compiler, so multi-line signatures, optional
// (`name?(...)`) declarations and accessors are all seen as one member each.

const CALLBACK_FILE = join(__dirname, "../src/callbacks/callback.ts");
const MODULE_FILE = join(__dirname, "../src/lightning-module.ts");
const HOOKS_FILE = join(__dirname, "../src/hooks.ts");

/** Hooks of LightningModule that do not start with `on`. */
const MODULE_HOOKS = new Set([
  "setup",
  "teardown",
  "configureOptimizers",
  "configureModel",
  "configureGradientClipping",
  "configureCallbacks",
  "trainingStep",
  "validationStep",
  "testStep",
  "predictStep",
  "stateDict",
  "loadStateDict",
  "prepareData",
  "backward",
  "optimizerStep",
  "optimizerZeroGrad",
  "lrSchedulerStep",
  "transferBatchToDevice",
]);

interface Member {
  name: string;
  line: number;
  /** Declared as `name?(...)`: a hook the module may implement. */
  optional: boolean;
  hidden: boolean;
  documented: boolean;
}

/**
 * Whether a `/** ... *\/` comment with some text is the last comment before the member, with nothing but
 * whitespace (and no blank line) between them.
 */
function hasDocComment(text: string, node: ts.Node, file: ts.SourceFile): boolean {
  const ranges = ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [];
  const last = ranges.at(-1);
  if (last === undefined || last.kind !== ts.SyntaxKind.MultiLineCommentTrivia) return false;
  const comment = text.slice(last.pos, last.end);
  if (!comment.startsWith("/**") || comment.startsWith("/**/")) return false;
  const body = comment
    .slice(3, -2)
    .replace(/^\s*\*/gm, "")
    .trim();
  const gap = text.slice(last.end, node.getStart(file));
  return body.length > 0 && /^\s*$/.test(gap) && (gap.match(/\n/g) ?? []).length <= 1;
}

/** The methods and accessors of class or interface `name` declared in `text`. */
function membersOf(text: string, name: string, fileName = "source.ts"): Member[] {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  let owner: ts.ClassDeclaration | ts.InterfaceDeclaration | undefined;
  const find = (node: ts.Node): void => {
    if ((ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node)) && node.name?.text === name)
      owner = node;
    else ts.forEachChild(node, find);
  };
  find(file);
  if (owner === undefined) throw new Error(`${fileName} declares no class or interface ${name}`);
  const members: Member[] = [];
  for (const member of owner.members) {
    const isMethod =
      ts.isMethodDeclaration(member) ||
      ts.isMethodSignature(member) ||
      ts.isGetAccessorDeclaration(member) ||
      ts.isSetAccessorDeclaration(member);
    // A property holding a function (`onFoo?: () => void`) is a hook too.
    const isFunctionProperty =
      (ts.isPropertyDeclaration(member) || ts.isPropertySignature(member)) &&
      member.type !== undefined &&
      ts.isFunctionTypeNode(member.type);
    if (!isMethod && !isFunctionProperty) continue;
    if (member.name === undefined) continue;
    const modifiers = ts.canHaveModifiers(member) ? (ts.getModifiers(member) ?? []) : [];
    members.push({
      name: member.name.getText(file),
      line: file.getLineAndCharacterOfPosition(member.getStart(file)).line + 1,
      optional: "questionToken" in member && member.questionToken !== undefined,
      hidden:
        ts.isPrivateIdentifier(member.name) ||
        modifiers.some(
          (m) => m.kind === ts.SyntaxKind.PrivateKeyword || m.kind === ts.SyntaxKind.ProtectedKeyword,
        ),
      documented: hasDocComment(text, member, file),
    });
  }
  return members;
}

/** The overridable hooks among a LightningModule's members. */
function moduleHooks(members: Member[]): Member[] {
  return members.filter(
    (m) => !m.hidden && (m.optional || /^on[A-Z]/.test(m.name) || MODULE_HOOKS.has(m.name)),
  );
}

const undocumented = (members: Member[], file: string) =>
  members.filter((m) => !m.documented).map((m) => `${file}:${m.line} ${m.name}`);

describe("every hook has a TSDoc comment", () => {
  it("the check itself: multi-line signatures, optional hooks, and what does not count as a doc comment", () => {
    const source = `
      export abstract class Sample {
        /** Documented, with a signature over several lines. */
        onDocumented(
          a: number,
          b: string,
        ): void {}
        onUndocumented(
          a: number,
        ): void {}
        // A line comment is not TSDoc.
        onLineComment(): void {}
        /* Nor is a plain block comment. */
        onBlockComment(): void {}
        /** Separated by a blank line. */

        onBlankLine(): void {}
        /** Documented optional hook. */
        trainingStep?(
          batch: never,
          batchIdx: number,
        ): unknown;
        validationStep?(batch: never, batchIdx: number): unknown;
        /** */
        onEmptyDoc(): void {}
        /** A doc comment above a line comment does not count. */
        // because the line comment is what sits directly above.
        onShadowed(): void {}
        log(name: string): void {}
        private helper(): void {}
      }
    `;
    const members = membersOf(source, "Sample");
    expect(members.map((m) => m.name)).toEqual([
      "onDocumented",
      "onUndocumented",
      "onLineComment",
      "onBlockComment",
      "onBlankLine",
      "trainingStep",
      "validationStep",
      "onEmptyDoc",
      "onShadowed",
      "log",
      "helper",
    ]);
    expect(
      moduleHooks(members)
        .filter((m) => !m.documented)
        .map((m) => m.name),
    ).toEqual([
      "onUndocumented",
      "onLineComment",
      "onBlockComment",
      "onBlankLine",
      "validationStep",
      "onEmptyDoc",
      "onShadowed",
    ]);
  });

  it("Callback: every method (and accessor) is documented", () => {
    const members = membersOf(readFileSync(CALLBACK_FILE, "utf8"), "Callback", CALLBACK_FILE);
    // The parse sees exactly the members the class has at run time, so none can slip past it.
    const runtime = Object.getOwnPropertyNames(Callback.prototype).filter((n) => n !== "constructor");
    expect(members.map((m) => m.name).sort()).toEqual(runtime.sort());
    expect(members.length).toBeGreaterThanOrEqual(37);
    for (const hook of [
      "setup",
      "teardown",
      "onTrainBatchEnd",
      "onSaveCheckpoint",
      "stateDict",
      "loadStateDict",
    ])
      expect(members.map((m) => m.name)).toContain(hook);
    expect(undocumented(members, "callback.ts")).toEqual([]);
  });

  it("LightningModule: every hook is documented", () => {
    const members = membersOf(readFileSync(MODULE_FILE, "utf8"), "LightningModule", MODULE_FILE);
    const hooks = moduleHooks(members);
    const names = hooks.map((m) => m.name);
    for (const hook of [
      "trainingStep",
      "validationStep",
      "testStep",
      "predictStep",
      "configureOptimizers",
      "configureModel",
      "configureGradientClipping",
      "setup",
      "teardown",
      "onFitStart",
      "onTrainBatchEnd",
      "onBeforeOptimizerStep",
      "onSaveCheckpoint",
      "onLoadCheckpoint",
    ])
      expect(names).toContain(hook);
    // Every optional member is an overridable hook and is counted as one.
    expect(members.filter((m) => m.optional).every((m) => names.includes(m.name))).toBe(true);
    expect(undocumented(hooks, "lightning-module.ts")).toEqual([]);
  });

  it("hooks.ts: any hook interface it declares is documented", () => {
    const text = readFileSync(HOOKS_FILE, "utf8");
    const file = ts.createSourceFile(HOOKS_FILE, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const interfaces = file.statements.filter(ts.isInterfaceDeclaration).map((i) => i.name.text);
    const missing = interfaces.flatMap((name) =>
      undocumented(
        membersOf(text, name, HOOKS_FILE).filter((m) => !m.hidden),
        `hooks.ts ${name}`,
      ),
    );
    expect(missing).toEqual([]);
  });
});
