import { describe, expect, it } from "vitest";
import { FulmenError, nn, tf } from "../src/index";

// The margin and likelihood losses' numbers (every reduction, weights, kinks, the module forms) are checked against
// PyTorch 1.13 by the parity replay of test/fixtures/torch-layers-losses.json (gen_layers_losses.py). Here: what a
// golden file cannot hold (a distance callback), the errors, and tensor leaks.

const F = nn.functional;

function expectClose(actual: ArrayLike<number>, expected: readonly number[], tol = 2e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!));
    expect(err, `element ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(tol);
  }
}

/**
 * Differentiates `loss` once to warm up, then `repeats` more times, and expects tfjs's live tensor count not to
 * have moved (as accelerator-host's test helper of the same name).
 */
function expectFlatTensorCount(loss: () => tf.Scalar, repeats = 3): void {
  const step = () =>
    tf.tidy(() => {
      const { grads, value } = tf.variableGrads(loss);
      tf.dispose([value, ...Object.values(grads)]);
    });
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < repeats; i++) step();
  expect(tf.memory().numTensors).toBe(before);
}

/**
 * Expects `f` to throw a FulmenError matching `pattern`. It runs in a tidy scope, which frees the tensors its
 * arguments make; "refusals leave no tensor behind" checks the refusals on tensors made beforehand.
 */
function expectRefused(f: () => unknown, pattern: RegExp): void {
  expect(() => tf.tidy(f as () => void)).toThrow(FulmenError);
  expect(() => tf.tidy(f as () => void)).toThrow(pattern);
}

describe("tripletMarginWithDistanceLoss with a distance callback (PyTorch 1.13's numbers)", () => {
  const anchor = [
    [0.5, -1.0, 2.0],
    [1.5, 0.25, -0.75],
  ];
  const positive = [
    [0.0, -0.5, 1.0],
    [1.0, 1.25, -0.25],
  ];
  const negative = [
    [1.0, 0.5, 2.5],
    [-0.5, 0.0, 0.5],
  ];
  const l1 = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.abs(tf.sub(x, y)), -1);
  // 1 - cosine_similarity, as PyTorch 1.13 computes it: x·y / sqrt(max(|x|²·|y|², eps²)).
  const cosineDistance = (x: tf.Tensor, y: tf.Tensor) => {
    const dot = tf.sum(tf.mul(x, y), -1);
    const norms = tf.mul(tf.sum(tf.square(x), -1), tf.sum(tf.square(y), -1));
    return tf.sub(1, tf.div(dot, tf.sqrt(tf.maximum(norms, 1e-16))));
  };

  /** The loss, and the gradients of its sum for anchor, positive and negative. */
  function run(loss: (a: tf.Tensor, p: tf.Tensor, n: tf.Tensor) => tf.Tensor) {
    return tf.tidy(() => {
      const inputs = [anchor, positive, negative].map((v) => tf.tensor2d(v));
      const value = Array.from(loss(inputs[0]!, inputs[1]!, inputs[2]!).dataSync());
      const grads = tf
        .grads((a: tf.Tensor, p: tf.Tensor, n: tf.Tensor) => tf.sum(loss(a, p, n)))(inputs)
        .map((g) => Array.from(g.dataSync()));
      return { value, grads };
    });
  }

  it("an L1 distance: loss and gradients of the three inputs", () => {
    const { value, grads } = run((a, p, n) =>
      F.tripletMarginWithDistanceLoss(a, p, n, { distanceFunction: l1, margin: 2, reduction: "none" }),
    );
    expectClose(value, [1.5, 0.5]);
    expectClose(grads[0]!, [2, 0, 2, 0, -2, 0]);
    expectClose(grads[1]!, [-1, 1, -1, -1, 1, 1]);
    expectClose(grads[2]!, [-1, -1, -1, 1, 1, -1]);
  });

  it("with swap: where d(a, n) = d(p, n) torch.min halves the gradient between them", () => {
    const { value, grads } = run((a, p, n) =>
      F.tripletMarginWithDistanceLoss(a, p, n, {
        distanceFunction: l1,
        margin: 3,
        swap: true,
        reduction: "sum",
      }),
    );
    expectClose(value, [4]);
    expectClose(grads[0]!, [2, 0, 2, 0.5, -1.5, -0.5]);
    expectClose(grads[1]!, [-1, 1, -1, -1.5, 0.5, 1.5]);
    expectClose(grads[2]!, [-1, -1, -1, 1, 1, -1]);
  });

  it("a cosine distance through the module form", () => {
    const m = new nn.TripletMarginWithDistanceLoss({ distanceFunction: cosineDistance, margin: 0.5 });
    const { value, grads } = run((a, p, n) => m.forward(a, p, n));
    expectClose(value, [0.1604594886302948]);
    expectClose(grads[0]!, [0.08820956945419312, 0.1203756257891655, 0.038135409355163574, 0, 0, 0]);
    expectClose(grads[1]!, [-0.09758999943733215, 0, 0, 0, 0, 0]);
    expectClose(grads[2]!, [-0.013280313462018967, -0.10624253749847412, 0.026560649275779724, 0, 0, 0]);
  });

  it("frees the callback's tensors and refuses a callback that returns no tensor", () => {
    const a = tf.variable(tf.tensor2d(anchor));
    const p = tf.tensor2d(positive);
    const n = tf.tensor2d(negative);
    expectFlatTensorCount(() =>
      F.tripletMarginWithDistanceLoss(a, p, n, { distanceFunction: cosineDistance, swap: true }),
    );
    expectRefused(
      () => F.tripletMarginWithDistanceLoss(a, p, n, { distanceFunction: (() => 1) as never }),
      /returned number for \(anchor, positive\), not a tf\.Tensor/,
    );
    expectRefused(
      () => F.tripletMarginWithDistanceLoss(a, p, n, { distanceFunction: "l2" as never }),
      /distanceFunction must be a function/,
    );
    expectRefused(
      () => F.tripletMarginWithDistanceLoss(a, p, n, { distance_function: l1 } as never),
      /did you mean 'distanceFunction'/,
    );
    expectRefused(() => F.tripletMarginWithDistanceLoss(a, p, tf.ones([2, 4])), /must be 1-D or more/);
    tf.dispose([a, p, n]);
  });
});

describe("the margin and likelihood losses refuse bad input with the problem and the fix", () => {
  const x = tf.tensor2d([
    [0.5, -0.5, 0.25, 1.5],
    [1, 2, -1, 0],
  ]);

  it("multiMarginLoss: targets out of range, float targets, p, weight and shape", () => {
    expectRefused(
      () => F.multiMarginLoss(x, tf.tensor1d([0, 4], "int32")),
      /target 4 is out of range for 4 classes; class indices must be in \[0, 4\)/,
    );
    expectRefused(() => F.multiMarginLoss(x, [-1, 0]), /target -1 is out of range/);
    expectRefused(() => F.multiMarginLoss(x, tf.tensor1d([0, 1])), /must be int32.*tf\.cast/);
    expectRefused(() => F.multiMarginLoss(x, [0, 1, 2]), /target of shape \[3\] does not fit input \[2,4\]/);
    expectRefused(() => F.multiMarginLoss(x, [0, 1], { p: 3 as never }), /invalid p 3; it must be 1 or 2/);
    expectRefused(
      () => F.multiMarginLoss(x, [0, 1], { weight: tf.ones([3]) }),
      /weight has 3 entries but there are 4/,
    );
    expectRefused(
      () => F.multiMarginLoss(tf.ones([2, 3, 4]), [0, 1]),
      /expected a non-empty input of \[N, C\]/,
    );
    expect(() => new nn.MultiMarginLoss({ p: 3 as never })).toThrow(/1 or 2/);
    expect(() => new nn.MultiMarginLoss({ weight: tf.ones([2, 2]) })).toThrow(
      /weight must be one-dimensional/,
    );
  });

  it("multilabelMarginLoss: targets out of [-1, C) and a target shape that differs from the input's", () => {
    expectRefused(
      () => F.multilabelMarginLoss(x, tf.tensor2d([0, -2, 1, 1, 2, -1, 0, 0], [2, 4], "int32")),
      /target -2 is out of range for 4 classes.*ended by -1/,
    );
    expectRefused(
      () =>
        F.multilabelMarginLoss(
          x,
          tf.tensor2d(
            [
              [0, 4, -1, 0],
              [1, -1, 0, 0],
            ],
            undefined,
            "int32",
          ),
        ),
      /target 4/,
    );
    expectRefused(
      () => F.multilabelMarginLoss(x, [0, 1, -1, 0]),
      /target shape \[4\] differs from input shape \[2,4\]/,
    );
  });

  it("gaussianNllLoss: a negative variance (as PyTorch raises) and a variance shape PyTorch refuses", () => {
    const t = tf.zerosLike(x);
    expectRefused(() => F.gaussianNllLoss(x, t, tf.tensor1d([1, -0.5])), /var has negative entries/);
    expectRefused(
      () => F.gaussianNllLoss(x, t, tf.ones([4])),
      /var of shape \[4\] does not fit input \[2,4\].*\[2,1\]/,
    );
    expectRefused(() => F.gaussianNllLoss(x, t, tf.ones([2]), { eps: Number.NaN }), /invalid eps/);
    t.dispose();
  });

  it("shape mismatches, unknown options and unknown reductions", () => {
    expectRefused(
      () => F.softMarginLoss(x, tf.ones([3, 4])),
      /input shape \[2,4\] and target shape \[3,4\] do not broadcast/,
    );
    expectRefused(() => F.hingeEmbeddingLoss(x, tf.ones([3])), /do not broadcast/);
    expectRefused(
      () => F.poissonNllLoss(x, tf.ones([2, 4]), { log_input: false } as never),
      /did you mean 'logInput'/,
    );
    expectRefused(
      () => F.multilabelSoftMarginLoss(x, tf.ones([2, 4]), { weight: tf.ones([3]) }),
      /weight of shape \[3\] does not broadcast/,
    );
    expectRefused(() => F.multilabelSoftMarginLoss(tf.scalar(1), tf.scalar(1)), /class dimension/);
    for (const f of [
      () => F.softMarginLoss(x, x, { reduction: "avg" as never }),
      () => F.multilabelSoftMarginLoss(x, x, { reduction: "avg" as never }),
      () => F.multiMarginLoss(x, [0, 1], { reduction: "avg" as never }),
      () =>
        F.multilabelMarginLoss(
          x,
          [
            [0, -1, 0, 0],
            [1, -1, 0, 0],
          ],
          { reduction: "avg" as never },
        ),
      () => F.hingeEmbeddingLoss(x, x, { reduction: "avg" as never }),
      () => F.poissonNllLoss(x, x, { reduction: "avg" as never }),
      () => F.gaussianNllLoss(x, x, tf.onesLike(x), { reduction: "avg" as never }),
      () => F.tripletMarginWithDistanceLoss(x, x, x, { reduction: "avg" as never }),
    ]) {
      expectRefused(f, /unknown reduction 'avg'; use "mean", "sum", "none"/);
    }
    expect(() => new nn.PoissonNLLLoss({ log_input: true } as never)).toThrow(/did you mean 'logInput'/);
    expect(() => new nn.GaussianNLLLoss({ var: 1 } as never)).toThrow(/unknown option 'var'/);
    expect(() => new nn.HingeEmbeddingLoss({ p: 1 } as never)).toThrow(FulmenError);
  });
});

describe("refusals leave no tensor behind", () => {
  it("throws after making tensors inside the loss, and frees them", () => {
    const x = tf.tensor2d([
      [0.5, -0.5, 0.25, 1.5],
      [1, 2, -1, 0],
    ]);
    const t = tf.zerosLike(x);
    const badVar = tf.tensor1d([1, -0.5]);
    const badLabels = tf.tensor2d([0, -2, 1, 1, 2, -1, 0, 0], [2, 4], "int32");
    const wide = tf.ones([2, 5]);
    const before = tf.memory().numTensors;
    const refusals: Array<() => unknown> = [
      () => F.multiMarginLoss(x, [0, 4]),
      () => F.multiMarginLoss(x, [0, 1], { weight: badVar }),
      () => F.multilabelMarginLoss(x, badLabels),
      () => F.gaussianNllLoss(x, t, badVar),
      () => F.softMarginLoss(x, wide),
      () => F.gaussianNllLoss(x, wide, t),
      () => F.tripletMarginWithDistanceLoss(x, x, x, { distanceFunction: () => null as never }),
      () => {
        let calls = 0;
        // one distance per triplet for (anchor, positive), one per feature for (anchor, negative)
        const distanceFunction = (a: tf.Tensor) => tf.sum(a, calls++ === 0 ? 1 : 0);
        return F.tripletMarginWithDistanceLoss(x, x, x, { distanceFunction });
      },
    ];
    for (const refuse of refusals) expect(refuse).toThrow(FulmenError);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, t, badVar, badLabels, wide]);
  });
});

describe("PyTorch's gradients at the kinks", () => {
  it("multiMarginLoss counts a term only where margin - x_y + x_i > 0; hinge passes the gradient at x = margin", () => {
    tf.tidy(() => {
      const g = tf.grad((v: tf.Tensor) => F.multiMarginLoss(v, [0]))(tf.tensor2d([[1, 0, 0.5]]));
      expectClose(g.dataSync(), [-1 / 3, 0, 1 / 3]);
      const h = tf.grad((v: tf.Tensor) =>
        F.hingeEmbeddingLoss(v, tf.tensor1d([-1, -1, -1]), { reduction: "sum" }),
      )(tf.tensor1d([0, 1, 2]));
      expectClose(h.dataSync(), [-1, -1, 0]);
    });
  });

  it("gaussianNllLoss passes the gradient straight through the clamp at eps, as PyTorch's no_grad clamp does", () => {
    tf.tidy(() => {
      const [dx, , dv] = tf.grads((a: tf.Tensor, b: tf.Tensor, v: tf.Tensor) => F.gaussianNllLoss(a, b, v))([
        tf.tensor1d([0, 1, 2]),
        tf.zeros([3]),
        tf.tensor1d([1e-8, 0, 2]),
      ]);
      // PyTorch 1.13: tensor([0, 3.3333e+05, 0.3333]) and tensor([1.6667e+05, -1.6667e+11, -0.0833])
      expectClose(
        Array.from(dx!.dataSync()).map((g) => g / 1e5),
        [0, 3.3333333, 0.33333333e-5],
        1e-5,
      );
      expectClose(
        Array.from(dv!.dataSync()).map((g) => g / 1e11),
        [1.6666667e-6, -1.6666667, -0.0833333e-11],
        1e-5,
      );
    });
  });

  it("a target reaching a label comparison (hinge, poisson's Stirling mask) can be differentiated", () => {
    tf.tidy(() => {
      const x = tf.tensor1d([0.5, 2, -1]);
      const dt = tf.grad((t: tf.Tensor) => F.hingeEmbeddingLoss(x, t))(tf.tensor1d([1, -1, 1]));
      expect(Array.from(dt.dataSync())).toEqual([0, 0, 0]);
      const dp = tf.grad((t: tf.Tensor) => F.poissonNllLoss(x, t, { full: true, reduction: "sum" }))(
        tf.tensor1d([0.5, 2, 3]),
      );
      // -x + log(t) + 1/(2t) where t > 1, -x where t <= 1
      expectClose(dp.dataSync(), [-0.5, -2 + Math.log(2) + 0.25, 1 + Math.log(3) + 1 / 6], 1e-5);
    });
  });
});

describe("no tensor leaks", () => {
  it("keeps tf.memory().numTensors flat over repeated forward and backward passes of every new loss", () => {
    const x = tf.variable(
      tf.tensor2d([
        [0.5, -0.5, 0.25, 1.5],
        [1, 2, -1, 0],
        [0.1, -0.3, 0.7, 0.2],
      ]),
    );
    const labels = tf.tensor2d([
      [1, -1, 1, -1],
      [-1, -1, 1, 1],
      [1, 0, -1, 1],
    ]);
    const binary = tf.tensor2d([
      [1, 0, 1, 0],
      [0, 0, 1, 1],
      [1, 1, 0, 1],
    ]);
    const classes = tf.tensor1d([0, 3, 2], "int32");
    const multi = tf.tensor2d(
      [
        [3, 0, -1, 1],
        [0, 1, 2, 3],
        [2, -1, 0, 0],
      ],
      undefined,
      "int32",
    );
    const counts = tf.tensor2d([
      [0, 1, 2, 3],
      [4, 0.5, 1, 2],
      [1, 1, 5, 0],
    ]);
    const variance = tf.tensor1d([0.5, 1e-9, 2]);
    const weight = tf.tensor1d([0.5, 1, 1.5, 2]);
    const modules = [
      new nn.SoftMarginLoss(),
      new nn.MultiLabelSoftMarginLoss({ weight }),
      new nn.MultiMarginLoss({ p: 2, margin: 0.5, weight }),
      new nn.MultiLabelMarginLoss({ reduction: "sum" }),
      new nn.HingeEmbeddingLoss({ margin: 0.5 }),
      new nn.PoissonNLLLoss({ full: true }),
      new nn.GaussianNLLLoss({ full: true }),
      new nn.TripletMarginWithDistanceLoss({ swap: true }),
    ];
    const [soft, multiSoft, multiMargin, multiLabel, hinge, poisson, gaussian, triplet] = modules as [
      nn.SoftMarginLoss,
      nn.MultiLabelSoftMarginLoss,
      nn.MultiMarginLoss,
      nn.MultiLabelMarginLoss,
      nn.HingeEmbeddingLoss,
      nn.PoissonNLLLoss,
      nn.GaussianNLLLoss,
      nn.TripletMarginWithDistanceLoss,
    ];
    expectFlatTensorCount(() =>
      tf.addN([
        F.softMarginLoss(x, labels),
        F.multilabelSoftMarginLoss(x, binary, { weight }),
        F.multiMarginLoss(x, classes, { p: 2, weight }),
        F.multilabelMarginLoss(x, multi),
        F.hingeEmbeddingLoss(x, labels, { margin: 0.3 }),
        F.poissonNllLoss(x, counts, { full: true }),
        F.poissonNllLoss(tf.abs(x), counts, { logInput: false }),
        F.gaussianNllLoss(x, counts, variance, { full: true }),
        F.tripletMarginWithDistanceLoss(x, tf.reverse(x, 0), counts, { swap: true }),
        soft.forward(x, labels) as tf.Scalar,
        multiSoft.forward(x, binary) as tf.Scalar,
        multiMargin.forward(x, classes) as tf.Scalar,
        multiLabel.forward(x, multi) as tf.Scalar,
        hinge.forward(x, labels) as tf.Scalar,
        poisson.forward(x, counts) as tf.Scalar,
        gaussian.forward(x, counts, variance) as tf.Scalar,
        triplet.forward(x, counts, labels) as tf.Scalar,
      ]),
    );
    for (const m of modules) m.dispose();
    tf.dispose([x, labels, binary, classes, multi, counts, variance, weight]);
  });

  it("weighted modules keep their weight as PyTorch's buffer 'weight'", () => {
    const w = tf.tensor1d([1, 2, 3]);
    const m = new nn.MultiMarginLoss({ weight: w });
    expect(Object.keys(m.stateDict())).toEqual(["weight"]);
    expect(Object.keys(new nn.MultiLabelSoftMarginLoss().stateDict())).toEqual([]);
    m.dispose();
    w.dispose();
  });
});

describe("tripletMarginLoss with swap at a tie", () => {
  it("splits the gradient between both negative distances, as PyTorch's torch.min", () => {
    // torch 1.13: F.triplet_margin_loss(a, p, n, swap=True, margin=5.0) with p == a (d(a, n) == d(p, n))
    const a = tf.tensor2d([[1, 2, 3]]);
    const p = tf.tensor2d([[1, 2, 3]]);
    const n = tf.tensor2d([[0, 1, 5]]);
    const grads = tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
      nn.functional.tripletMarginLoss(x, y, z, { swap: true, margin: 5 }),
    )([a, p, n]);
    const expected = [
      [0.3732259273529053, 0.3732259273529053, 0.9855983257293701],
      [-0.7814745903015137, -0.7814745903015137, -0.16910219192504883],
      [0.4082486629486084, 0.4082486629486084, -0.8164961338043213],
    ];
    grads.forEach((g, i) => {
      Array.from(g.dataSync()).forEach((v, j) => {
        expect(v).toBeCloseTo(expected[i]![j]!, 6);
      });
    });
    tf.dispose([a, p, n, ...grads]);
  });
});
