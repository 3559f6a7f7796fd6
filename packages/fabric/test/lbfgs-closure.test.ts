import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backward, LBFGS, type LBFGSOptions, manualSeed, nn, SGD, tf } from "@fulmen/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Fabric } from "../src/index";

// A small least-squares problem: y ≈ x·w + b over 6 rows of 3 features.
const X = [
  [1, 2, 0],
  [0, 1, 1],
  [2, 0, 1],
  [1, 1, 1],
  [0, 3, 1],
  [1, 0, 2],
];
const Y = [1, 2, 3, 4, 5, 6];
const OPTIONS: Partial<LBFGSOptions> = { lineSearchFn: "strong_wolfe", maxIter: 8 };
const STEPS = 3;

function makeModel(): nn.Linear {
  manualSeed(11);
  return new nn.Linear(3, 1);
}

function weights(model: nn.Module): number[][] {
  return model.parameters().map((p) => Array.from(p.data.dataSync()));
}

const dir = mkdtempSync(join(tmpdir(), "fulmen-lbfgs-"));

beforeAll(async () => {
  await new Fabric({ accelerator: "cpu" }).launch();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("LBFGS through Fabric's optimizer.step(closure)", () => {
  it("reaches exactly the parameters of core's LBFGS with the equivalent closure", () => {
    let stepsSeen = 0;
    const fabric = new Fabric({
      accelerator: "cpu",
      callbacks: [{ onAfterOptimizerStep: () => (stepsSeen += 1) }],
    });
    const x = tf.tensor2d(X);
    const y = tf.tensor2d(Y, [6, 1]);

    const plain = makeModel();
    const plainOpt = new LBFGS(plain, OPTIONS);
    const plainLosses: number[] = [];
    for (let i = 0; i < STEPS; i++) {
      const loss = plainOpt.step(() => {
        plainOpt.zeroGrad();
        return backward(() => nn.mseLoss(plain.forward(x), y) as tf.Scalar, plain);
      })!;
      plainLosses.push(loss.dataSync()[0]!);
      loss.dispose();
    }

    const model = makeModel();
    const [fm, fo] = fabric.setup(model, new LBFGS(model, OPTIONS));
    const fabricLosses: number[] = [];
    let evaluations = 0;
    const closure = () => {
      evaluations += 1;
      fo.zeroGrad();
      return fabric.backward(() => nn.mseLoss(fm.forward(x), y));
    };
    fo.step(closure)!.dispose();
    const before = tf.memory().numTensors;
    for (let i = 1; i < STEPS; i++) {
      const loss = fo.step(closure) as tf.Scalar;
      fabricLosses.push(loss.dataSync()[0]!);
      loss.dispose();
    }
    // LBFGS's state has its full set of tensors after the first step; later steps leak none.
    expect(tf.memory().numTensors).toBe(before);
    expect(weights(fm)).toEqual(weights(plain));
    expect(fabricLosses).toEqual(plainLosses.slice(1));
    // The line search evaluated the closure several times per step; the callbacks fired once per step.
    expect(evaluations).toBeGreaterThan(STEPS);
    expect(stepsSeen).toBe(STEPS);
    for (const m of [plain, model]) for (const p of m.parameters()) p.dispose();
    plainOpt.disposeState();
    tf.dispose([x, y]);
  });

  it("passes a closure to other optimizers too, returning its loss", () => {
    const fabric = new Fabric({ accelerator: "cpu" });
    const x = tf.tensor2d(X);
    const y = tf.tensor2d(Y, [6, 1]);
    const model = makeModel();
    const [fm, fo] = fabric.setup(model, new SGD(model, { lr: 0.01 }));
    const loss = fo.step(() => {
      fo.zeroGrad();
      return fabric.backward(() => nn.mseLoss(fm.forward(x), y));
    }) as tf.Scalar;
    const plain = makeModel();
    const plainOpt = new SGD(plain, { lr: 0.01 });
    const plainLoss = backward(() => nn.mseLoss(plain.forward(x), y) as tf.Scalar, plain);
    plainOpt.step();
    expect(loss.dataSync()[0]).toBe(plainLoss.dataSync()[0]);
    expect(weights(fm)).toEqual(weights(plain));
    tf.dispose([loss, plainLoss, x, y]);
  });

  it("refuses LBFGS under 16-mixed loss scaling, as Lightning does", () => {
    const fabric = new Fabric({ accelerator: "cpu", precision: "16-mixed" });
    const model = makeModel();
    const [fm, fo] = fabric.setup(model, new LBFGS(model, OPTIONS));
    const x = tf.tensor2d(X);
    const y = tf.tensor2d(Y, [6, 1]);
    const before = weights(fm);
    expect(() =>
      fo.step(() => {
        fo.zeroGrad();
        return fabric.backward(() => nn.mseLoss(fm.forward(x), y));
      }),
    ).toThrow(/Native AMP .* and the LBFGS optimizer are not compatible.*"32-true" or "bf16-mixed"/);
    expect(weights(fm)).toEqual(before);
    tf.dispose([x, y]);
  });

  it("names a precision plugin that steps without running the closure", () => {
    const fabric = new Fabric({ accelerator: "cpu" });
    const model = makeModel();
    const [, fo] = fabric.setup(model, new SGD(model, { lr: 0.01 }));
    // A plugin written before closures existed: it ignores the parameter.
    const precision = fabric.precision as unknown as { optimizerStep: (o: SGD) => boolean };
    precision.optimizerStep = (o) => {
      o.step();
      return true;
    };
    expect(() => fo.step(() => 0)).toThrow(/stepped without calling the closure/);
  });

  it("keeps every DDP rank equal (2 ranks, each closure call all-reduces the gradients)", () => {
    const run = (devices: number) => {
      const out = join(dir, `lbfgs-${devices}.json`);
      const proc = spawnSync(
        process.execPath,
        [join(__dirname, "fixtures/ddp-lbfgs.mjs"), String(devices), out],
        {
          encoding: "utf8",
          timeout: 120_000,
        },
      );
      expect(proc.status, proc.stderr).toBe(0);
      type Summary = { weights: Record<string, number[]>; evaluations: number; tensorCounts: number[] };
      const read = (p: string) => JSON.parse(readFileSync(p, "utf8")) as Summary;
      return [read(out), ...Array.from({ length: devices - 1 }, (_, r) => read(`${out}.rank${r + 1}`))];
    };
    const [single] = run(1);
    const [rank0, rank1] = run(2);
    expect(rank1!.weights).toEqual(rank0!.weights);
    expect(rank1!.evaluations).toBe(rank0!.evaluations);
    expect(rank0!.evaluations).toBeGreaterThan(3);
    expect(rank0!.tensorCounts[2]).toBe(rank0!.tensorCounts[1]);
    // Half the rows on each rank, averaged: the one-process optimum up to float rounding.
    for (const [key, values] of Object.entries(single!.weights))
      for (const [i, v] of values.entries()) expect(rank0!.weights[key]![i]).toBeCloseTo(v, 3);
  });
});
