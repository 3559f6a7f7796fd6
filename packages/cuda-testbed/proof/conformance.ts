import Jasmine from "jasmine";
import { importConformanceSpecs } from "../test/conformance/specs.mjs";
import type { Outcome } from "./harness";

/** tfjs-core's conformance specs of the kernels the engine implements, on the target backend. */
export async function runConformance(envName: string, backendName: string): Promise<Outcome> {
  const runner = new Jasmine();
  runner.exitOnCompletion = false;
  runner.env.configure({ random: false });
  runner.configureDefaultReporter({ print: () => {} });
  const { setTestEnvs } = await import("@tensorflow/tfjs-core/dist/jasmine_util");
  setTestEnvs([{ name: envName, backendName, isDataSync: true }]);
  const outcome: Outcome = { passed: 0, failed: 0, failures: [] };
  runner.env.addReporter({
    specDone(result: { status: string; fullName: string; failedExpectations: Array<{ message: string }> }) {
      if (result.status === "passed") outcome.passed++;
      else if (result.status === "failed") {
        outcome.failed++;
        outcome.failures.push(
          `${result.fullName}: ${result.failedExpectations.map((f) => f.message).join("; ")}`,
        );
      }
    },
  });
  await importConformanceSpecs();
  await runner.execute();
  return outcome;
}
