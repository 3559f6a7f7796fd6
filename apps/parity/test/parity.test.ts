import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { GoldenCase, GoldenFile } from "../src/index";

const root = resolve(__dirname, "../../..");
const fixture = join(root, "packages/core/test/fixtures/torch-optim.json");
const cli = join(root, "apps/parity/dist/cli.js");

function parity(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
}

describe("pnpm parity", () => {
  it("replays every PyTorch case of the optimizer fixture within tolerance", () => {
    const run = parity(fixture);
    expect(run.stdout.trim().split("\n").at(-1)).toBe("64 passed, 0 failed");
    expect(run.status).toBe(0);
  });

  it("writes Fulmen's results in the golden format with --out", () => {
    const dir = mkdtempSync(join(tmpdir(), "parity-"));
    const out = join(dir, "results.json");
    execFileSync(process.execPath, [cli, "--out", out, fixture]);
    const golden = JSON.parse(readFileSync(fixture, "utf8")) as GoldenFile;
    const results = JSON.parse(readFileSync(out, "utf8")) as GoldenFile;
    expect(results.cases).toHaveLength(golden.cases.length);
    results.cases.forEach((c, i) => {
      const g = golden.cases[i]!;
      expect(c.kind).toBe(g.kind);
      expect(Object.keys(c).sort()).toEqual(Object.keys(g).sort());
    });
    // The results are Fulmen's own numbers: close to PyTorch's, not copies of them.
    const adam = results.cases[4]!.params_after_each_step as number[][][];
    const golden4 = golden.cases[4]!.params_after_each_step as number[][][];
    expect(adam[11]![1]).not.toBe(golden4[11]![1]);
    expect(
      Math.abs((adam[11]![1] as unknown as number[])[0]! - (golden4[11]![1] as unknown as number[])[0]!),
    ).toBeLessThan(1e-5);
  });

  it("fails a case whose expected numbers were made with other hyperparameters", () => {
    const golden = JSON.parse(readFileSync(fixture, "utf8")) as GoldenFile;
    const tampered = structuredClone(golden);
    (tampered.cases[7]!.hparams as Record<string, unknown>).lr = 0.011;
    (tampered.cases[14]!.hparams as Record<string, unknown>).gamma = 0.6;
    const dir = mkdtempSync(join(tmpdir(), "parity-"));
    const path = join(dir, "tampered.json");
    writeFileSync(path, JSON.stringify(tampered));
    const run = parity(path);
    expect(run.stdout).toContain("62 passed, 2 failed");
    expect(run.status).toBe(1);
  });

  it("replays Adadelta, Adamax, NAdam, RAdam (parameter groups too) and LBFGS's closure steps", () => {
    const golden = JSON.parse(readFileSync(fixture, "utf8")) as GoldenFile;
    const run = parity(fixture);
    for (const name of ["Adadelta", "Adamax", "NAdam", "RAdam"]) {
      const cases = golden.cases.filter((c) => c.kind === "optimizer" && c.optimizer === name);
      expect(cases.length).toBeGreaterThanOrEqual(4);
      expect(cases.some((c) => "param_groups" in c)).toBe(true);
      expect(run.stdout).toMatch(new RegExp(`PASS +\\d+ optimizer ${name} .*groups`));
    }
    const lbfgs = golden.cases.filter((c) => c.kind === "lbfgs");
    expect(lbfgs.some((c) => (c.hparams as Record<string, unknown>).line_search_fn === "strong_wolfe")).toBe(
      true,
    );
    expect(lbfgs.some((c) => !("line_search_fn" in (c.hparams as Record<string, unknown>)))).toBe(true);
    expect(run.stdout.match(/PASS +\d+ lbfgs /g)).toHaveLength(lbfgs.length);
  });

  it("fails new-optimizer cases replayed with other hyperparameters or without the line search", () => {
    const golden = JSON.parse(readFileSync(fixture, "utf8")) as GoldenFile;
    const tampered = structuredClone(golden);
    const find = (pred: (c: GoldenCase) => boolean) => tampered.cases.find(pred)!;
    (find((c) => c.optimizer === "Adadelta").hparams as Record<string, unknown>).rho = 0.85;
    (find((c) => c.optimizer === "NAdam").hparams as Record<string, unknown>).momentum_decay = 0.1;
    const radamGroups = find((c) => c.optimizer === "RAdam" && "param_groups" in c);
    (radamGroups.param_groups as Array<Record<string, unknown>>)[1]!.lr = 0.04;
    // A case whose line search extrapolates (lr 0.05): fixed steps of lr end elsewhere.
    const wolfe = find((c) => {
      const hp = c.hparams as Record<string, unknown>;
      return c.kind === "lbfgs" && hp.line_search_fn === "strong_wolfe" && hp.lr === 0.05;
    });
    delete (wolfe.hparams as Record<string, unknown>).line_search_fn;
    const path = join(mkdtempSync(join(tmpdir(), "parity-")), "tampered-new.json");
    writeFileSync(path, JSON.stringify(tampered));
    const run = parity(path);
    expect(run.stdout).toContain("60 passed, 4 failed");
    expect(run.status).toBe(1);
  });

  it("accepts other hyperparameters through PyTorch's snake_case names and reports unknown ones", () => {
    const file: GoldenFile = {
      cases: [
        {
          kind: "scheduler",
          scheduler: "StepLR",
          base_lr: 1,
          hparams: { step_size: 2, gamma: 0.5 },
          lrs: [1, 1, 0.5, 0.5, 0.25],
        },
        { kind: "scheduler", scheduler: "NoSuchLR", base_lr: 1, hparams: {}, lrs: [1] },
        {
          kind: "optimizer",
          optimizer: "SGD",
          hparams: { lr: 0.1, momentum_typo: 1 },
          shapes: [[1]],
          init: [[0]],
          grads: [],
          params_after_each_step: [],
        },
      ],
    };
    const dir = mkdtempSync(join(tmpdir(), "parity-"));
    const path = join(dir, "custom.json");
    writeFileSync(path, JSON.stringify(file));
    const run = parity(path);
    expect(run.stdout).toContain("unknown scheduler 'NoSuchLR'");
    expect(run.stdout).toContain("unknown option 'momentumTypo'");
    expect(run.stdout).toContain("1 passed, 2 failed");
  });

  it("explains its usage when given no file", () => {
    const run = parity();
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("usage: pnpm parity");
  });

  it("replays PyTorch's training trajectories through Fabric, bf16 autocast included", () => {
    const trajectories = join(root, "packages/core/test/fixtures/torch-trajectories.json");
    const dir = mkdtempSync(join(tmpdir(), "parity-"));
    const out = join(dir, "trajectories.json");
    const run = parity("--out", out, trajectories);
    expect(run.stdout).toContain("PASS   4 trajectory sgd_nesterov_bf16_autocast (bf16-mixed)");
    expect(run.stdout.trim().split("\n").at(-1)).toBe("5 passed, 0 failed");
    const results = JSON.parse(readFileSync(out, "utf8")) as GoldenFile;
    const keys = [
      "micro_batch_losses",
      "lr_at_each_optimizer_step",
      "clip_total_norms",
      "first_micro_batch_grads",
      "final_state",
    ];
    for (const c of results.cases) for (const k of keys) expect(c).toHaveProperty(k);
  });

  it("fails the bf16 recipe when it is trained in plain float32", () => {
    const golden = JSON.parse(
      readFileSync(join(root, "packages/core/test/fixtures/torch-trajectories.json"), "utf8"),
    ) as GoldenFile;
    const plain = structuredClone(golden);
    plain.cases = [plain.cases[4]!];
    delete (plain.cases[0]!.recipe as Record<string, unknown>).autocast;
    const dir = mkdtempSync(join(tmpdir(), "parity-"));
    const path = join(dir, "plain.json");
    writeFileSync(path, JSON.stringify(plain));
    const run = parity(path);
    expect(run.stdout).toContain("0 passed, 1 failed");
  });

  it("replays the same files on the wasm accelerator", () => {
    const trajectories = join(root, "packages/core/test/fixtures/torch-trajectories.json");
    const run = parity("--accelerator", "wasm", trajectories, fixture);
    expect(run.stdout).toContain("5 cases, wasm, via fabric");
    expect(run.stdout.trim().split("\n").at(-1)).toBe("69 passed, 0 failed");
  });

  it("replays the trajectories as LightningModules through the Trainer, with --out", () => {
    const trajectories = join(root, "packages/core/test/fixtures/torch-trajectories.json");
    const out = join(mkdtempSync(join(tmpdir(), "parity-")), "trainer.json");
    const run = parity("--via", "trainer", "--out", out, trajectories);
    expect(run.stdout).toContain("via Trainer (bf16-mixed)");
    expect(run.stdout.trim().split("\n").at(-1)).toBe("5 passed, 0 failed");
    const results = JSON.parse(readFileSync(out, "utf8")) as GoldenFile;
    expect((results.cases[1]!.clip_total_norms as number[]).length).toBe(12);
    expect(parity("--via", "nope", trajectories).status).toBe(2);
  });

  for (const via of ["fabric", "trainer"]) {
    it(`replays the trajectories with DDP on 2 real processes via ${via}, equal to PyTorch's single process`, () => {
      const trajectories = join(root, "packages/core/test/fixtures/torch-trajectories.json");
      const out = join(mkdtempSync(join(tmpdir(), "parity-")), `ddp-${via}.json`);
      const run = parity("--devices", "2", "--via", via, "--out", out, trajectories);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain(`via ${via}, ddp on 2 ranks`);
      expect(run.stdout).toMatch(/adamw_onecycle_clip_accum.*ddp × 2\): max abs error/);
      // Rank 0 alone reports.
      expect(run.stdout.match(/passed, /g)).toHaveLength(1);
      expect(run.stdout.trim().split("\n").at(-1)).toBe("5 passed, 0 failed");
      const results = JSON.parse(readFileSync(out, "utf8")) as GoldenFile;
      expect((results.cases[1]!.micro_batch_losses as number[]).length).toBe(24);
    });
  }
  for (const [strategy, via] of [
    ["fsdp", "fabric"],
    ["deepspeed_stage_3", "trainer"],
    ["deepspeed_stage_2", "fabric"],
  ] as const) {
    it(`replays the trajectories with --strategy ${strategy} on 2 real processes via ${via}, equal to PyTorch's`, () => {
      const trajectories = join(root, "packages/core/test/fixtures/torch-trajectories.json");
      const run = parity("--devices", "2", "--strategy", strategy, "--via", via, trajectories);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain(`via ${via}, ${strategy} on 2 ranks`);
      expect(run.stdout).toMatch(new RegExp(`adamw_onecycle_clip_accum.*${strategy} × 2\\): max abs error`));
      // bf16-mixed's autocast regions are replayed when a sharded unit recomputes its forward.
      expect(run.stdout).toMatch(
        new RegExp(`PASS +4 trajectory sgd_nesterov_bf16_autocast.*bf16-mixed, ${strategy} × 2`),
      );
      expect(run.stdout.trim().split("\n").at(-1)).toBe("5 passed, 0 failed");
    });
  }

  it("rejects a bad --devices", () => {
    expect(
      parity("--devices", "0", join(root, "packages/core/test/fixtures/torch-trajectories.json")).status,
    ).toBe(2);
  });

  it("replays both golden formats on the native engine's host build (--accelerator host)", () => {
    const trajectories = join(root, "packages/core/test/fixtures/torch-trajectories.json");
    const run = parity("--accelerator", "host", trajectories, fixture);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("5 cases, host, via fabric");
    expect(run.stdout.trim().split("\n").at(-1)).toBe("69 passed, 0 failed");
  });

  // accelerator "cuda" with FULMEN_CUDA_EMULATE=1: the GPU engine's own kernels and engine on the host CUDA
  // emulator, through the cuda accelerator's own setup — the GPU code path end to end, on any machine.
  it("replays both golden formats on the GPU engine's code (--accelerator cuda, CUDA emulator), DDP included", () => {
    const trajectories = join(root, "packages/core/test/fixtures/torch-trajectories.json");
    // FULMEN_CUDA_EMULATE=1 alone: the CLI, a tool of this repository, finds the test bed's emulator itself.
    const env = { ...process.env, FULMEN_CUDA_EMULATE: "1", FULMEN_CUDA_EMULATION_ADDON: "" };
    const run = spawnSync(process.execPath, [cli, "--accelerator", "cuda", trajectories, fixture], {
      encoding: "utf8",
      env,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("5 cases, cuda, via fabric");
    expect(run.stdout.trim().split("\n").at(-1)).toBe("69 passed, 0 failed");
    const ddp = spawnSync(process.execPath, [cli, "--accelerator", "cuda", "--devices", "2", trajectories], {
      encoding: "utf8",
      env,
    });
    expect(ddp.status, ddp.stderr).toBe(0);
    expect(ddp.stdout).toContain("cuda, via fabric, ddp on 2 ranks");
    expect(ddp.stdout.trim().split("\n").at(-1)).toBe("5 passed, 0 failed");
    // FSDP's gathering, recomputation and reduce-scattering on the GPU engine's tensors.
    const fsdp = spawnSync(
      process.execPath,
      [cli, "--accelerator", "cuda", "--devices", "2", "--strategy", "fsdp", trajectories],
      { encoding: "utf8", env },
    );
    expect(fsdp.status, fsdp.stderr).toBe(0);
    expect(fsdp.stdout.trim().split("\n").at(-1)).toBe("5 passed, 0 failed");
  }, 180_000);
});
