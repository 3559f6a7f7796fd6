import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { freePort, type RankProcess, startRank, WORKER } from "./helpers";
import {
  claimedLength,
  getRequest,
  handshake,
  Op,
  RawConnection,
  Reply,
  readReply,
  setRequest,
  waitForListener,
} from "./store-protocol";

const jobSecret = randomBytes(32).toString("hex");
const env = { ...process.env, FULMEN_STORE_SECRET: jobSecret };

async function startRankZero(): Promise<{ port: number; rank0: RankProcess }> {
  const port = await freePort();
  const rank0 = startRank(WORKER, ["0", "2", String(port), "guarded", "60000"], env);
  await waitForListener(port);
  return { port, rank0 };
}

async function member(port: number): Promise<RawConnection> {
  const c = await RawConnection.open(port);
  expect((await handshake(c, { secret: jobSecret, rank: 1, worldSize: 2 })).reply).toBe(Reply.Accepted);
  return c;
}

function threadsOf(pid: number): number {
  return Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
}

async function finish(rank0: RankProcess, port: number): Promise<{ peakKb: number; startedKb: number }> {
  const rank1 = startRank(WORKER, ["1", "2", String(port), "guarded", "60000"], env);
  const codes = await Promise.all([rank0.exited, rank1.exited]);
  expect(codes, `${rank0.stderr}\n${rank1.stderr}`).toEqual([0, 0]);
  const last = rank0.lines.at(-1) as { sum: number; peakKb: number };
  expect(last.sum).toBe(3);
  return { peakKb: last.peakKb, startedKb: (rank0.lines[0] as { rssKb: number }).rssKb };
}

describe("the store's bounds", () => {
  it("a member claiming a giant key or value is dropped before anything is allocated", async () => {
    const { port, rank0 } = await startRankZero();
    for (const request of [
      claimedLength(Op.Set, 0x40000000), // a 1 GiB key
      claimedLength(Op.Get, 0xffffffff), // a 4 GiB key
      Buffer.concat([setRequest("k", Buffer.alloc(0)).subarray(0, 6), Buffer.of(0xff, 0xff, 0xff, 0xff)]), // 4 GiB value
      Buffer.of(0x7f), // no such request
    ]) {
      const c = await member(port);
      c.write(request);
      await c.closed;
    }
    // A key over 4 KiB and a value over 64 MiB are over the limit even when sent in full.
    const longKey = await member(port);
    longKey.write(getRequest("k".repeat(4097), 10));
    await longKey.closed;
    const { peakKb, startedKb } = await finish(rank0, port);
    expect(peakKb - startedKb).toBeLessThan(256 * 1024);
  });

  it("holds at most 65,536 keys, and says so", async () => {
    const { port, rank0 } = await startRankZero();
    try {
      const c = await member(port);
      const count = 65536;
      // Pipelined: every Set is written at once, then the replies are read.
      c.write(...Array.from({ length: count + 1 }, (_, i) => setRequest(`k${i}`, Buffer.of(i & 0xff))));
      // Rank 0's own rendezvous keys are stored already, so the last few Sets are over the limit, and every one
      // after the first refusal is refused too.
      const replies: number[] = [];
      for (let i = 0; i < count + 1; i++) replies.push((await readReply(c, Op.Set))!.status);
      const firstRefused = replies.indexOf(1);
      expect(firstRefused).toBeGreaterThan(count - 16);
      expect(replies.slice(firstRefused).every((s) => s === 1)).toBe(true);
      const refused = await (async () => {
        c.write(setRequest("one-more", Buffer.of(1)));
        return readReply(c, Op.Set);
      })();
      expect(refused?.payload.toString()).toBe("the rendezvous store holds its limit of 65536 keys");
      // An existing key can still be replaced.
      c.write(setRequest("k1", Buffer.of(9)));
      expect((await readReply(c, Op.Set))?.status).toBe(0);
      c.close();
    } finally {
      rank0.child.kill("SIGKILL");
      await rank0.exited;
    }
  });

  it("keeps a bounded number of connections and threads however many strangers connect", async () => {
    const { port, rank0 } = await startRankZero();
    const pid = rank0.child.pid!;
    const before = threadsOf(pid);
    const strangers = await Promise.all(Array.from({ length: 200 }, () => RawConnection.open(port)));
    // Beyond 64 waiting to prove themselves, the longest waiting are dropped to make room.
    let dropped = 0;
    for (const s of strangers) void s.closed.then(() => dropped++);
    for (let i = 0; i < 200 && dropped < 200 - 64; i++) await new Promise((r) => setTimeout(r, 25));
    expect(dropped).toBeGreaterThanOrEqual(200 - 64);
    // A dropped connection's thread ends a moment after its close reaches the stranger; then 64 remain.
    for (let i = 0; i < 200 && threadsOf(pid) - before > 64; i++) await new Promise((r) => setTimeout(r, 25));
    expect(threadsOf(pid) - before).toBeLessThanOrEqual(64);
    for (const s of strangers) s.close();
    await finish(rank0, port);
  });
});
