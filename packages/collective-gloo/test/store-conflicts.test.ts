import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort, startRank, WORKER } from "./helpers";
import { waitForListener } from "./store-protocol";

const secret = () => randomBytes(32).toString("hex");

describe("ranks that disagree on WORLD_SIZE", () => {
  it("all fail at once over rank 0's store, each naming both world sizes", async () => {
    const port = await freePort();
    const env = { ...process.env, FULMEN_STORE_SECRET: secret() };
    // Rank 1 thinks the world has 2 ranks; ranks 0 and 2 think 3. The 60 s timeout is never waited out.
    const ranks = [3, 2, 3].map((world, rank) =>
      startRank(WORKER, [String(rank), String(world), String(port), "sum", "60000"], env),
    );
    const codes = await Promise.all(ranks.map((r) => r.exited));
    for (const [rank, r] of ranks.entries()) {
      expect(codes[rank], r.stderr).not.toBe(0);
      expect(r.stderr).toMatch(
        /ranks disagree on the world size: rank 1 has WORLD_SIZE=2, but rank 0 \(which hosts the rendezvous store at 127\.0\.0\.1:\d+\) has WORLD_SIZE=3; start every rank with the same WORLD_SIZE/,
      );
      expect(r.stderr).not.toMatch(/sizeof|preamble/);
    }
  });

  it("fail on both sides when they meet through a shared directory", async () => {
    const store = mkdtempSync(join(tmpdir(), "fulmen-filestore-"));
    try {
      const env = { ...process.env, FILE_STORE: store };
      const ranks = [2, 3].map((world, rank) =>
        startRank(WORKER, [String(rank), String(world), "1", "sum", "60000"], env),
      );
      for (const r of ranks) {
        expect(await r.exited).not.toBe(0);
        expect(r.stderr).toMatch(
          /ranks disagree on the world size: rank 1 has WORLD_SIZE=3, but rank 0 has WORLD_SIZE=2/,
        );
      }
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
  });
});

describe("a second job on a busy port", () => {
  it("fails clearly on every rank, and the first job finishes unharmed", async () => {
    const port = await freePort();
    const first = { ...process.env, FULMEN_STORE_SECRET: secret() };
    const firstRank0 = startRank(WORKER, ["0", "2", String(port), "sum", "60000"], first);
    await waitForListener(port);
    const second = { ...process.env, FULMEN_STORE_SECRET: secret() };
    const intruders = [0, 1].map((rank) =>
      startRank(WORKER, [String(rank), "2", String(port), "sum", "60000"], second),
    );
    for (const r of intruders) expect(await r.exited).not.toBe(0);
    expect(intruders[0]!.stderr).toMatch(
      new RegExp(
        `port ${port} on 127\\.0\\.0\\.1 is in use \\(another job\\?\\) — set MASTER_PORT to a free port`,
      ),
    );
    expect(intruders[1]!.stderr).toMatch(
      /the rendezvous store at 127\.0\.0\.1:\d+ refused this rank: .*belongs to another job \(set MASTER_PORT to a free port\)/,
    );
    for (const r of intruders) expect(r.stderr).not.toMatch(/TypeError/);
    const firstRank1 = startRank(WORKER, ["1", "2", String(port), "sum", "60000"], first);
    expect(await Promise.all([firstRank0.exited, firstRank1.exited])).toEqual([0, 0]);
    expect(firstRank0.lines[0]).toEqual({ sum: 3 });
  });

  it("without secrets (a single-machine job under torchrun or srun), the second job's rank is turned away too", async () => {
    const port = await freePort();
    const first = [0, 1].map((rank) =>
      startRank(WORKER, [String(rank), "2", String(port), "fault", "60000"]),
    );
    try {
      await Promise.all(first.map((r) => r.waitFor((l) => "ready" in l)));
      const intruders = [0, 1].map((rank) =>
        startRank(WORKER, [String(rank), "2", String(port), "sum", "60000"]),
      );
      for (const r of intruders) expect(await r.exited).not.toBe(0);
      expect(intruders[0]!.stderr).toMatch(
        new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use \\(another job\\?\\)`),
      );
      expect(intruders[1]!.stderr).toMatch(
        /rank 1 is already connected to the rendezvous store at 127\.0\.0\.1:\d+ from another process: another job uses this port \(set MASTER_PORT to a free port\)/,
      );
      // The first job is still training.
      expect(first.map((r) => r.child.exitCode)).toEqual([null, null]);
    } finally {
      for (const r of first) r.child.kill("SIGKILL");
    }
  });
});
