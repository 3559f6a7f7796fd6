/**
 * `pnpm bench` (distributed part 1): all-reduce algorithmic bandwidth of Fulmen's Gloo addon against Gloo's own
 * C++ API driven by a tiny C++ program (compiled here with g++), 2 ranks on this machine, for 1, 16 and 64 MiB of
 * float32. For every size the two alternate round by round, so both see the same machine load; the figure per
 * side is the median over rounds of each run's median op time. Prints Markdown for BENCHMARKS.md.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { GlooCollective } from "@fulmen/collective-gloo";
import { findFreePort } from "@fulmen/fabric";

const SIZES_MIB = (process.env.BENCH_SIZES_MIB ?? "1,16,64").split(",").map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ITERATIONS: Record<number, number> = { 1: 100, 16: 15, 64: 6 };
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

/** One rank of the addon side: prints the median ms per allReduce (rank 0). */
async function worker(rank: number, port: number, bytes: number, iterations: number): Promise<void> {
  const c = await GlooCollective.connect({ rank, worldSize: 2, mainAddress: "127.0.0.1", mainPort: port });
  const data = new Float32Array(bytes / 4).fill(1);
  for (let i = 0; i < 2; i++) c.allReduce(data, "sum");
  const ms: number[] = [];
  for (let i = 0; i < iterations; i++) {
    c.barrier();
    const start = performance.now();
    c.allReduce(data, "sum");
    ms.push(performance.now() - start);
  }
  c.close();
  if (rank === 0) console.log(median(ms).toFixed(4));
}

function runPair(command: string, argsOf: (rank: number) => string[]): Promise<number> {
  const ranks = [0, 1].map(
    (rank) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(command, argsOf(rank), { stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        child.stdout.on("data", (c: Buffer) => {
          out += c.toString();
        });
        child.on("exit", (code) =>
          code === 0 ? resolve(out.trim()) : reject(new Error(`${command} exited ${code}`)),
        );
      }),
  );
  return Promise.all(ranks).then(([zero]) => Number(zero));
}

async function main(): Promise<void> {
  const driverSource = join(
    dirname(createRequire(import.meta.url).resolve("@fulmen/collective-gloo/package.json")),
    "bench",
    "gloo-allreduce-driver.cc",
  );
  const work = mkdtempSync(join(tmpdir(), "fulmen-allreduce-"));
  const driver = join(work, "gloo-allreduce-driver");
  execFileSync("g++", ["-O2", "-std=c++17", "-o", driver, driverSource, "-lgloo", "-lpthread"]);
  const self = fileURLToPath(import.meta.url);
  const rows: string[] = [];
  for (const mib of SIZES_MIB) {
    const bytes = mib * 1024 * 1024;
    const iterations = ITERATIONS[mib]!;
    const raw: number[] = [];
    const addon: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const store = mkdtempSync(join(work, "store-"));
      raw.push(await runPair(driver, (r) => [String(r), "2", store, String(bytes), String(iterations)]));
      const p = await findFreePort();
      addon.push(
        await runPair(process.execPath, (r) => [
          self,
          "--worker",
          String(r),
          String(p),
          String(bytes),
          String(iterations),
        ]),
      );
    }
    if (process.env.BENCH_VERBOSE) console.error(mib, "MiB raw", raw, "addon", addon);
    const [rawMs, addonMs] = [median(raw), median(addon)];
    const gbps = (ms: number) => bytes / (ms / 1000) / 1e9;
    rows.push(
      `| ${mib} MiB | ${rawMs.toFixed(2)} | ${gbps(rawMs).toFixed(3)} | ${addonMs.toFixed(2)} | ${gbps(addonMs).toFixed(3)} | ${(rawMs / addonMs).toFixed(3)} |`,
    );
  }
  rmSync(work, { recursive: true, force: true });
  console.log(
    `\nAll-reduce (float32 sum, ring), 2 ranks on localhost, ${cpus().length} cores; medians of ${ROUNDS} alternating rounds.\n`,
  );
  console.log("| size | Gloo C++ ms | Gloo C++ GB/s | addon ms | addon GB/s | addon/C++ bandwidth |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const row of rows) console.log(row);
}

const args = process.argv.slice(2);
if (args[0] === "--worker") {
  const [rank, port, bytes, iterations] = args.slice(1).map(Number) as [number, number, number, number];
  await worker(rank, port, bytes, iterations);
} else {
  await main();
}
