import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runNativeUnitTest } from "../../../tooling/test-helpers/native-unit-test";
import { isEngineAvailable } from "../src";

// The host engine's element-wise pool once lost a new worker's first wake-up (the worker read the generation
// counter only once it ran), so resizing right after a resize, or running right after one, waited forever.
describe("the host engine's thread pool", () => {
  it("resizes and runs thousands of times under load, from several threads, nested, throwing and after fork", () => {
    // The C++ test loads every core itself and turns a hang into "hung in <phase>" with a watchdog; a forked child
    // that hangs is ended by SIGALRM. Nested work inside unsplit work once deadlocked on the pool's own lock.
    expect(
      runNativeUnitTest(join(__dirname, ".."), "parallel_pool_test.cc", ["parallel_host.cc"]),
    ).toBeGreaterThan(3000);
  }, 180_000);

  describe.runIf(isEngineAvailable())("through the addon", () => {
    // Another process keeps a core busy, so a new worker thread often starts only after its creator moved on.
    let load: ChildProcess;
    beforeAll(() => {
      load = spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
    });
    afterAll(() => {
      load.kill("SIGKILL");
    });

    it("setThreads(2) then setThreads(1), and runs between resizes, never hang and give one thread's bits", () => {
      const addon = join(__dirname, "..", "build", "Release", "fulmen_engine.node");
      // Its own process with a deadline: a hang in a native join cannot be interrupted from inside.
      const run = spawnSync(process.execPath, [join(__dirname, "fixtures", "pool-resize-child.mjs"), addon], {
        encoding: "utf8",
        timeout: 120_000,
        killSignal: "SIGKILL",
      });
      expect(run.signal, `the child hung (killed after 120 s); stderr: ${run.stderr}`).toBeNull();
      expect(run.stdout.trim(), run.stderr).toBe("ok 900");
      expect(run.status).toBe(0);
    }, 180_000);
  });
});
