import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "fulmen-cjs-ddp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface RankSummary {
  worldSize: number;
  losses: number[];
  weights: Record<string, number[]>;
  required: string[];
}

describe("CommonJS users get the same Fulmen", () => {
  it('a require()-ing script trains with strategy "ddp" on 2 ranks over Gloo', () => {
    const out = join(dir, "run.json");
    // A real node process (not Vite's loader), so that require() loads the packages' .cjs builds as a user's would.
    const run = spawnSync(process.execPath, [join(__dirname, "fixtures/ddp-train.cjs"), out], {
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const ranks = [0, 1].map((r) => JSON.parse(readFileSync(`${out}.rank${r}`, "utf8")) as RankSummary);
    for (const rank of ranks) {
      expect(rank.worldSize).toBe(2);
      expect(rank.losses).toHaveLength(5);
      expect(rank.losses.at(-1)!).toBeLessThan(rank.losses[0]!);
      // Gloo was found by name and loaded as CommonJS too: one copy of core, the one the script required.
      const builds = rank.required.map((f) => f.split(/[\\/]packages[\\/]/)[1]);
      expect(builds).toEqual(
        expect.arrayContaining([
          "core/dist/index.cjs",
          "fabric/dist/index.cjs",
          "collective-gloo/dist/index.cjs",
        ]),
      );
    }
    // Each rank trained on its own data: equal weights, bit for bit, mean the gradients were averaged.
    expect(ranks[1]!.weights).toEqual(ranks[0]!.weights);
    expect(ranks[1]!.losses).toEqual(ranks[0]!.losses);
  });
});
