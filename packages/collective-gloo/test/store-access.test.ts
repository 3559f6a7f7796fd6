import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { GlooCollective } from "../src";
import { freePort, type RankProcess, startRank, WORKER } from "./helpers";
import {
  canConnect,
  getRequest,
  handshake,
  Op,
  RawConnection,
  Reply,
  readReply,
  setRequest,
  waitForListener,
} from "./store-protocol";

const secret = () => randomBytes(32).toString("hex");

/** Rank 0 of a 2-rank "guarded" job, alone: its store listens while it waits for rank 1. */
async function startRankZero(env: NodeJS.ProcessEnv): Promise<{ port: number; rank0: RankProcess }> {
  const port = await freePort();
  const rank0 = startRank(WORKER, ["0", "2", String(port), "guarded", "60000"], env);
  await waitForListener(port);
  return { port, rank0 };
}

/** Starts rank 1, and checks that the job finished its all-reduce; returns rank 0's last report. */
async function finish(rank0: RankProcess, port: number, env: NodeJS.ProcessEnv) {
  const rank1 = startRank(WORKER, ["1", "2", String(port), "guarded", "60000"], env);
  const codes = await Promise.all([rank0.exited, rank1.exited]);
  expect(codes, `${rank0.stderr}\n${rank1.stderr}`).toEqual([0, 0]);
  const last = rank0.lines.at(-1) as { sum: number; storeAddress: string; peakKb: number };
  expect(last.sum).toBe(3);
  expect((rank1.lines.at(-1) as { sum: number }).sum).toBe(3);
  return { last, startedKb: (rank0.lines[0] as { rssKb: number }).rssKb };
}

describe("the rendezvous store listens where the job says", () => {
  it("on loopback when MASTER_ADDR is 127.0.0.1, not on every interface", async () => {
    const env = { ...process.env, FULMEN_STORE_SECRET: secret() };
    const { port, rank0 } = await startRankZero(env);
    // Bound to every interface, the store would also answer on 127.0.0.2 (and on the machine's network addresses).
    expect(await canConnect(port, "127.0.0.2")).toBe(false);
    const { last } = await finish(rank0, port, env);
    expect(last.storeAddress).toBe("127.0.0.1");
  });

  it("on the address MASTER_ADDR names", async () => {
    const env = { ...process.env, FULMEN_STORE_SECRET: secret(), MAIN_ADDR: "127.0.0.2" };
    const port = await freePort();
    const rank0 = startRank(WORKER, ["0", "2", String(port), "guarded", "60000"], env);
    await rank0.waitFor((l) => "started" in l);
    for (let i = 0; i < 600 && !(await canConnect(port, "127.0.0.2")); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(await canConnect(port, "127.0.0.1")).toBe(false);
    const { last } = await finish(rank0, port, env);
    expect(last.storeAddress).toBe("127.0.0.2");
  });
});

describe("a store other machines could reach needs the job's secret", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of ["FULMEN_STORE_SECRET", "FULMEN_STORE_BIND_ADDR"]) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it("every rank refuses to start without FULMEN_STORE_SECRET, before touching the network", async () => {
    delete process.env.FULMEN_STORE_SECRET;
    // 192.0.2.1 is a documentation address: the check must fail before any connection is tried.
    for (const rank of [0, 1])
      await expect(
        GlooCollective.connect({
          rank,
          worldSize: 2,
          mainAddress: "192.0.2.1",
          mainPort: 29500,
          timeoutMs: 1000,
        }),
      ).rejects.toThrow(
        new RegExp(
          `Rank ${rank}: the rendezvous store at 192\\.0\\.2\\.1:29500 can be reached from other machines.*set FULMEN_STORE_SECRET to the same random value on every node`,
        ),
      );
    // Listening on every interface is reaching other machines too, even with a loopback MASTER_ADDR.
    process.env.FULMEN_STORE_BIND_ADDR = "0.0.0.0";
    await expect(
      GlooCollective.connect({
        rank: 0,
        worldSize: 1,
        mainAddress: "127.0.0.1",
        mainPort: 0,
        timeoutMs: 1000,
      }),
    ).rejects.toThrow(/FULMEN_STORE_BIND_ADDR=0\.0\.0\.0 is not a loopback address.*FULMEN_STORE_SECRET/);
  });

  it("refuses a short secret, and a rank without the secret its store requires", async () => {
    process.env.FULMEN_STORE_SECRET = "hunter2";
    await expect(
      GlooCollective.connect({ rank: 0, worldSize: 1, mainAddress: "127.0.0.1", mainPort: 0 }),
    ).rejects.toThrow(/FULMEN_STORE_SECRET must hold 16 to 1024 characters \(it has 7\)/);
    const env = { ...process.env, FULMEN_STORE_SECRET: secret() };
    const { port, rank0 } = await startRankZero(env);
    const { FULMEN_STORE_SECRET: _, ...withoutSecret } = env;
    const lone = startRank(WORKER, ["1", "2", String(port), "guarded", "60000"], withoutSecret);
    expect(await lone.exited).not.toBe(0);
    expect(lone.stderr).toMatch(/requires a secret and this rank has none: set FULMEN_STORE_SECRET/);
    await finish(rank0, port, env);
  });
});

