import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nn, SGD } from "@fulmen/core";
import { afterAll, describe, expect, it } from "vitest";
import { Fabric, findFreePort } from "../src";

const dir = mkdtempSync(join(tmpdir(), "fulmen-ddp-"));

/** Whether `port` can be listened on right now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface RunSummary {
  weights: Record<string, number[]>;
  tensorCounts: number[];
  worldSize: number;
  ranks: number[];
  nested: { a: number; b: number[] };
}

function train(devices: number, optimizer: string, compression?: string, bucketMb?: number): RunSummary[] {
  const out = join(dir, `${optimizer}-${devices}-${compression ?? "f32"}-${bucketMb ?? 25}.json`);
  const args = [join(__dirname, "fixtures/ddp-train.mjs"), String(devices), optimizer, out];
  if (compression !== undefined) args.push(compression);
  const env = bucketMb === undefined ? process.env : { ...process.env, BUCKET_MB: String(bucketMb) };
  const run = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 120_000, env });
  expect(run.status, run.stderr).toBe(0);
  const read = (p: string) => JSON.parse(readFileSync(p, "utf8")) as RunSummary;
  return [read(out), ...Array.from({ length: devices - 1 }, (_, r) => read(`${out}.rank${r + 1}`))];
}

function maxDifference(a: RunSummary, b: RunSummary): number {
  let worst = 0;
  for (const [key, values] of Object.entries(a.weights)) {
    for (const [i, v] of values.entries()) worst = Math.max(worst, Math.abs(v - b.weights[key]![i]!));
  }
  return worst;
}

describe("DDP across real processes (fabric.launch starts the ranks)", () => {
  for (const optimizer of ["sgd", "adamw"]) {
    const single = () => train(1, optimizer)[0]!;
    for (const devices of optimizer === "sgd" ? [2] : [2, 4]) {
      it(`${devices} ranks with batch b equal one process with batch ${devices}·b (${optimizer}, clipping, accumulation)`, () => {
        const reference = single();
        // The 4-rank run sends its gradients in several small buckets (0.0002 MiB: three buckets for this model).
        const ranks = train(devices, optimizer, undefined, devices === 4 ? 0.0002 : undefined);
        expect(ranks[0]!.worldSize).toBe(devices);
        const rankSum = (devices * (devices - 1)) / 2;
        for (const r of ranks) expect(r.nested).toEqual({ a: rankSum, b: [rankSum, 2 * devices] });
        expect(ranks[0]!.ranks).toEqual(Array.from({ length: devices }, (_, r) => r));
        expect(maxDifference(reference, ranks[0]!)).toBeLessThan(1e-5);
        // Every rank holds the same weights, bit for bit, and no step leaks tensors.
        for (const other of ranks.slice(1)) expect(maxDifference(ranks[0]!, other)).toBe(0);
        for (const r of ranks) expect(new Set(r.tensorCounts).size).toBe(1);
      });
    }
  }

  it("bf16 gradient compression trains close to, but not exactly like, float32 gradients", () => {
    const reference = train(1, "adamw")[0]!;
    const [compressed, other] = train(2, "adamw", "bf16");
    const difference = maxDifference(reference, compressed!);
    expect(difference).toBeGreaterThan(0);
    expect(difference).toBeLessThan(1e-2);
    expect(maxDifference(compressed!, other!)).toBe(0);
  });
});

describe("fulmen run (the fabric run CLI)", () => {
  const cli = join(__dirname, "../dist/cli.js");

  it("starts the ranks itself; the script trains exactly as with fabric.launch", async () => {
    const reference = train(1, "sgd")[0]!;
    const out = join(dir, "cli-run.json");
    const port = String(await findFreePort());
    const args = [
      cli,
      "run",
      "--devices",
      "2",
      "--main-port",
      port,
      join(__dirname, "fixtures/ddp-train.mjs"),
    ];
    const run = spawnSync(process.execPath, [...args, "2", "sgd", out], {
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(readFileSync(out, "utf8")) as RunSummary;
    expect(result.ranks).toEqual([0, 1]);
    expect(maxDifference(reference, result)).toBeLessThan(1e-5);
  });

  it("keeps every rank's output, and a failing rank stops the others with its exit code", () => {
    const dir = mkdtempSync(join(tmpdir(), "fulmen-exit-rank-"));
    const run = spawnSync(
      process.execPath,
      [cli, "run", "--devices", "2", join(__dirname, "fixtures/exit-rank.mjs")],
      {
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, FULMEN_TEST_DIR: dir },
      },
    );
    rmSync(dir, { recursive: true, force: true });
    expect(run.status).toBe(7);
    expect(run.stdout).toMatch(/rank 0 of 2 \(local 0\) says hello/);
    expect(run.stdout).toMatch(/rank 1 of 2 \(local 1\) says hello/);
    expect(run.stderr).toMatch(/rank 1: something went wrong/);
    expect(run.stderr).toMatch(/\[fulmen\] rank 1 \(pid \d+\) exited with code 7; stopping the other ranks/);
  });

  it("explains its flags and rejects unknown ones", () => {
    const help = spawnSync(process.execPath, [cli, "run", "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--main-port PORT/);
    const bad = spawnSync(process.execPath, [cli, "run", "--gpus", "2", "x.js"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/Unknown option '--gpus'/);
  });
});

describe("scheduler launches start the same script unchanged", () => {
  async function launchAs(kind: string, envOf: (rank: number) => Record<string, string>) {
    const out = join(dir, `${kind}.json`);
    const ranks = [0, 1].map(
      (rank) =>
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = spawn(
            process.execPath,
            [join(__dirname, "fixtures/ddp-train.mjs"), "2", "sgd", out],
            // Only the scheduler's own variables: no Fulmen or Lightning ones.
            { env: { PATH: process.env.PATH ?? "", ...envOf(rank) }, stdio: ["ignore", "ignore", "pipe"] },
          );
          let stderr = "";
          child.stderr.on("data", (c: Buffer) => {
            stderr += c.toString();
          });
          child.on("exit", (code) => resolve({ code, stderr }));
        }),
    );
    for (const r of await Promise.all(ranks)) expect(r.code, r.stderr).toBe(0);
    return JSON.parse(readFileSync(out, "utf8")) as RunSummary;
  }

  it("srun (SLURM's variables) and mpirun (Open MPI's) each give the same training as one process", async () => {
    const reference = train(1, "sgd")[0]!;
    // SLURM's port derives from the job id (15000 + its last four digits): pick an id whose port is free now.
    let jobId = "";
    for (let attempt = 0; attempt < 50 && jobId === ""; attempt++) {
      const candidate = 1000000 + Math.floor(Math.random() * 9000);
      if (await portIsFree(15000 + (candidate % 10000))) jobId = String(candidate);
    }
    const slurm = await launchAs("slurm", (rank) => ({
      SLURM_NTASKS: "2",
      SLURM_NTASKS_PER_NODE: "2",
      SLURM_NNODES: "1",
      SLURM_PROCID: String(rank),
      SLURM_LOCALID: String(rank),
      SLURM_NODEID: "0",
      SLURM_NODELIST: "localhost",
      SLURM_JOB_ID: jobId,
      SLURM_JOB_NAME: "train",
    }));
    expect(slurm.ranks).toEqual([0, 1]);
    expect(maxDifference(reference, slurm)).toBeLessThan(1e-5);
    const mpiPort = String(await findFreePort());
    const mpi = await launchAs("mpi", (rank) => ({
      OMPI_COMM_WORLD_SIZE: "2",
      OMPI_COMM_WORLD_RANK: String(rank),
      OMPI_COMM_WORLD_LOCAL_RANK: String(rank),
      OMPI_COMM_WORLD_LOCAL_SIZE: "2",
      MASTER_PORT: mpiPort,
    }));
    expect(maxDifference(reference, mpi)).toBeLessThan(1e-5);
  });
});

describe("a rank killed mid-training", () => {
  it("takes the others down within the timeout, naming the dead rank; the last checkpoint stays loadable", async () => {
    const run = join(dir, "fault");
    spawnSync("mkdir", ["-p", run]);
    const main = spawn(process.execPath, [join(__dirname, "fixtures/ddp-fault.mjs"), run], {
      env: { ...process.env, FULMEN_COLLECTIVE_TIMEOUT_MS: "10000" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    main.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => main.on("exit", (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (
      !(existsSync(join(run, "last.ckpt")) && existsSync(join(run, "pid.rank1"))) &&
      Date.now() < deadline
    )
      await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 300));
    process.kill(Number(readFileSync(join(run, "pid.rank1"), "utf8")), "SIGKILL");
    const killedAt = Date.now();
    const code = await exited;
    expect(code).not.toBe(0);
    expect(Date.now() - killedAt).toBeLessThan(12_000);
    // The launcher (or, if rank 0 was inside a collective, Gloo) names the dead rank.
    expect(stderr).toMatch(/rank 1 (is gone|\(pid \d+\) was killed by SIGKILL)/);
    const fabric = new Fabric({ accelerator: "cpu" });
    await fabric.launch();
    const model = new nn.Linear(4, 2);
    const [m, opt] = fabric.setup(model, new SGD(model, { lr: 0.01 }));
    const state: Record<string, unknown> = { model: m, optimizer: opt, step: 0 };
    fabric.load(join(run, "last.ckpt"), state);
    expect((state.step as number) % 3).toBe(0);
    expect(state.step as number).toBeGreaterThan(0);
  });
});
