// Sums the vitest JSON reports of every workspace package that has a test script into one line,
// "N passed, M failed". A package whose report is missing (its run crashed) counts as a failure.
// Exits 1 if anything failed or nothing ran.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];
/** Folders holding a package.json under packages/ and apps/, two levels deep (apps/examples/plugin-*). */
function packageDirs() {
  const dirs = [];
  const walk = (dir, depth) => {
    if (!existsSync(dir) || depth > 2) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === "node_modules" || entry.name.startsWith(".")) continue;
      const child = join(dir, entry.name);
      if (existsSync(join(child, "package.json"))) dirs.push(child);
      walk(child, depth + 1);
    }
  };
  walk("packages", 1);
  walk("apps", 1);
  return dirs;
}

for (const dir of packageDirs()) {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  if (!pkg.scripts?.test) continue;
  const reportPath = join(dir, ".vitest-report.json");
  if (!existsSync(reportPath)) {
    problems.push(`${pkg.name}: no test report (its test run did not finish)`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(reportPath, "utf8"));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  for (const file of report.testResults ?? []) {
    if (file.status === "failed" && (file.assertionResults ?? []).length === 0) {
      problems.push(`${pkg.name}: ${file.name} failed to load: ${String(file.message ?? "").split("\n")[0]}`);
      failed += 1;
    }
  }
}
for (const p of problems) console.log(p);
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
