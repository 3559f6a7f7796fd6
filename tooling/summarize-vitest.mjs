// The last line of CI: "N passed, M failed" from the workspace's one vitest JSON report (`pnpm test` writes
// .vitest-report.json at the root), a test file that failed to load counted as a failure. Exits 1 if anything
// failed, nothing ran, or there is no report (the run crashed).
import { existsSync, readFileSync } from "node:fs";

const REPORT = ".vitest-report.json";
if (!existsSync(REPORT)) {
  console.log(`no test report (${REPORT}): the test run did not finish`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}
const report = JSON.parse(readFileSync(REPORT, "utf8"));
let failed = report.numFailedTests ?? 0;
for (const file of report.testResults ?? []) {
  if (file.status === "failed" && (file.assertionResults ?? []).length === 0) {
    console.log(`${file.name} failed to load: ${String(file.message ?? "").split("\n")[0]}`);
    failed += 1;
  }
}
const passed = report.numPassedTests ?? 0;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
