import { randomBytes } from "node:crypto";
import { createServer, type Socket, connect as tcpConnect } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort, type RankProcess, startRank, WORKER } from "./helpers";
import { handshake, RawConnection, Reply, waitForListener } from "./store-protocol";

// Strangers who hold the store's handshake slots: they must not keep the job's own ranks out.

const jobSecret = randomBytes(32).toString("hex");
const env = { ...process.env, FULMEN_STORE_SECRET: jobSecret };
/** Connections the store lets prove themselves at once (kMaxPendingConnections in native/store_limits.h). */
const HANDSHAKE_SLOTS = 64;
/** What a client sends after the greeting: magic, rank, world size, session, nonce, proof. */
const CLIENT_MESSAGE_BYTES = 8 + 4 + 4 + 16 + 32 + 32;

async function startRankZero(): Promise<{ port: number; rank0: RankProcess }> {
  const port = await freePort();
  const rank0 = startRank(WORKER, ["0", "2", String(port), "guarded", "60000"], env);
  await waitForListener(port);
  return { port, rank0 };
}

/** Starts rank 1 (on `port`, which may be a proxy's) and checks that the job finished its all-reduce. */
async function finish(rank0: RankProcess, port: number): Promise<void> {
  const rank1 = startRank(WORKER, ["1", "2", String(port), "guarded", "60000"], env);
  // A rank 1 that failed leaves rank 0 waiting for it: end that wait rather than the test's time.
  if ((await rank1.exited) !== 0) rank0.child.kill("SIGKILL");
  const codes = await Promise.all([rank0.exited, rank1.exited]);
  expect(codes, `${rank0.stderr}\n${rank1.stderr}`).toEqual([0, 0]);
  expect((rank1.lines.at(-1) as { sum: number }).sum).toBe(3);
}

/** A stranger that is greeted and then says nothing. */
async function silentStranger(port: number): Promise<RawConnection> {
  const c = await RawConnection.open(port);
  expect(await c.read(41)).not.toBeNull();
  return c;
}

describe("the store's handshake slots", () => {
  it("drop a stranger that trickles its handshake a byte at a time when the handshake's time is up", async () => {
    const { port, rank0 } = await startRankZero();
    try {
      const slow = await silentStranger(port);
      // One byte every 250 ms: each read would be well inside a per-read timeout, so only a deadline for the
      // whole handshake (5 s) ends it before the message is complete.
      let sent = 0;
      let open = true;
      void slow.closed.then(() => {
        open = false;
      });
      const message = Buffer.concat([Buffer.from("FULMSTO1"), Buffer.alloc(CLIENT_MESSAGE_BYTES - 8)]);
      while (open && sent < CLIENT_MESSAGE_BYTES) {
        slow.write(message.subarray(sent, sent + 1));
        sent++;
        await new Promise((r) => setTimeout(r, 250));
      }
      await slow.closed;
      // Closed for its time, not answered: the whole message never got there, and nothing came after the greeting.
      expect(sent).toBeLessThan(CLIENT_MESSAGE_BYTES / 2);
      expect(slow.received().length).toBe(0);
    } finally {
      rank0.child.kill("SIGKILL");
      await rank0.exited;
    }
  });

  it("still greet a rank when silent strangers hold every one of them, and the job finishes", async () => {
    const { port, rank0 } = await startRankZero();
    const strangers: RawConnection[] = [];
    for (let i = 0; i < HANDSHAKE_SLOTS; i++) strangers.push(await silentStranger(port));
    // The slots are full: a newcomer is greeted all the same (the stranger waiting longest makes room), and a
    // member proves itself before any further stranger could push it out.
    const member = await RawConnection.open(port);
    expect(await handshake(member, { secret: jobSecret, rank: 1, worldSize: 2 })).toMatchObject({
      reply: Reply.Accepted,
      storeProven: true,
    });
    await strangers[0]!.closed;
    member.close();
    // The real rank 1 joins past the strangers still waiting.
    await finish(rank0, port);
    for (const s of strangers) s.close();
  });
});

/**
 * A TCP relay to the store on `port` that resets the first connection once the client has sent its handshake,
 * as the store does when it drops a connection in the middle of its handshake (to make room, or at its
 * deadline) with the client's message still unread. Every later connection is relayed as is.
 */
async function resettingRelay(
  port: number,
): Promise<{ port: number; resets: () => number; close: () => void }> {
  let resets = 0;
  let first = true;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const reset = first;
    first = false;
    const upstream = tcpConnect(port, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => sockets.delete(s));
    }
    upstream.pipe(client);
    if (!reset) {
      client.pipe(upstream);
      return;
    }
    let received = 0;
    client.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received < CLIENT_MESSAGE_BYTES) return;
      resets++;
      upstream.destroy();
      client.resetAndDestroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address !== null ? address.port : 0,
    resets: () => resets,
    close: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

describe("a rank whose handshake is cut off", () => {
  it("connects again instead of failing, and the job finishes", async () => {
    const { port, rank0 } = await startRankZero();
    const relay = await resettingRelay(port);
    try {
      await finish(rank0, relay.port);
      expect(relay.resets()).toBe(1);
    } finally {
      relay.close();
    }
  });
});

describe("a stopped store host (rank 0, SIGSTOP)", () => {
  it("is named by the others within their timeout and the diagnosis's own bounds, not the store's 5 s handshake limit", async () => {
    const port = await freePort();
    const ranks = [0, 1].map((r) => startRank(WORKER, [String(r), "2", String(port), "fault", "2000"], env));
    try {
      await Promise.all(ranks.map((r) => r.waitFor((l) => "ready" in l)));
      const stoppedAt = Date.now();
      ranks[0]!.child.kill("SIGSTOP");
      expect(await ranks[1]!.exited).toBe(3);
      const failure = ranks[1]!.lines.find((l) => "error" in (l as object)) as { error: string };
      expect(failure.error).toMatch(/failed on rank 1 of 2: rank 0 is gone or hung/);
      // 2 s timeout, then a liveness query bounded by 1.5 s and a failure report bounded by 0.5 s: about 4 s. A
      // connection to the stopped store waiting out the 5 s handshake limit twice took over 12 s.
      expect(Date.now() - stoppedAt).toBeLessThan(9_000);
    } finally {
      for (const r of ranks) r.child.kill("SIGKILL");
    }
  });
});
