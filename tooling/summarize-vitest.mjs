// Sums the vitest JSON reports of every workspace package that has a test script into one line,
// "N passed, M failed". A package whose report is missing (its run crashed) counts as a failure.
// Exits 1 if anything failed or nothing ran.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];
for (const group of ["packages", "apps"]) {
  if (!existsSync(group)) continue;
  for (const name of readdirSync(group)) {
    const dir = join(group, name);
    const manifest = join(dir, "package.json");
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, "utf8"));
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
        problems.push(
          `${pkg.name}: ${file.name} failed to load: ${String(file.message ?? "").split("\n")[0]}`,
        );
        failed += 1;
      }
    }
  }
}
for (const p of problems) console.log(p);
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
