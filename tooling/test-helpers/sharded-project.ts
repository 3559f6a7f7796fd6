import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect } from "vitest";

/** What one rank of `sharded-train.mjs` reports. */
export interface RunSummary {
  weights: Record<string, number[]>;
  losses: number[];
  norms: number[];
  /** Whether each optimizer step was taken. */
  taken: boolean[];
  tensorCounts: number[];
  bytesAfterStep: number[];
  /** `tf.memory().numBytesInDevice` after each step, on an accelerator with memory of its own (else null). */
  deviceBytesAfterStep: Array<number | null>;
  numParams: number;
  /** With `checkGradientFormat`: whether the first step's averaged gradients are bfloat16 / float16 values. */
  gradientFormats: { bfloat16: boolean; float16: boolean } | null;
  worldSize: number;
  name: string;
  /** The accelerator the run computed on. */
  accelerator: string;
}

/** What one rank of `sharded-fit.mjs` reports. */
export interface FitResult {
  weights: Record<string, number[]>;
  step: number;
  strategy: string;
  numTensors: number;
}

/** One run of `sharded-train.mjs` (see its header). */
export interface RunConfig {
  strategy?: string;
  fsdp?: {
    shardingStrategy?: string;
    policy?: "layers" | "blocks" | "size";
    checkpointing?: boolean;
    stateDictType?: "full" | "sharded";
    mixedPrecision?: Record<string, string>;
  };
  devices: number;
  /**
   * Machines, simulated on this one: a process per node (NODE_RANK 0…numNodes-1, meeting at 127.0.0.1), each
   * starting `devices` ranks. Default 1.
   */
  numNodes?: number;
  model?: "small" | "big";
  steps?: number;
  saveAt?: number;
  resumeAt?: number;
  ckpt?: string;
  /** Options of a DeepSpeedStrategy made by the script. */
  deepspeed?: Record<string, unknown>;
  /** A DeepSpeed config for a DeepSpeedStrategy (its gradient_clipping replaces the script's clipping). */
  deepspeedConfig?: Record<string, unknown>;
  /** Two optimizer parameter groups (matrices decayed; the rest not, at another learning rate). */
  groups?: boolean;
  /** The accelerator (default "cpu"). */
  accelerator?: string;
  /** Extra environment variables of the processes (FULMEN_CUDA_EMULATE). */
  env?: Record<string, string>;
  /** Make the model under fabric.initModule({ emptyInit: true }). */
  emptyInit?: boolean;
  /** Fabric's precision (default "32-true"). */
  precision?: string;
  /** GradScaler options: "16-mixed" with that loss scaler (needs @fulmen/precision in the project). */
  scaler?: Record<string, unknown>;
  /** Dropout probability in the small model's blocks (default 0.2). */
  dropout?: number;
  /** Report whether the first step's averaged gradients are bfloat16 / float16 values (`gradientFormats`). */
  checkGradientFormat?: boolean;
}

const PACKAGES = resolve(__dirname, "../../packages");

/**
 * A user's project in a temporary folder whose node_modules holds the named Fulmen packages, with the sharded
 * training script: strategies are asked for by name, and Fabric finds their packages there.
 */
