import { type ChildProcess, spawn } from "node:child_process";

/** One process the supervisor started: its global rank, for messages. */
export interface SupervisedRank {
  globalRank: number;
  child: ChildProcess;
}

/** Environment variable through which a started rank learns that a launcher watches it. */
export const LAUNCHED_BY_VAR = "FULMEN_LAUNCHER_PID";

/**
 * Starts rank processes and ties their fates together: every rank's output goes to this terminal; when one
 * exits with an error (or a signal), the others are stopped and `onFailure` receives that rank's exit code.
 */
export class RankSupervisor {
  readonly ranks: SupervisedRank[] = [];
  private failed = false;

  constructor(private readonly onFailure: (code: number, message: string) => void) {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => {
        this.stopAll(signal);
        process.exit(130);
      });
    }
  }

  /** Starts `command args` as `globalRank` with `env`, with an IPC channel so the child notices our death. */
  start(globalRank: number, command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
    const child = spawn(command, args, { env, stdio: ["inherit", "inherit", "inherit", "ipc"] });
    this.ranks.push({ globalRank, child });
    child.on("exit", (code, signal) => {
      if (code === 0 || this.failed) return;
      this.failed = true;
      const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
      const message = `[fulmen] rank ${globalRank} (pid ${child.pid}) ${how}; stopping the other ranks.`;
      this.stopAll("SIGTERM");
      this.onFailure(code ?? 1, message);
    });
    return child;
  }

  /** Waits for every started rank; resolves with the first non-zero exit code, or 0. */
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
    return codes.find((c) => c !== 0) ?? 0;
  }

  stopAll(signal: NodeJS.Signals): void {
    for (const { child } of this.ranks)
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
}

/**
 * In a rank started by a launcher: exit when the launcher goes away (its IPC channel closes), so no orphan keeps
 * waiting in a collective; the channel itself must not keep this process alive.
 */
export function watchLauncher(globalRank: number): void {
  if (process.env[LAUNCHED_BY_VAR] === undefined || process.channel === undefined) return;
  process.channel.unref();
  process.on("disconnect", () => {
    console.error(
      `[fulmen] the launcher (pid ${process.env[LAUNCHED_BY_VAR]}) is gone; rank ${globalRank} stops.`,
    );
    process.exit(1);
  });
}
