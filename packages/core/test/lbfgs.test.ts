import { describe, expect, it } from "vitest";
import { backward, LBFGS, type LBFGSOptions, type OptimizerStateDict, Parameter, tf } from "../src/index";
import { decodeSkeleton, disposeDecoded, encodeState } from "../src/plugin";

// LBFGS's iterations are checked against PyTorch by the parity replay of test/fixtures/torch-optim.json
// (apps/parity, kind "lbfgs"); these tests cover its API, state and memory.

const A = [
  [1, 2, 0],
  [0, 1, 1],
  [2, 0, 1],
  [1, 1, 1],
  [0, 3, 1],
  [1, 0, 2],
];
const B = [1, 2, 3, 4, 5, 6];

/** mean((A x - b)^2) over a parameter x of shape [3], and the closure LBFGS.step takes. */
function leastSquares(options: Partial<LBFGSOptions> = {}, start = [0, 0, 0]) {
  const x = new Parameter(start);
  const a = tf.tensor2d(A);
  const b = tf.tensor2d(B, [6, 1]);
  const optimizer = new LBFGS([x], options);
  const closure = () => {
    optimizer.zeroGrad();
    return backward(() => tf.mean(tf.square(tf.sub(tf.matMul(a, tf.reshape(x.data, [3, 1])), b))), [x]);
  };
  const dispose = () => {
    optimizer.disposeState();
    x.dispose();
    a.dispose();
    b.dispose();
  };
  return { x, optimizer, closure, dispose };
}

/** The exact minimiser: the solution of the normal equations AᵀA x = Aᵀb (Cramer's rule on 3×3). */
function normalSolution(): number[] {
  const m = [0, 1, 2].map((i) => [0, 1, 2].map((j) => A.reduce((s, row) => s + row[i]! * row[j]!, 0)));
  const v = [0, 1, 2].map((i) => A.reduce((s, row, k) => s + row[i]! * B[k]!, 0));
  const det = (q: number[][]) =>
    q[0]![0]! * (q[1]![1]! * q[2]![2]! - q[1]![2]! * q[2]![1]!) -
    q[0]![1]! * (q[1]![0]! * q[2]![2]! - q[1]![2]! * q[2]![0]!) +
    q[0]![2]! * (q[1]![0]! * q[2]![1]! - q[1]![1]! * q[2]![0]!);
  const d = det(m);
  return [0, 1, 2].map((c) => det(m.map((row, r) => row.map((value, k) => (k === c ? v[r]! : value)))) / d);
}

