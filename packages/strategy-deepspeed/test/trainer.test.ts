import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { maxWeightDifference, shardedProject } from "../../../tooling/test-helpers/sharded-project";

/** A user's project with core, fabric, trainer and this package installed; the Trainer names the strategy. */
const project = shardedProject(["core", "fabric", "trainer", "strategy-deepspeed"]);
afterAll(() => project.remove());
let ddpFit: ReturnType<typeof project.fit> | null = null;

describe("Trainer with DeepSpeed's ZeRO on 2 real processes", () => {
  // "zero3-threshold-16": stage 3 whose weights are sharded (the model's are above 16 elements, its biases not).
  for (const strategy of ["deepspeed_stage_2", "zero3-threshold-16"]) {
    it(`${strategy} fits like DDP (accumulation, clipping), checkpoints, and resumes from last.ckpt as if never stopped`, () => {
      ddpFit ??= project.fit("ddp", "ddp", 2, 4);
      const ddp = ddpFit;
      const zero = project.fit(`zero-${strategy}`, strategy, 2, 4);
      expect(zero[0]!.strategy).toBe("deepspeed");
      expect(zero[0]!.step).toBe(ddp[0]!.step);
      expect(maxWeightDifference(ddp[0]!, zero[0]!)).toBeLessThan(1e-5);
      expect(maxWeightDifference(zero[0]!, zero[1]!)).toBe(0);
      expect(zero[0]!.numTensors).toBe(zero[1]!.numTensors);
      // Two epochs, then two more from the checkpoint: the same weights as the uninterrupted fit.
      const first = project.fit(`first-${strategy}`, strategy, 2, 2);
      const resumed = project.fit(
        `resumed-${strategy}`,
        strategy,
        2,
        4,
        join(project.folder, `first-${strategy}/ckpt/last.ckpt`),
      );
      expect(first[0]!.step).toBe(zero[0]!.step / 2);
      expect(resumed[0]!.step).toBe(zero[0]!.step);
      expect(maxWeightDifference(zero[0]!, resumed[0]!)).toBeLessThan(1e-5);
      expect(maxWeightDifference(resumed[0]!, resumed[1]!)).toBe(0);
    });
  }
});
