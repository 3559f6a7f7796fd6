import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort, startRank, WORKER } from "./helpers";

describe("rendezvous", () => {
  it("meets through a shared directory (Gloo's FileStore) as well as rank 0's TCP store", async () => {
    const store = mkdtempSync(join(tmpdir(), "fulmen-filestore-"));
    try {
      const env = { ...process.env, FILE_STORE: store };
      const ranks = [0, 1, 2].map((r) => startRank(WORKER, [String(r), "3", "1", "sum"], env));
      const codes = await Promise.all(ranks.map((r) => r.exited));
      expect(codes, ranks.map((r) => r.stderr).join("\n")).toEqual([0, 0, 0]);
      for (const r of ranks) expect(r.lines[0]).toEqual({ sum: 6 });
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
  });

  it("a rank that never arrives makes the others fail after the timeout, not hang", async () => {
    const port = await freePort();
    const started = Date.now();
    const lone = startRank(WORKER, ["0", "2", String(port), "sum", "1500"]);
    expect(await lone.exited).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(lone.stderr).toMatch(
      /Gloo could not connect rank 0 of 2 via 127\.0\.0\.1:\d+: rendezvous failed on rank 0/,
    );
  });
});

describe("without the native addon", () => {
  it("loading the collective says what is missing and how to build it", async () => {
    // A copy of the package without its build folder, as on a machine where node-gyp could not build it.
    const root = join(__dirname, "..");
    const copy = join(root, ".no-addon-copy");
    rmSync(copy, { recursive: true, force: true });
    mkdirSync(copy);
    try {
      cpSync(join(root, "dist"), join(copy, "dist"), { recursive: true });
      const { isGlooAvailable, GlooCollective } = (await import(
        join(copy, "dist", "index.js")
      )) as typeof import("../src");
      expect(isGlooAvailable()).toBe(false);
      await expect(
        GlooCollective.connect({ rank: 0, worldSize: 1, mainAddress: "127.0.0.1", mainPort: 1 }),
      ).rejects.toThrow(
        /addon of @fulmen\/collective-gloo is not built: .*apt-get install -y g\+\+ make python3 libgloo-dev/s,
      );
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
