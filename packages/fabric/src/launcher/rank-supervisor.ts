import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

/** One process the supervisor started: its global rank, for messages. */
export interface SupervisedRank {
  globalRank: number;
  child: ChildProcess;
}

/** Environment variable through which a started rank learns that a launcher watches it. */
export const LAUNCHED_BY_VAR = "FULMEN_LAUNCHER_PID";

/** How long a rank may take to stop after SIGTERM before it gets SIGKILL (torchrun gives 30 s; ranks exit fast). */
const STOP_GRACE_MS = 5_000;

/** How long the launcher, exiting, waits for the ranks it killed to be dead. */
const EXIT_WAIT_MS = 5_000;

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (!running(child)) resolve();
    else child.once("exit", () => resolve());
  });
}

/** Whether process `pid` still runs or is stopped, from /proc (Linux): a zombie has finished. */
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
 * Starts rank processes and ties their fates together: every rank's output goes to this terminal; when one
 * exits with an error (or a signal), the others are stopped — SIGTERM, with SIGCONT so that a stopped rank
 * receives it, then SIGKILL after a grace period — and once they are all gone `onFailure` receives that rank's
 * exit code. Whenever this process exits, it kills the ranks still there first: no rank outlives the launcher,
 * not even one stopped with SIGSTOP (which would otherwise sit forever, holding its memory).
 */
export class RankSupervisor {
  readonly ranks: SupervisedRank[] = [];
  private failed = false;
  /** The first failed rank's exit code. */
  private failure: number | null = null;
  /** Stopping the others after a failure, then telling `onFailure`. */
  private stopping: Promise<void> | null = null;

  /**
   * @param onFailure told, once the others are gone, that a rank failed.
   * @param options.handleSignals whether SIGINT/SIGTERM to this process stop the ranks before it exits (128 +
   *   the signal's number, as a shell reports it). Only for a launcher that does nothing else (`fulmen run`):
   *   a listener replaces Node's default action, and in a process that trains (rank 0 under `fabric.launch()`)
   *   it would run only when a synchronous training loop yields, so Ctrl-C would wait for the loop. There the
   *   signal's default action ends the process, the terminal's Ctrl-C reaches every rank in its process group,
   *   and the ranks see the launcher's IPC channel close.
   */
  constructor(
    private readonly onFailure: (code: number, message: string) => void,
    options: { handleSignals: boolean } = { handleSignals: true },
  ) {
    if (options.handleSignals) {
      for (const [signal, code] of [
        ["SIGINT", 130],
        ["SIGTERM", 143],
      ] as const) {
        process.once(signal, () => {
          void this.stopAll(signal).then(() => process.exit(code));
        });
      }
    }
    process.on("exit", (code) => this.killAllNow(code));
  }

  /** Starts `command args` as `globalRank` with `env`, with an IPC channel so the child notices our death. */
  start(globalRank: number, command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
    const child = spawn(command, args, { env, stdio: ["inherit", "inherit", "inherit", "ipc"] });
    this.ranks.push({ globalRank, child });
    child.on("exit", (code, signal) => {
      if (code === 0 || this.failed) return;
      this.failed = true;
      this.failure = code ?? 1;
      const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
      const message = `[fulmen] rank ${globalRank} (pid ${child.pid}) ${how}; stopping the other ranks.`;
      this.stopping = this.stopAll("SIGTERM").then(() => this.onFailure(code ?? 1, message));
    });
    return child;
  }

  /**
   * Waits for every started rank (and, after a failure, for `onFailure`); resolves with the failed rank's exit
   * code, else the first non-zero one, or 0.
   */
  async waitAll(): Promise<number> {
    const codes = await Promise.all(
      this.ranks.map(
        ({ child }) =>
          new Promise<number>((resolve) => {
            if (child.exitCode !== null) resolve(child.exitCode);
            else child.once("exit", (code) => resolve(code ?? 1));
          }),
      ),
    );
    await this.stopping;
    return this.failure ?? codes.find((c) => c !== 0) ?? 0;
  }

  /**
   * Stops every rank still running: `signal` (and SIGCONT, which a stopped rank needs to act on it), then
   * SIGKILL for those still there after the grace period. Resolves once all of them have exited.
   */
  async stopAll(signal: NodeJS.Signals): Promise<void> {
    this.failed = true; // the exits that follow are ours, not failures to report
    const left = this.ranks.filter(({ child }) => running(child));
    for (const { child } of left) {
      child.kill(signal);
      child.kill("SIGCONT");
    }
    const timer = setTimeout(() => {
      for (const { child } of left) if (running(child)) child.kill("SIGKILL");
    }, STOP_GRACE_MS);
    await Promise.all(left.map(({ child }) => exited(child)));
    clearTimeout(timer);
  }

  /**
   * On this process's exit, where nothing asynchronous runs: the same as {@link stopAll}, blocking (after a
   * successful exit, first a grace period for the ranks to finish by themselves) — SIGTERM and
   * SIGCONT, SIGKILL (which works on a stopped process too) after the grace period, then wait until each rank has
   * died (Linux; elsewhere SIGKILL at once, without waiting).
   */
  private killAllNow(exitCode: number): void {
    const left = this.ranks.filter(({ child }) => running(child) && child.pid !== undefined);
    if (left.length === 0) return;
    if (!existsSync("/proc/self/stat")) {
      // Without /proc a dead child cannot be told from a live one here (nobody reaps it before we exit).
      for (const { child } of left) child.kill("SIGKILL");
      return;
    }
    const alive = () => left.filter(({ child }) => isRunning(child.pid!));
    const waitFor = (ms: number) => {
      const pause = new Int32Array(new SharedArrayBuffer(4));
      const deadline = Date.now() + ms;
      while (alive().length > 0 && Date.now() < deadline) Atomics.wait(pause, 0, 0, 5);
    };
    // A launcher that succeeded gives the ranks time to finish on their own (a last log line, a file being
    // written) before stopping them; one that failed stops them at once.
    if (exitCode === 0) waitFor(STOP_GRACE_MS);
    for (const { child } of alive()) {
      child.kill("SIGTERM");
      child.kill("SIGCONT");
    }
    waitFor(STOP_GRACE_MS);
    for (const { child } of alive()) child.kill("SIGKILL");
    waitFor(EXIT_WAIT_MS);
  }
}

/**
 * In a rank started by a launcher: exit when the launcher goes away (its IPC channel closes), so no orphan keeps
 * waiting in a collective; the channel itself must not keep this process alive.
 */
export function watchLauncher(globalRank: number): void {
  if (process.env[LAUNCHED_BY_VAR] === undefined || process.channel === undefined) return;
  const launcherGone = () => {
    console.error(
      `[fulmen] the launcher (pid ${process.env[LAUNCHED_BY_VAR]}) is gone; rank ${globalRank} stops.`,
    );
    process.exit(1);
  };
  // Node sets the channel to null once it has closed: the launcher ended before this rank got here (its own
  // rank 0 failed early, e.g. on a busy MASTER_PORT).
  if ((process.channel as NodeJS.Process["channel"] | null) === null) launcherGone();
  process.channel.unref();
  process.on("disconnect", launcherGone);
}