describe("a stranger at the store's door", () => {
  it("without the job's secret reads and writes nothing, is dropped, and the job finishes unharmed", async () => {
    const jobSecret = secret();
    const env = { ...process.env, FULMEN_STORE_SECRET: jobSecret };
    const { port, rank0 } = await startRankZero(env);

    // The old protocol's requests, sent blind: a Set, then a Get of what it set. The store greets, then drops it.
    const blind = await RawConnection.open(port);
    blind.write(setRequest("fulmen/stolen", Buffer.from("x")), getRequest("fulmen/stolen", 10));
    await blind.closed;
    const greeting = blind.received();
    expect(greeting.length).toBe(41);
    expect(greeting.subarray(0, 8).toString()).toBe("FULMSTO1");
    expect(greeting[8]).toBe(1); // a secret is required

    // The 5-byte request: a Set claiming a 1 GiB key. Nothing is allocated for it, and the store drops
    // the connection when its handshake time is up (awaited at the end; the rest runs meanwhile).
    const greedy = await RawConnection.open(port);
    greedy.write(Buffer.of(Op.Set, 0, 0, 0, 0x40));

    // A wrong secret, and no secret at all: refused, then dropped.
    for (const wrong of [secret(), undefined]) {
      const c = await RawConnection.open(port);
      const result = await handshake(c, { secret: wrong, rank: 1, worldSize: 2 });
      expect(result.reply).toBe(Reply.WrongProof);
      await c.closed;
    }

    // A member with the secret sees that nothing the strangers sent was stored.
    const member = await RawConnection.open(port);
    const joined = await handshake(member, { secret: jobSecret, rank: 1, worldSize: 2 });
    expect(joined).toMatchObject({ reply: Reply.Accepted, storeProven: true });
    member.write(getRequest("fulmen/stolen", 50));
    const reply = await readReply(member, Op.Get);
    expect(reply?.status).toBe(1);
    // The timeout's hint counts the refused proofs, so a misconfigured rank is easy to spot.
    expect(reply?.payload.toString()).toMatch(
      /2 connection\(s\) to the store were refused for a wrong FULMEN_STORE_SECRET/,
    );
    member.close();
    await member.closed;

    await greedy.closed;
    expect(greedy.received().length).toBe(41);
    const { last, startedKb } = await finish(rank0, port, env);
    // Rank 0's peak memory stayed near where it started (one 1 GiB allocation would show here).
    expect(last.peakKb - startedKb).toBeLessThan(256 * 1024);
  });
});
