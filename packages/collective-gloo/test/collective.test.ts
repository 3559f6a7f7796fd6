import { decodeHalf, encodeHalf } from "@fulmen/core";
import { describe, expect, it } from "vitest";
import { freePort, startRank, WORKER } from "./helpers";

async function runOps(world: number): Promise<Array<Record<string, number[] | string[] | number>>> {
  const port = await freePort();
  const ranks = Array.from({ length: world }, (_, r) =>
    startRank(WORKER, [String(r), String(world), String(port), "ops"]),
  );
  const codes = await Promise.all(ranks.map((r) => r.exited));
  for (const [r, code] of codes.entries()) expect(code, `rank ${r}: ${ranks[r]!.stderr}`).toBe(0);
  return ranks.map((r) => r.lines[0] as Record<string, number[] | string[] | number>);
}

function halfSum(values: number[][], format: "float16" | "bfloat16"): number[] {
  // Two ranks: one rounding of the float32 sum.
  const decoded = values.map((v) => Array.from(decodeHalf(encodeHalf(v, format), format)));
  return Array.from(
    encodeHalf(
      decoded[0]!.map((x, i) => Math.fround(x + decoded[1]![i]!)),
      format,
    ),
  );
}

describe("Gloo collectives across real processes", () => {
  for (const world of [2, 3]) {
    it(`computes every collective like PyTorch's gloo with ${world} ranks (synchronous, Promise and started forms)`, async () => {
      const results = await runOps(world);
      const ranksSum = (world * (world - 1)) / 2;
      const expectedSum = Array.from({ length: 5 }, (_, i) =>
        Math.fround(((world * (world + 1)) / 2) * (i + 0.5)),
      );
      for (const [rank, out] of results.entries()) {
        expect(out["f32-sum"]).toEqual(expectedSum);
        for (const [i, v] of (out["f32-mean"] as number[]).entries())
          expect(v).toBeCloseTo(expectedSum[i]! / world, 5);
        expect(out["f32-max"]).toEqual(Array.from({ length: 5 }, (_, i) => world * (i + 0.5)));
        expect(out["f32-min"]).toEqual(Array.from({ length: 5 }, (_, i) => i + 0.5));
        expect(out["i32-sum"]).toEqual([ranksSum, -ranksSum, 7 * world]);
        expect(out.gather).toEqual(Array.from({ length: world }, (_, r) => [r, r + 0.5]).flat());
        expect(out.gatherBytes).toEqual(Array.from({ length: world }, (_, r) => r * 3));
        expect(out.reduceScatter).toEqual([0, 1, 2].map((j) => world * (3 * rank + j) + 100 * ranksSum));
        for (const [j, v] of (out.reduceScatterMean as number[]).entries())
          expect(v).toBeCloseTo((world * (3 * rank + j) + 100 * ranksSum) / world, 4);
        expect(out.reduceScatterInputKept).toEqual([100 * rank, 100 * rank + 1, 100 * rank + 2]);
        expect(out.broadcast).toEqual([world - 1, world - 1, world - 1]);
        expect(out.asyncSum).toEqual([(world * (world + 1)) / 2, (world * (world + 1)) / 2]);
        expect(out.asyncGather).toEqual(Array.from({ length: world }, (_, r) => r));
        expect(out.asyncReduceScatter).toEqual([ranksSum]);
        expect(out.asyncBroadcast).toEqual([0, 0, 0]);
        expect(out.startedGather).toEqual(Array.from({ length: world }, (_, r) => 2 * r));
        expect(out.startedScatter).toEqual([world * rank + ranksSum]);
        expect(out.startedMid).toBe(world);
        expect(out.startedWaitAgain).toEqual(out.startedGather);
        expect(out.intoSame).toEqual([true, true, true, true]);
        expect(out.into).toEqual([
          Array.from({ length: world }, (_, r) => r + 10),
          [world * rank],
          Array.from({ length: world }, (_, r) => r + 20),
          [1],
        ]);
        // A synchronous collective would have frozen the 1 ms timer; on a worker thread it kept firing.
        expect(out.asyncTicks as number).toBeGreaterThanOrEqual(3);
        const errors = out.errors as string[];
        expect(errors[0]).toMatch(/"mean" of int32 data is not defined/);
        expect(errors[1]).toMatch(/halfFormat/);
        expect(errors[2]).toMatch(/unknown reduce op 'prod'/);
        expect(errors[3]).toMatch(/do not split evenly over/);
        expect(errors[4]).toMatch(/src \d does not exist/);
        expect(errors[5]).toMatch(
          /allGather: the output array \(Float32Array, \d+ elements\) does not fit the result \(Float32Array, \d+ elements\)/,
        );
        expect(errors[6]).toMatch(/allGather: the output array \(Int32Array/);
        expect(errors[7]).toMatch(
          /reduceScatter: the output array \(Float32Array, 2 elements\) does not fit the result \(Float32Array, 1 elements\)/,
        );
        // Every rank holds the same 16-bit results.
        expect(out["float16-sum"]).toEqual(results[0]!["float16-sum"]);
        expect(out["bfloat16-sum"]).toEqual(results[0]!["bfloat16-sum"]);
      }
      if (world === 2) {
        const inputs = [0, 1].map((r) => [0.1 * (r + 1), 1000.3 + r, -3.7]);
        expect(results[0]!["float16-sum"]).toEqual(halfSum(inputs, "float16"));
        expect(results[0]!["bfloat16-sum"]).toEqual(halfSum(inputs, "bfloat16"));
        const bf = [0, 1].map((r) => Array.from({ length: 4 }, (_, i) => i + r / 8));
        const bfSum = halfSum(bf, "bfloat16");
        expect(results[0]!.reduceScatterBf16).toEqual(bfSum.slice(0, 2));
        expect(results[1]!.reduceScatterBf16).toEqual(bfSum.slice(2, 4));
      }
    });
  }
});

describe("subgroups (split)", () => {
  it("4 ranks split two ways: each subgroup reduces, gathers and scatters among its own ranks, beside the whole group", async () => {
    const port = await freePort();
    const ranks = Array.from({ length: 4 }, (_, r) =>
      startRank(WORKER, [String(r), "4", String(port), "split"]),
    );
    const codes = await Promise.all(ranks.map((r) => r.exited));
    for (const [r, code] of codes.entries()) expect(code, `rank ${r}: ${ranks[r]!.stderr}`).toBe(0);
    for (const [rank, process] of ranks.entries()) {
      const out = process.lines[0] as Record<string, unknown>;
      const first = 2 * Math.floor(rank / 2);
      expect(out.nodeRank).toBe(rank % 2);
      expect(out.nodeSize).toBe(2);
      expect(out.replicaRank).toBe(Math.floor(rank / 2));
      expect(out.nodeSum).toEqual([2 * first + 1, 10 * (2 * first + 1)]);
      expect(out.replicaSum).toEqual([2 * (rank % 2) + 2]);
      expect(out.nodeGather).toEqual([first, first + 1]);
      // Replicas r and r + 2 average [r, r + 1] and [r + 2, r + 3]; each keeps its half.
      expect(out.replicaScatter).toEqual([(rank % 2) + 1 + Math.floor(rank / 2)]);
      expect(out.replicaGatherAsync).toEqual([rank % 2, (rank % 2) + 2]);
      expect(out.wholeSum).toBe(4);
      expect(out.errors).toEqual([
        expect.stringMatching(/color must be a non-negative integer, got -1/),
        expect.stringMatching(/color must be a non-negative integer, got 0.5/),
      ]);
      expect(out.closedChild).toMatch(/closed/);
    }
  });

  it("a dead member of a subgroup is named by its job-wide rank", async () => {
    const port = await freePort();
    const ranks = Array.from({ length: 4 }, (_, r) =>
      startRank(WORKER, [String(r), "4", String(port), "split-fault", "20000"]),
    );
    try {
      await Promise.all(ranks.map((r) => r.waitFor((l) => "ready" in l)));
      await new Promise((r) => setTimeout(r, 300));
      ranks[3]!.child.kill("SIGKILL");
      expect(await ranks[2]!.exited).toBe(3);
      const failure = ranks[2]!.lines.find((l) => "error" in (l as object)) as { error: string };
      expect(failure.error).toMatch(
        /Gloo allReduce failed on rank 2 \(rank 0 of a subgroup of 2\): rank 3 is gone/,
      );
    } finally {
      for (const r of ranks) r.child.kill("SIGKILL");
    }
  });
});

describe("a dead or stopped peer", () => {
  async function startFaultRun(world: number, timeoutMs: number, scenario = "fault") {
    const port = await freePort();
    const ranks = Array.from({ length: world }, (_, r) =>
      startRank(WORKER, [String(r), String(world), String(port), scenario, String(timeoutMs)]),
    );
    await Promise.all(ranks.map((r) => r.waitFor((l) => "ready" in l)));
    await new Promise((r) => setTimeout(r, 300));
    return ranks;
  }

  it("kill -9 of a rank: every other rank throws at once, naming the dead rank and the operation", async () => {
    const ranks = await startFaultRun(3, 20_000);
    ranks[2]!.child.kill("SIGKILL");
    for (const survivor of ranks.slice(0, 2)) {
      expect(await survivor.exited).toBe(3);
      const failure = survivor.lines.find((l) => "error" in (l as object)) as { error: string };
      expect(failure.error).toMatch(/Gloo allReduce failed on rank [01] of 3: rank 2 is gone/);
    }
  });

  it("kill -9 of a rank during a started collective: wait() throws on every other rank, naming it", async () => {
    const ranks = await startFaultRun(3, 20_000, "fault-started");
    ranks[2]!.child.kill("SIGKILL");
    for (const survivor of ranks.slice(0, 2)) {
      expect(await survivor.exited).toBe(3);
      const failure = survivor.lines.find((l) => "error" in (l as object)) as { error: string };
      expect(failure.error).toMatch(/Gloo allGather failed on rank [01] of 3: rank 2 is gone/);
    }
  });

  it("a stopped rank (SIGSTOP): the others throw after the timeout, naming it as hung", async () => {
    const ranks = await startFaultRun(3, 3000);
    const stoppedAt = Date.now();
    ranks[1]!.child.kill("SIGSTOP");
    try {
      for (const survivor of [ranks[0]!, ranks[2]!]) {
        expect(await survivor.exited).toBe(3);
        const failure = survivor.lines.find((l) => "error" in (l as object)) as { error: string };
        expect(failure.error).toMatch(
          /Gloo allReduce failed on rank [02] of 3: rank 1 has not answered for \d+ ms/,
        );
      }
      // Within the 3 s timeout plus the diagnosis, not a hang.
      expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    } finally {
      ranks[1]!.child.kill("SIGKILL");
    }
  });

  it("the store host (rank 0) dying is reported as such", async () => {
    const ranks = await startFaultRun(2, 5000);
    ranks[0]!.child.kill("SIGKILL");
    expect(await ranks[1]!.exited).toBe(3);
    const failure = ranks[1]!.lines.find((l) => "error" in (l as object)) as { error: string };
    expect(failure.error).toMatch(/Gloo allReduce failed on rank 1 of 2: rank 0 is gone/);
  });
});