export function shardedProject(packages: string[]) {
  const folder = mkdtempSync(join(tmpdir(), "fulmen-sharded-"));
  mkdirSync(join(folder, "node_modules/@fulmen"), { recursive: true });
  for (const name of packages)
    symlinkSync(join(PACKAGES, name), join(folder, "node_modules/@fulmen", name), "dir");
  for (const script of ["sharded-train.mjs", "sharded-fit.mjs"])
    copyFileSync(join(__dirname, script), join(folder, script));
  let runs = 0;
  /**
   * Runs a script of the project on real processes; it must succeed. With `numNodes` > 1, one launcher per
   * simulated node, side by side, with NODE_RANK set and a common MASTER_ADDR and MASTER_PORT.
   */
  const runScript = (args: string[], env: Record<string, string> = {}, numNodes = 1): void => {
    const nodes =
      numNodes === 1
        ? args
        : [
            "-e",
            'const { spawn } = require("node:child_process"); let failed = 0, left = Number(process.env.NODES);' +
              "for (let n = 0; n < Number(process.env.NODES); n++) spawn(process.execPath, process.argv.slice(1), " +
              '{ stdio: "inherit", env: { ...process.env, NODE_RANK: String(n) } }).on("exit", (code) => {' +
              "if (code !== 0) failed = code ?? 1; if (--left === 0) process.exit(failed); });",
            ...args,
          ];
    const nodeEnv =
      numNodes === 1
        ? {}
        : {
            NODES: String(numNodes),
            // What a user exports on every node of a multi-node job (see the store secret's docs).
            FULMEN_STORE_SECRET: randomBytes(32).toString("hex"),
            MASTER_ADDR: "127.0.0.1",
            MASTER_PORT: String(20_000 + ((process.pid * 7 + runs * 13) % 20_000)),
          };
    const run = spawnSync(process.execPath, nodes, {
      encoding: "utf8",
      timeout: 120_000,
      cwd: folder,
      env: { ...process.env, FULMEN_COLLECTIVE_TIMEOUT_MS: "60000", ...nodeEnv, ...env },
    });
    expect(run.status, run.stderr).toBe(0);
  };
  return {
    folder,
    /** Trains on real processes and returns every rank's summary. */
    train(config: RunConfig): RunSummary[] {
      const out = join(folder, `run-${runs++}.json`);
      const full = { model: "small", steps: 6, ...config, out };
      const { env, ...script } = full;
      runScript([join(folder, "sharded-train.mjs"), JSON.stringify(script)], env, config.numNodes);
      return readRanks<RunSummary>(config.devices * (config.numNodes ?? 1), (r) => `${out}.rank${r}`);
    },
    /**
     * Fits with the Trainer (`sharded-fit.mjs`) in `folder/name` and returns every rank's result; with `ckpt`,
     * the fit resumes from it.
     */
    fit(name: string, strategy: string, devices: number, maxEpochs: number, ckpt?: string): FitResult[] {
      const root = join(folder, name);
      mkdirSync(root, { recursive: true });
      const args = [join(folder, "sharded-fit.mjs"), strategy, String(devices), root, String(maxEpochs)];
      if (ckpt !== undefined) args.push(ckpt);
      runScript(args);
      return readRanks<FitResult>(devices, (r) => join(root, `result.rank${r}.json`));
    },
    remove(): void {
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** Every rank's JSON report. */
function readRanks<T>(devices: number, path: (rank: number) => string): T[] {
  return Array.from({ length: devices }, (_, r) => JSON.parse(readFileSync(path(r), "utf8")) as T);
}

/** The largest difference between two runs' final weights. */
export function maxWeightDifference(a: { weights: Record<string, number[]> }, b: typeof a): number {
  let worst = 0;
  for (const [key, values] of Object.entries(a.weights))
    for (const [i, v] of values.entries()) worst = Math.max(worst, Math.abs(v - b.weights[key]![i]!));
  return worst;
}

/**
 * Checks that a sharded run trained exactly like DDP: every rank's losses and gradient norms (before clipping)
 * within 1e-5 of DDP's, the final weights within 1e-5 and the same on every rank, and a flat tensor count.
 */
export function expectSameAsDdp(ddp: RunSummary[], ranks: RunSummary[], label: string): void {
  expect(ranks[0]!.worldSize, label).toBe(ddp.length);
  ranks.forEach((r, rank) => {
    for (const [i, loss] of r.losses.entries())
      expect(Math.abs(loss - ddp[rank]!.losses[i]!), `${label}: loss ${i}`).toBeLessThan(1e-5);
    for (const [i, norm] of r.norms.entries())
      expect(Math.abs(norm - ddp[rank]!.norms[i]!), `${label}: norm ${i}`).toBeLessThan(1e-5);
    expect(r.norms.every((norm) => norm > 0.1)).toBe(true); // so clipping changed every step
    expect(maxWeightDifference(ddp[0]!, r), label).toBeLessThan(1e-5);
    expect(maxWeightDifference(ranks[0]!, r), label).toBe(0);
    expect(new Set(r.tensorCounts).size, `${label}: tensor counts ${r.tensorCounts}`).toBe(1);
  });
}

/**
 * Checks every rank's bytes right after optimizer.step() against a formula of Ψ (parameters) and N (ranks), ±10%;
 * the model must have more than `minParams` parameters (so that padding and scalars are negligible).
 */
export function expectBytes(
  ranks: RunSummary[],
  formula: (psi: number, n: number) => number,
  label: string,
  minParams = 1_000_000,
): void {
  const psi = ranks[0]!.numParams;
  expect(psi).toBeGreaterThan(minParams);
  for (const r of ranks)
    for (const bytes of r.bytesAfterStep)
      expect(Math.abs(bytes / formula(psi, ranks.length) - 1), label).toBeLessThan(0.1);
}

/**
 * Asks for `strategy` by name in a project that has only core and fabric installed, and returns what Fabric
 * said (the error's message) and the exit status (3 when it refused).
 */
export function askWithoutPackage(strategy: string): {
  status: number | null;
  message: string;
  stderr: string;
} {
  const project = shardedProject(["core", "fabric"]);
  try {
    const script = join(project.folder, "main.mjs");
    writeFileSync(
      script,
      'import { Fabric } from "@fulmen/fabric";\n' +
        `try { new Fabric({ accelerator: "cpu", devices: 2, strategy: ${JSON.stringify(strategy)} }); } catch (e) { console.log(e.message); process.exit(3); }\n`,
    );
    const run = spawnSync(process.execPath, [script], { encoding: "utf8", cwd: project.folder });
    return { status: run.status, message: run.stdout, stderr: run.stderr };
  } finally {
    project.remove();
  }
}
