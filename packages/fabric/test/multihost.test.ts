import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// Two "hosts": network namespaces joined by a veth pair, each with its own address. Needs root and iproute2
// (CI has both; .ci/run installs iproute2).
const isRoot = process.getuid?.() === 0;
const hasIp = spawnSync("ip", ["-V"]).status === 0;
const tag = String(process.pid % 100000);
const nsA = `fulmen-a-${tag}`;
const nsB = `fulmen-b-${tag}`;
const subnet = `10.213.${process.pid % 250}`;
const dir = mkdtempSync(join(tmpdir(), "fulmen-multihost-"));

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: "pipe" });
}

function cleanUp(): void {
  for (const ns of [nsA, nsB]) spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
}

afterAll(() => {
  cleanUp();
  rmSync(dir, { recursive: true, force: true });
});

// What a user exports on every node of a multi-node job, next to MASTER_ADDR and MASTER_PORT.
const storeSecret = randomBytes(32).toString("hex");

function runInNamespace(
  ns: string,
  nodeRank: number,
  out: string,
  secret: string | null = storeSecret,
): Promise<{ code: number | null; stderr: string }> {
  const { FULMEN_STORE_SECRET: _, ...inherited } = process.env;
  const child = spawn(
    "ip",
    ["netns", "exec", ns, process.execPath, join(__dirname, "fixtures/ddp-train.mjs"), "1", "adamw", out],
    {
      env: {
        ...inherited,
        ...(secret === null ? {} : { FULMEN_STORE_SECRET: secret }),
        MASTER_ADDR: `${subnet}.1`,
        MASTER_PORT: "29517",
        WORLD_SIZE: "2",
        NODE_RANK: String(nodeRank),
        LOCAL_RANK: "0",
        FULMEN_NUM_NODES: "2",
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stderr })));
}

/**
 * Whether a process in `fromNs` can open a TCP connection to `address` where a server in `toNs` listens (on all of
 * its addresses). Uses Node itself, so the test needs no ping binary.
 */
async function tcpReachable(toNs: string, fromNs: string, address: string): Promise<boolean> {
  const port = 29400 + (process.pid % 100);
  const server = spawn(
    "ip",
    [
      "netns",
      "exec",
      toNs,
      process.execPath,
      "-e",
      `const s=require("node:net").createServer(c=>c.end()).listen(${port},"0.0.0.0",()=>console.log("up"));setTimeout(()=>s.close(),5000).unref();`,
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      server.stdout.once("data", () => resolve());
      server.once("exit", (code) => reject(new Error(`probe server in ${toNs} exited with ${code}`)));
    });
    const client = spawnSync(
      "ip",
      [
        "netns",
        "exec",
        fromNs,
        process.execPath,
        "-e",
        `const c=require("node:net").connect(${port},"${address}",()=>process.exit(0));c.on("error",()=>process.exit(3));setTimeout(()=>process.exit(4),2000);`,
      ],
      { timeout: 5000 },
    );
    return client.status === 0;
  } finally {
    server.kill();
  }
}

describe.skipIf(!isRoot || !hasIp)("DDP across two hosts (network namespaces joined by a veth pair)", () => {
  it("trains with one rank per host, over the veth link, exactly like one process", async () => {
    cleanUp();
    ip("netns", "add", nsA);
    ip("netns", "add", nsB);
    ip("link", "add", `fva${tag}`, "type", "veth", "peer", "name", `fvb${tag}`);
    ip("link", "set", `fva${tag}`, "netns", nsA);
    ip("link", "set", `fvb${tag}`, "netns", nsB);
    ip("-n", nsA, "addr", "add", `${subnet}.1/24`, "dev", `fva${tag}`);
    ip("-n", nsB, "addr", "add", `${subnet}.2/24`, "dev", `fvb${tag}`);
    for (const [ns, dev] of [
      [nsA, `fva${tag}`],
      [nsB, `fvb${tag}`],
    ] as const) {
      ip("-n", ns, "link", "set", dev, "up");
      ip("-n", ns, "link", "set", "lo", "up");
    }
    // The namespaces reach each other only through the veth pair: B connects to A's address over TCP (the path
    // Gloo's rendezvous takes), and A's loopback is not B's.
    expect(await tcpReachable(nsA, nsB, `${subnet}.1`)).toBe(true);
    expect(await tcpReachable(nsA, nsB, "127.0.0.1")).toBe(false);

    // Without FULMEN_STORE_SECRET, rank 0's store (reachable over the link) would serve anyone: both hosts refuse
    // to start, naming the variable.
    const unsecured = join(dir, "unsecured.json");
    for (const r of await Promise.all([
      runInNamespace(nsA, 0, unsecured, null),
      runInNamespace(nsB, 1, unsecured, null),
    ])) {
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/set FULMEN_STORE_SECRET to the same random value on every node/);
    }

    const out = join(dir, "multihost.json");
    const [a, b] = await Promise.all([runInNamespace(nsA, 0, out), runInNamespace(nsB, 1, out)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const reference = join(dir, "single.json");
    execFileSync(process.execPath, [join(__dirname, "fixtures/ddp-train.mjs"), "1", "adamw", reference]);
    const read = (p: string) =>
      JSON.parse(readFileSync(p, "utf8")) as {
        weights: Record<string, number[]>;
        ranks: number[];
        worldSize: number;
      };
    const [zero, one, single] = [read(out), read(`${out}.rank1`), read(reference)];
    expect(zero.worldSize).toBe(2);
    expect(zero.ranks).toEqual([0, 1]);
    for (const [k, values] of Object.entries(single.weights)) {
      for (const [i, v] of values.entries()) {
        expect(Math.abs(zero.weights[k]![i]! - v)).toBeLessThan(1e-5);
        expect(one.weights[k]![i]).toBe(zero.weights[k]![i]);
      }
    }
  });
});
