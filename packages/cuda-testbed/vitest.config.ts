import { defineConfig } from "vitest/config";
import { tfjsVitestDeps } from "../../tooling/vitest-shared";

export default defineConfig({
  test: { ...tfjsVitestDeps, include: ["test/**/*.test.ts"], testTimeout: 60_000 },
});
