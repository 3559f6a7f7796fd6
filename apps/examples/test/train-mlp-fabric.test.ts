import { tf } from "@fulmen/core";
import { describe, expect, it } from "vitest";
import { loadMnist } from "../src/data/mnist";
import { trainMlpWithFabric } from "../src/train-mlp-fabric";
import { fastestAccelerator } from "./fastest-accelerator";

describe("pnpm example (MNIST with Fabric)", () => {
  it("reaches over 90% test accuracy in two epochs on the fastest accelerator", async () => {
    const { train, test } = loadMnist();
    const lines: string[] = [];
    const result = await trainMlpWithFabric(train, test, {
      epochs: 2,
      batchSize: 64,
      maxLr: 3e-3,
      seed: 42,
      log: (l) => lines.push(l),
    });
    expect(result.accelerator).toBe(fastestAccelerator());
    expect(result.testAccuracy).toBeGreaterThan(0.9);
    expect(lines).toHaveLength(2);
    await tf.setBackend("cpu");
  });
});
