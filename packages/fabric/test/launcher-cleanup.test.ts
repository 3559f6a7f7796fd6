import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "fulmen-launcher-cleanup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether `pid` runs or is stopped (a zombie has finished: its parent is gone, init reaps it). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/**
 * Runs fixtures/stopped-rank.mjs (rank 1 stops itself with SIGSTOP, then rank 0 fails) through `launcher`, and
 * returns the launcher's exit status, its stderr, and whether rank 1 was still there once the launcher had exited.
 */
function runWithStoppedRank(mode: string, launcher: string[]) {
  const out = join(dir, mode);
  spawnSync("mkdir", ["-p", out]);
  const run = spawnSync(
    process.execPath,
    [...launcher, join(__dirname, "fixtures/stopped-rank.mjs"), out, mode],
    // Output is piped: spawnSync also waits for every process holding the pipes, a leftover rank included.
    { encoding: "utf8", timeout: 60_000, killSignal: "SIGKILL" },
  );
  const pidFile = join(out, "pid.rank1");
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) : null;
  const rank1Left = pid !== null && isRunning(pid);
  if (rank1Left) process.kill(pid, "SIGKILL"); // what the launcher should have done
  return { run, pid, rank1Left };
}

describe.runIf(existsSync("/proc/self/stat"))(
  "a failed job leaves no rank behind, not even a stopped one",
  () => {
    it("fabric.launch: rank 0 (the launcher) fails while rank 1 is stopped; rank 1 dies with it", () => {
      const { run, pid, rank1Left } = runWithStoppedRank("fabric", []);
      expect(pid, run.stderr).not.toBeNull();
      expect(run.signal, "the launcher did not exit").toBeNull();
      expect(run.status).not.toBe(0);
      expect(run.stderr).toMatch(/rank 0 fails while rank 1 is stopped/);
      expect(rank1Left).toBe(false);
    });

    const cli = join(__dirname, "../dist/cli.js");
    for (const mode of ["plain", "plain-ignore-term"]) {
      it(`fulmen run: rank 0 fails while rank 1 is stopped${mode === "plain" ? "" : " and ignores SIGTERM"}; the launcher stops rank 1 and exits with rank 0's code`, () => {
        const { run, pid, rank1Left } = runWithStoppedRank(mode, [cli, "run", "--devices", "2"]);
        expect(pid, run.stderr).not.toBeNull();
        expect(run.signal, "the launcher did not exit").toBeNull();
        expect(run.status).toBe(3);
        expect(run.stderr).toMatch(
          /\[fulmen\] rank 0 \(pid \d+\) exited with code 3; stopping the other ranks/,
        );
        expect(rank1Left).toBe(false);
      });
    }
  },
);

describe.runIf(existsSync("/proc/self/stat"))("signals to rank 0 under fabric.launch()", () => {
  it("SIGTERM ends rank 0 in the middle of a synchronous loop, and rank 1 goes with it", async () => {
    const out = join(dir, "busy");
    spawnSync("mkdir", ["-p", out]);
    const child = spawn(process.execPath, [join(__dirname, "fixtures/busy-rank-zero.mjs"), out], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_c, s) => resolve(s)));
    const pidOf = (rank: number) => {
      const file = join(out, `pid.rank${rank}`);
      return existsSync(file) ? Number(readFileSync(file, "utf8")) : null;
    };
    const until = async (done: () => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return done();
    };
    expect(await until(() => pidOf(0) !== null && pidOf(1) !== null, 30_000), stderr).toBe(true);
    child.kill("SIGTERM");
    // Well before the loop's minute: a signal listener would have waited for the loop to end.
    const signal = await Promise.race([
      exited,
      new Promise((r) => setTimeout(() => r("still running"), 15_000)),
    ]);
    if (signal === "still running") child.kill("SIGKILL");
    expect(signal).toBe("SIGTERM");
    expect(await until(() => !isRunning(pidOf(1)!), 10_000)).toBe(true);
  }, 60_000);
});
