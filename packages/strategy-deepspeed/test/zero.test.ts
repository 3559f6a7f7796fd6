import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { emulatedCudaEnvironment } from "@fulmen/cuda-testbed";
import { afterAll, describe, expect, it } from "vitest";
import {
  expectBytes,
  expectSameAsDdp,
  maxWeightDifference,
  shardedProject,
} from "../../../tooling/test-helpers/sharded-project";

// A user's project: core, fabric and this package installed; the script asks for the strategy by name.
const project = shardedProject([
  "core",
  "fabric",
  "precision",
  "accelerator-cuda",
  "accelerator-host",
  "strategy-deepspeed",
]);
afterAll(() => project.remove());

/** ZeRO-3 whose parameters of at most 16 elements stay whole. */
const stage3 = { config: { zero_optimization: { stage: 3, stage3_param_persistence_threshold: 16 } } };

describe("DeepSpeed ZeRO stages 1, 2 and 3 across real processes", () => {
  for (const devices of [2, 4]) {
    it(`${devices} ranks: every stage trains exactly like DDP (AdamW, clipping, accumulation, dropout, a tied weight), without leaks`, () => {
      const ddp = project.train({ strategy: "ddp", devices });
      for (const strategy of ["deepspeed_stage_1", "deepspeed_stage_2"]) {
        const ranks = project.train({ strategy, devices });
        expect(ranks[0]!.name).toBe("deepspeed");
        expectSameAsDdp(ddp, ranks, `${strategy} on ${devices} ranks`);
      }
      // Stage 3 with a persistence threshold of 16 elements: the biases stay whole, the weights are sharded
      // (DeepSpeed's default of 1e5 would keep every parameter of this small model whole).
      expectSameAsDdp(ddp, project.train({ deepspeed: stage3, devices }), `stage 3 on ${devices} ranks`);
      // ZeRO-3 with the model made under fabric.initModule({ emptyInit: true }), materialised module by module.
      const empty = project.train({ deepspeed: stage3, devices, emptyInit: true });
      expectSameAsDdp(ddp, empty, `stage 3 with emptyInit on ${devices} ranks`);
      // Two parameter groups (decay and no decay, two learning rates) whose parameters share flat parameters.
      const ddpGroups = project.train({ strategy: "ddp", devices, groups: true });
      expectSameAsDdp(
        ddpGroups,
        project.train({ strategy: "deepspeed_stage_1", devices, groups: true }),
        "stage 1, two groups",
      );
      expectSameAsDdp(
        ddpGroups,
        project.train({ deepspeed: stage3, devices, groups: true }),
        "stage 3, two groups",
      );
      // By name, with the default threshold (every parameter whole here).
      if (devices === 2)
        expectSameAsDdp(ddp, project.train({ strategy: "deepspeed_stage_3", devices }), "by name");
    });
  }

  it("on the host engine, whose tensors' arrays are recycled from step to step: stages 2 and 3 train exactly like DDP there", () => {
    const ddp = project.train({ strategy: "ddp", devices: 2, accelerator: "host" });
    expect(ddp[0]!.accelerator).toBe("host");
    for (const [label, run] of [
      ["stage 2", { strategy: "deepspeed_stage_2" }],
      ["stage 3", { deepspeed: stage3 }],
      [
        "stage 3 without overlap_comm",
        { deepspeed: { config: { zero_optimization: { stage: 3, overlap_comm: false } } } },
      ],
    ] as const)
      expectSameAsDdp(ddp, project.train({ ...run, devices: 2, accelerator: "host" }), `host, ${label}`);
  });

  it("each rank holds ZeRO's bytes right after optimizer.step(): DDP 16Ψ, stage 1 8Ψ+8Ψ/N, stage 2 4Ψ+12Ψ/N, stage 3 16Ψ/N", () => {
    const formulas: Array<[string, number, (psi: number, n: number) => number]> = [
      ["ddp", 2, (psi) => 16 * psi],
      ["deepspeed_stage_1", 2, (psi, n) => 8 * psi + (8 * psi) / n],
      ["deepspeed_stage_2", 2, (psi, n) => 4 * psi + (12 * psi) / n],
      ["deepspeed_stage_3", 2, (psi, n) => (16 * psi) / n],
      ["deepspeed_stage_1", 4, (psi, n) => 8 * psi + (8 * psi) / n],
      ["deepspeed_stage_2", 4, (psi, n) => 4 * psi + (12 * psi) / n],
      ["deepspeed_stage_3", 4, (psi, n) => (16 * psi) / n],
    ];
    for (const [strategy, devices, formula] of formulas)
      expectBytes(
        project.train({ strategy, devices, model: "big", steps: 1 }),
        formula,
        `${strategy} on ${devices} ranks`,
      );
  });

  it("checkpoints hold the full state: saved sharded on 2 ranks, resumed on 4 (stages 1 and 3) and 1, as if never stopped", () => {
    const ckpt = join(project.folder, "zero.ckpt");
    const reference = project.train({
      strategy: "deepspeed_stage_2",
      devices: 2,
      saveAt: 3,
      ckpt,
      dropout: 0,
    });
    // The file is the ordinary one: a DDP run written without interruption ends the same way.
    const ddp = project.train({ strategy: "ddp", devices: 2, dropout: 0 });
    expect(maxWeightDifference(ddp[0]!, reference[0]!)).toBeLessThan(1e-5);
    for (const [label, run] of [
      ["stage 1", { strategy: "deepspeed_stage_1" }],
      ["stage 3", { deepspeed: stage3 }],
    ] as const) {
      const resumedOn4 = project.train({ ...run, devices: 4, resumeAt: 3, ckpt, dropout: 0 });
      expect(maxWeightDifference(reference[0]!, resumedOn4[0]!), label).toBeLessThan(1e-5);
    }
    const resumedOn1 = project.train({ strategy: "auto", devices: 1, resumeAt: 3, ckpt, dropout: 0 });
    expect(maxWeightDifference(reference[0]!, resumedOn1[0]!)).toBeLessThan(1e-5);
  });

  it('stateDictType "sharded": a checkpoint folder in DeepSpeed\'s layout saved on 2 ranks (ZeRO-3, ZeRO-2) resumes on 4 (stage 1) and on 1, and consolidates to one file', () => {
    const ckpt = join(project.folder, "zero-folder.ckpt");
    const reference = project.train({
      deepspeed: { ...stage3, stateDictType: "sharded" },
      devices: 2,
      saveAt: 3,
      ckpt,
      dropout: 0,
    });
    expect(statSync(ckpt).isDirectory()).toBe(true);
    // DeepSpeed's layout: every rank's model states (its parameter shards) and optimizer states, beside the
    // metadata; each name carries the save's generation.
    const layout = (folder: string) =>
      readdirSync(folder)
        .map((name) => name.replace(/\.[0-9a-f]{12}\.safetensors$/, ""))
        .sort();
    expect(layout(ckpt)).toEqual([
      "fulmen-sharded.json",
      "zero_pp_rank_0_mp_rank_00_model_states",
      "zero_pp_rank_0_mp_rank_00_optim_states",
      "zero_pp_rank_1_mp_rank_00_model_states",
      "zero_pp_rank_1_mp_rank_00_optim_states",
    ]);
    // Stage 2: the whole weights once, from rank 0, and every rank's optimizer states; resumes on 1 process.
    const ckpt2 = join(project.folder, "zero2-folder.ckpt");
    const stage2 = project.train({
      deepspeed: { stage: 2, stateDictType: "sharded" },
      devices: 2,
      saveAt: 3,
      ckpt: ckpt2,
      dropout: 0,
    });
    expect(layout(ckpt2)).toEqual([
      "fulmen-sharded.json",
      "mp_rank_00_model_states",
      "zero_pp_rank_0_mp_rank_00_optim_states",
      "zero_pp_rank_1_mp_rank_00_optim_states",
    ]);
    const stage2On1 = project.train({ strategy: "auto", devices: 1, resumeAt: 3, ckpt: ckpt2, dropout: 0 });
    expect(maxWeightDifference(stage2[0]!, stage2On1[0]!)).toBeLessThan(1e-5);
    const on4 = project.train({ strategy: "deepspeed_stage_1", devices: 4, resumeAt: 3, ckpt, dropout: 0 });
    expect(maxWeightDifference(reference[0]!, on4[0]!)).toBeLessThan(1e-5);
    const single = join(project.folder, "zero-consolidated.ckpt");
    const cli = join(__dirname, "../../fabric/dist/cli.js");
    const run = spawnSync(process.execPath, [cli, "consolidate", ckpt, single], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    const on1 = project.train({ strategy: "auto", devices: 1, resumeAt: 3, ckpt: single, dropout: 0 });
    expect(maxWeightDifference(reference[0]!, on1[0]!)).toBeLessThan(1e-5);
  });

  it("offload, on an accelerator with memory of its own (the GPU engine on the CUDA emulator): the same training, and only the gradient shards (stage 3) or the parameters and gradient shards (stage 2) stay on the device; parameters under the persistence threshold stay whole", () => {
    const cuda = { accelerator: "cuda", env: emulatedCudaEnvironment() };
    // No persistent parameters (DeepSpeed's default threshold of 1e5 elements would keep every one of this
    // small model's whole).
    const config = { zero_optimization: { stage: 3, stage3_param_persistence_threshold: 0 } };
    const kept = project.train({ deepspeed: { config }, devices: 2, steps: 3, ...cuda });
    const offloaded = project.train({
      deepspeed: { config, offloadOptimizer: true, offloadParameters: true },
      devices: 2,
      steps: 3,
      ...cuda,
    });
    for (const [i, loss] of offloaded[0]!.losses.entries())
      expect(Math.abs(loss - kept[0]!.losses[i]!)).toBeLessThan(1e-5);
    expect(maxWeightDifference(kept[0]!, offloaded[0]!)).toBeLessThan(1e-5);
    // What is left in the engine's tensors right after optimizer.step(): ZeRO-3 4Ψ/N (the gradient shards; the
    // parameter shards and AdamW's moments are in host memory), ZeRO-2 4Ψ + 4Ψ/N. (The small model: the CUDA
    // emulator is slow; its 435 parameters pad little.)
    expectBytes(offloaded, (psi, n) => (4 * psi) / n, "stage 3 offload", 400);
    const stage2 = project.train({ strategy: "deepspeed_stage_2_offload", devices: 2, steps: 3, ...cuda });
    expectBytes(stage2, (psi, n) => 4 * psi + (4 * psi) / n, "stage 2 offload", 400);
    expect(maxWeightDifference(kept[0]!, stage2[0]!)).toBeLessThan(1e-5);
    // By name, with DeepSpeed's default threshold: every parameter here is small, so all stay whole on the
    // device beside the gradient shards, and train the same.
    const persistent = project.train({
      strategy: "deepspeed_stage_3_offload",
      devices: 2,
      steps: 3,
      ...cuda,
    });
    expectBytes(persistent, (psi, n) => 4 * psi + (4 * psi) / n, "stage 3 offload, persistent", 400);
    expect(maxWeightDifference(kept[0]!, persistent[0]!)).toBeLessThan(1e-5);
  });

  it("a DeepSpeed JSON config sets the stage and clips by its gradient_clipping, as DDP with clipping does (overlap_comm on and off)", () => {
    const ddp = project.train({ strategy: "ddp", devices: 2 });
    for (const overlap of [true, false]) {
      const ranks = project.train({
        devices: 2,
        deepspeedConfig: {
          zero_optimization: { stage: 3, overlap_comm: overlap, stage3_param_persistence_threshold: 0 },
          gradient_clipping: 0.1,
          train_micro_batch_size_per_gpu: 8,
        },
      });
      expect(ranks[0]!.name).toBe("deepspeed");
      for (const [i, loss] of ranks[0]!.losses.entries())
        expect(Math.abs(loss - ddp[0]!.losses[i]!)).toBeLessThan(1e-5);
      expect(maxWeightDifference(ddp[0]!, ranks[0]!)).toBeLessThan(1e-5);
      expect(maxWeightDifference(ranks[0]!, ranks[1]!)).toBe(0);
    }
  });

  it("fp16 from the config is DeepSpeed's loss scaler (hysteresis, window, minimum), skipping the steps that overflow on any rank as DDP does", () => {
    // 2^24 overflows float16 gradients: the first overflow is tolerated (hysteresis 2), then the scale halves
    // until the gradients fit. DDP with the same scaler skips the same steps and ends with the same weights.
    const scaler = { initScale: 2 ** 24, growthInterval: 1000, hysteresis: 2, minScale: 1 };
    const ddp = project.train({ strategy: "ddp", devices: 2, scaler });
    const fp16 = { enabled: true, initial_scale_power: 24, loss_scale_window: 1000, hysteresis: 2 };
    const zero = project.train({
      devices: 2,
      precision: "16-mixed",
      deepspeedConfig: { zero_optimization: { stage: 3 }, fp16, gradient_clipping: 0.1 },
    });
    expect(ddp[0]!.taken).toContain(false);
    expect(zero[0]!.taken).toEqual(ddp[0]!.taken);
    expect(maxWeightDifference(ddp[0]!, zero[0]!)).toBeLessThan(1e-5);
    expect(maxWeightDifference(zero[0]!, zero[1]!)).toBe(0);
    // hysteresis 1 backs off at the first overflow: one step fewer is skipped.
    const eager = project.train({
      devices: 2,
      precision: "16-mixed",
      deepspeedConfig: {
        zero_optimization: { stage: 2 },
        fp16: { ...fp16, hysteresis: 1 },
        gradient_clipping: 0.1,
      },
    });
    expect(eager[0]!.taken.filter((t) => !t).length).toBe(zero[0]!.taken.filter((t) => !t).length - 1);
  });
});
