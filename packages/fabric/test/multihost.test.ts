import { execFileSync, spawn, spawnSync } from "node:child_process";
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

function runInNamespace(
  ns: string,
  nodeRank: number,
  out: string,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(
    "ip",
    ["netns", "exec", ns, process.execPath, join(__dirname, "fixtures/ddp-train.mjs"), "1", "adamw", out],
    {
      env: {
        ...process.env,
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
    // The namespaces reach each other only through the veth pair, and not 127.0.0.1 of the other.
    expect(
      spawnSync("ip", ["netns", "exec", nsB, "ping", "-c", "1", "-W", "2", `${subnet}.1`]).status ?? 0,
    ).toBe(0);

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