describe("LBFGS", () => {
  for (const lineSearchFn of [null, "strong_wolfe"] as const) {
    it(`minimises a least-squares problem (lineSearchFn ${lineSearchFn})`, () => {
      const { x, optimizer, closure, dispose } = leastSquares({ lineSearchFn, maxIter: 50 });
      for (let i = 0; i < 3; i++) optimizer.step(closure)!.dispose();
      const expected = normalSolution();
      Array.from(x.data.dataSync()).forEach((v, i) => {
        expect(v).toBeCloseTo(expected[i]!, 3);
      });
      dispose();
    });
  }

  it("returns the closure's first loss and counts evaluations and iterations in its state", () => {
    const { optimizer, closure, dispose } = leastSquares({ maxIter: 4 });
    const first = closure();
    const initial = first.dataSync()[0]!;
    first.dispose();
    const loss = optimizer.step(closure)!;
    expect(loss.dataSync()[0]).toBeCloseTo(initial, 6);
    loss.dispose();
    const state = optimizer.stateDict().state[0]!;
    // Without a line search: one evaluation per iteration, none after the last.
    expect(state.funcEvals).toBe(4);
    expect(state.nIter).toBe(4);
    expect(Object.keys(state).sort()).toEqual(
      [
        "d",
        "funcEvals",
        "hDiag",
        "nIter",
        "oldDirs",
        "oldStps",
        "prevFlatGrad",
        "prevLoss",
        "ro",
        "t",
      ].sort(),
    );
    const k = (state.ro as tf.Tensor).shape[0]!;
    expect(k).toBe(3);
    expect((state.oldDirs as tf.Tensor).shape).toEqual([k, 3]);
    dispose();
  });

  it("resumes exactly from its state dict, through the checkpoint format", () => {
    const straight = leastSquares({ lineSearchFn: "strong_wolfe", maxIter: 2, historySize: 2 }, [3, -1, 2]);
    for (let i = 0; i < 4; i++) straight.optimizer.step(straight.closure)!.dispose();

    const first = leastSquares({ lineSearchFn: "strong_wolfe", maxIter: 2, historySize: 2 }, [3, -1, 2]);
    for (let i = 0; i < 2; i++) first.optimizer.step(first.closure)!.dispose();
    const { tensors, skeleton } = encodeState({ optimizer: first.optimizer });
    const decoded = decodeSkeleton(skeleton, tensors) as { optimizer: OptimizerStateDict };

    const resumed = leastSquares({ lineSearchFn: "strong_wolfe", maxIter: 2, historySize: 2 });
    resumed.x.assign(first.x.data);
    resumed.optimizer.loadStateDict(decoded.optimizer);
    disposeDecoded(decoded);
    for (let i = 0; i < 2; i++) resumed.optimizer.step(resumed.closure)!.dispose();
    expect(Array.from(resumed.x.data.dataSync())).toEqual(Array.from(straight.x.data.dataSync()));
    expect(resumed.optimizer.stateDict().state[0]!.nIter).toBe(
      straight.optimizer.stateDict().state[0]!.nIter,
    );
    for (const run of [straight, first, resumed]) run.dispose();
  });

  it("saves an empty history (one iteration) and refuses a state of other parameters", () => {
    const { optimizer, closure, dispose } = leastSquares({ maxIter: 1 });
    optimizer.step(closure)!.dispose();
    const state = optimizer.stateDict();
    expect((state.state[0]!.oldDirs as tf.Tensor).shape).toEqual([0, 3]);
    const { tensors, skeleton } = encodeState({ optimizer });
    const decoded = decodeSkeleton(skeleton, tensors) as { optimizer: OptimizerStateDict };
    expect((decoded.optimizer.state[0]!.oldStps as tf.Tensor).shape).toEqual([0, 3]);
    disposeDecoded(decoded);

    const other = new LBFGS([new Parameter([1, 2, 3, 4])]);
    expect(() => other.loadStateDict(state)).toThrow(
      /state 'd' of parameter 0 has shape \[3\], expected \[4\]/,
    );
    dispose();
  });

  it("holds a constant number of tensors across steps", () => {
    for (const lineSearchFn of [null, "strong_wolfe"] as const) {
      const { optimizer, closure, dispose } = leastSquares({ lineSearchFn, maxIter: 3, historySize: 2 });
      optimizer.step(closure)!.dispose();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 4; i++) optimizer.step(closure)!.dispose();
      expect(tf.memory().numTensors).toBe(before);
      dispose();
    }
  });

  it("needs a closure that returns a scalar loss", () => {
    const { x, optimizer, dispose } = leastSquares();
    expect(() => optimizer.step()).toThrow(/LBFGS.step needs a closure/);
    x.setGrad(tf.ones([3]));
    expect(() => optimizer.step(() => tf.ones([2]))).toThrow(/a tensor of shape \[2\]/);
    expect(() => optimizer.step(() => "1")).toThrow(/got '1'/);
    dispose();
  });

  it("refuses parameter groups, unknown options and out-of-range values", () => {
    const a = new Parameter([1]);
    const b = new Parameter([2]);
    expect(() => new LBFGS([{ params: [a] }, { params: [b] }])).toThrow(/parameter groups/);
    expect(() => new LBFGS([a], { max_iter: 5 } as never)).toThrow(/did you mean 'maxIter'/);
    expect(() => new LBFGS([a], { maxIter: 0 })).toThrow(/invalid maxIter 0; it must be an integer >= 1/);
    expect(() => new LBFGS([a], { historySize: 2.5 })).toThrow(/invalid historySize 2.5/);
    expect(() => new LBFGS([a], { toleranceGrad: -1 })).toThrow(/invalid toleranceGrad/);
    expect(() => new LBFGS([a], { lineSearchFn: "backtracking" as never })).toThrow(
      /only "strong_wolfe" \(or null, for fixed steps\)/,
    );
    // PyTorch's default maxEval: maxIter * 5 // 4.
    expect(new LBFGS([a], { maxIter: 10 }).defaults.maxEval).toBe(12);
    expect(new LBFGS([a]).defaults.maxEval).toBe(25);
    a.dispose();
    b.dispose();
  });
});
