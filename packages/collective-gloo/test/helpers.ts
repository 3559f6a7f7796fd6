import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";

export const WORKER = join(__dirname, "fixtures", "collective-worker.mjs");

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

export interface RankProcess {
  child: ChildProcess;
  /** The JSON lines the rank printed so far. */
  lines: unknown[];
  stderr: string;
  exited: Promise<number | null>;
  /** Resolves at the first JSON line matching `predicate`. */
  waitFor(predicate: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

/** Starts one rank of `script` with `args` after rank, world size and port; collects its JSON output. */
export function startRank(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): RankProcess {
  const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"], env });
  const lines: unknown[] = [];
  const waiters: Array<{
    predicate: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }> = [];
  let buffer = "";
  const rank: RankProcess = {
    child,
    lines,
    stderr: "",
    exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))),
    waitFor(predicate) {
      const seen = lines.find((l) => predicate(l as Record<string, unknown>));
      if (seen !== undefined) return Promise.resolve(seen as Record<string, unknown>);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
  };
  child.stdout?.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline = buffer.indexOf("\n");
    while (newline >= 0) {
      const text = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf("\n");
      if (!text.startsWith("{")) continue;
      const line = JSON.parse(text) as Record<string, unknown>;
      lines.push(line);
      for (const w of waiters.filter((w) => w.predicate(line))) w.resolve(line);
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    rank.stderr += chunk.toString();
  });
  return rank;
}
