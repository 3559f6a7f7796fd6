import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findFreePort } from "../src";

const dir = mkdtempSync(join(tmpdir(), "fulmen-store-secret-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The environment of a user who set no Fulmen variables. */
function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of [
    "FULMEN_STORE_SECRET",
    "MASTER_ADDR",
    "MASTER_PORT",
    "WORLD_SIZE",
    "LOCAL_RANK",
    "RANK",
  ])
    if (!(name in extra)) delete env[name];
  return env;
}

function launch(out: string, env: NodeJS.ProcessEnv, numNodes = 1) {
  return spawnSync(process.execPath, [join(__dirname, "fixtures/store-secret.mjs"), out, String(numNodes)], {
    encoding: "utf8",
    timeout: 60_000,
    env,
  });
}

describe("the launcher's rendezvous-store secret", () => {
  it("hands its local ranks a fresh random secret, a new one each run", () => {
    const digests: string[] = [];
    for (const run of ["a", "b"]) {
      const out = join(dir, run);
      const result = launch(out, plainEnv());
      expect(result.status, result.stderr).toBe(0);
      const ranks = [0, 1].map(
        (r) =>
          JSON.parse(readFileSync(`${out}.rank${r}`, "utf8")) as {
            digest: string;
            length: number;
            sum: number;
          },
      );
      for (const r of ranks) expect(r).toMatchObject({ length: 64, sum: 3 });
      expect(ranks[1]!.digest).toBe(ranks[0]!.digest);
      digests.push(ranks[0]!.digest);
    }
    expect(digests[1]).not.toBe(digests[0]);
  });

  it("keeps the user's FULMEN_STORE_SECRET", () => {
    const out = join(dir, "given");
    const result = launch(out, plainEnv({ FULMEN_STORE_SECRET: "a-user-chosen-secret-of-32-chars!" }));
    expect(result.status, result.stderr).toBe(0);
    const rank1 = JSON.parse(readFileSync(`${out}.rank1`, "utf8")) as { length: number; sum: number };
    expect(rank1).toMatchObject({ length: 33, sum: 3 });
  });

  it("a run over several nodes without FULMEN_STORE_SECRET fails before starting a rank, naming it", async () => {
    const result = launch(
      join(dir, "nodes"),
      plainEnv({
        MASTER_ADDR: "127.0.0.1",
        MASTER_PORT: String(await findFreePort()),
        FULMEN_COLLECTIVE_TIMEOUT_MS: "3000",
      }),
      2,
    );
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(
      /A run over 2 nodes needs FULMEN_STORE_SECRET set to the same random value on every node, next to MASTER_ADDR and MASTER_PORT/,
    );
  });
});

describe("a second job on a busy MASTER_PORT", () => {
  it("fails clearly on every rank: rank 0 names the port, no rank dies of a TypeError", async () => {
    // Another program holds the port and never answers, as a store of another job would to a stranger.
    const holder: Server = createServer(() => {});
    const port = await new Promise<number>((resolve) =>
      holder.listen(0, "127.0.0.1", () => resolve((holder.address() as { port: number }).port)),
    );
    try {
      const result = spawnSync(
        process.execPath,
        [join(__dirname, "fixtures/ddp-train.mjs"), "2", "sgd", join(dir, "busy.json")],
        { encoding: "utf8", timeout: 60_000, env: plainEnv({ MASTER_PORT: String(port) }) },
      );
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(
        new RegExp(
          `port ${port} on 127\\.0\\.0\\.1 is in use \\(another job\\?\\) — set MASTER_PORT to a free port`,
        ),
      );
      expect(result.stderr).not.toMatch(/TypeError|Cannot read properties/);
    } finally {
      holder.close();
    }
  });
});

describe("a rank whose launcher is already gone", () => {
  it("says so and stops, instead of dying of a TypeError on the closed channel", async () => {
    // A launcher that starts rank 1 and ends at once (as one whose own rank 0 failed on a busy port does).
    const rank1 = [join(__dirname, "fixtures/ddp-train.mjs"), "2", "sgd", join(dir, "orphan.json")];
    const rankEnv = plainEnv({
      LOCAL_RANK: "1",
      RANK: "1",
      WORLD_SIZE: "2",
      MASTER_ADDR: "127.0.0.1",
      MASTER_PORT: String(await findFreePort()),
    });
    const launcher =
      `const { spawn } = require("node:child_process");` +
      `spawn(process.execPath, ${JSON.stringify(rank1)}, { stdio: ["inherit", "inherit", "inherit", "ipc"], ` +
      `env: { ...${JSON.stringify(rankEnv)}, FULMEN_LAUNCHER_PID: String(process.pid) } });` +
      "process.exit(0);";
    // spawnSync returns once the orphaned rank, which shares the launcher's stderr, has ended too.
    const result = spawnSync(process.execPath, ["-e", launcher], { encoding: "utf8", timeout: 60_000 });
    expect(result.stderr).toMatch(/\[fulmen\] the launcher \(pid \d+\) is gone; rank 1 stops\./);
    expect(result.stderr).not.toMatch(/TypeError|Cannot read properties/);
  });
});
