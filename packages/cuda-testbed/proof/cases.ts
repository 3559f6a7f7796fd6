import { Module, nn, tf } from "@fulmen/core";

// Shared by the vitest suites (over host memory) and the GPU proof (proof/gpu-proof.ts, on a GPU): the same
// cases, so what CI checks every run is what a GPU is held to.

/**
 * Kernel cases the device backend runs natively, each compared with tfjs's cpu backend: bit for bit over host
 * memory (except GEMMs — matmul and convolutions — whose summation order is BLAS's, and sums over several runs of
 * axes, rounded after each run), to float32 precision on a GPU.
 */
export const KERNEL_CASES: Array<[string, () => tf.Tensor]> = [
  [
    "add with broadcasting",
    () => tf.add(tf.randomNormal([3, 1, 5], 0, 1, "float32", 1), tf.randomNormal([4, 1], 0, 1, "float32", 2)),
  ],
  [
    "division by zero and NaN",
    () => tf.div(tf.tensor([1, -1, 0, Number.NaN, 3]), tf.tensor([0, 0, 0, 1, Number.POSITIVE_INFINITY])),
  ],
  [
    "squared difference",
    () =>
      tf.squaredDifference(
        tf.randomNormal([6, 7], 0, 1, "float32", 3),
        tf.randomNormal([7], 0, 1, "float32", 4),
      ),
  ],
  ["maximum with NaN", () => tf.maximum(tf.tensor([1, Number.NaN, -3]), tf.tensor([2, 0, Number.NaN]))],
  ["greater (bool out)", () => tf.greater(tf.randomNormal([5, 3], 0, 1, "float32", 5), tf.scalar(0))],
  [
    "exp, log, sigmoid, tanh, erf",
    () => tf.erf(tf.tanh(tf.sigmoid(tf.log(tf.exp(tf.randomNormal([999], 0, 2, "float32", 6)))))),
  ],
  ["relu and rsqrt", () => tf.rsqrt(tf.relu(tf.randomNormal([257], 0, 1, "float32", 7)))],
  ["softmax", () => tf.softmax(tf.randomNormal([7, 33], 0, 3, "float32", 8))],
  [
    "batched matmul with transposes",
    () =>
      tf.matMul(
        tf.randomNormal([3, 9, 5], 0, 1, "float32", 9),
        tf.randomNormal([3, 7, 9], 0, 1, "float32", 10),
        true,
        true,
      ),
  ],
  [
    "matmul with a shared operand",
    () =>
      tf.matMul(
        tf.randomNormal([4, 6, 8], 0, 1, "float32", 11),
        tf.randomNormal([8, 3], 0, 1, "float32", 12),
      ),
  ],
  ["empty tensors", () => tf.add(tf.zeros([0, 3]), tf.ones([3]))],
  [
    "casts: truncation, NaN and ±∞ to 0, wrapping, bool",
    () =>
      tf.cast(
        tf.tensor([1.9, -1.9, Number.NaN, Number.POSITIVE_INFINITY, -0.5, 3e9, -3e9, 2 ** 31]),
        "int32",
      ),
  ],
  ["float32 to bool", () => tf.cast(tf.tensor([0, -0, Number.NaN, 0.1, -2]), "bool")],
  [
    "int32 to bool to float32",
    () => tf.cast(tf.cast(tf.tensor([0, 5, -7], [3], "int32"), "bool"), "float32"),
  ],
  [
    "one-hot (int32 out, indices out of range)",
    () => tf.oneHot(tf.tensor([0, 3, -1, 9, 2], [5], "int32"), 4),
  ],
  [
    "one-hot float32 with on/off values",
    () => tf.oneHot(tf.tensor([1, 0], [2], "int32"), 3, 5, -1, "float32"),
  ],
  [
    "fill, zerosLike and onesLike",
    () => tf.add(tf.fill([2, 3], 2.5), tf.add(tf.zerosLike(tf.ones([3])), tf.onesLike(tf.ones([3])))),
  ],
  ["sum over a middle block", () => tf.sum(tf.randomNormal([3, 4, 5, 2], 0, 1, "float32", 14), [1, 2])],
  ["mean over the last axis", () => tf.mean(tf.randomNormal([6, 101], 0, 1, "float32", 15), -1)],
  [
    "max and min with NaN, keepDims",
    () =>
      tf.add(
        tf.max(
          tf.tensor([
            [1, Number.NaN, 3],
            [4, 5, -6],
          ]),
          1,
          true,
        ),
        tf.min(
          tf.tensor([
            [1, 2, 3],
            [4, 5, -6],
          ]),
          0,
          true,
        ),
      ),
  ],
  [
    "transpose (float32)",
    () => tf.transpose(tf.randomNormal([2, 3, 4, 5], 0, 1, "float32", 16), [2, 0, 3, 1]),
  ],
  [
    "transpose (int32)",
    () =>
      tf.transpose(
        tf.tensor(
          [
            [1, 2, 3],
            [4, 5, 6],
          ],
          [2, 3],
          "int32",
        ),
      ),
  ],
  [
    "gather along axis 1 (int32 values)",
    () =>
      tf.gather(
        tf.tensor(
          [
            [1, 2, 3],
            [4, 5, 6],
          ],
          [2, 3],
          "int32",
        ),
        tf.tensor([2, 0, 2], [3], "int32"),
        1,
      ),
  ],
  [
    "embedding lookup",
    () =>
      tf.gather(
        tf.randomNormal([10, 4], 0, 1, "float32", 17),
        tf.tensor(
          [
            [3, 3],
            [9, 0],
          ],
          [2, 2],
          "int32",
        ),
      ),
  ],
  [
    "unsorted segment sum (ids out of range dropped)",
    () =>
      tf.unsortedSegmentSum(
        tf.randomNormal([6, 3], 0, 1, "float32", 18),
        tf.tensor([0, 2, 2, -1, 7, 0], [6], "int32"),
        4,
      ),
  ],
  [
    "concat along a middle axis",
    () =>
      tf.concat(
        [tf.randomNormal([2, 3, 4], 0, 1, "float32", 19), tf.randomNormal([2, 1, 4], 0, 1, "float32", 20)],
        1,
      ),
  ],
  [
    "concat of bool",
    () => tf.cast(tf.concat([tf.greater(tf.tensor([1, -1]), 0), tf.less(tf.tensor([1, -1]), 0)]), "float32"),
  ],
  [
    "split and slice",
    () => {
      const [a, b] = tf.split(tf.randomNormal([3, 7, 2], 0, 1, "float32", 21), [3, 4], 1);
      return tf.add(tf.slice(a!, [1, 0, 1], [2, 3, 1]), tf.slice(b!, [0, 1, 0], [2, 3, 1]));
    },
  ],
  [
    "conv2d, same padding, stride 2",
    () =>
      tf.conv2d(
        tf.randomNormal([2, 7, 6, 3], 0, 1, "float32", 22) as tf.Tensor4D,
        tf.randomNormal([3, 3, 3, 4], 0, 1, "float32", 23) as tf.Tensor4D,
        2,
        "same",
      ),
  ],
  [
    "conv2d, dilated",
    () =>
      tf.conv2d(
        tf.randomNormal([1, 9, 9, 2], 0, 1, "float32", 24) as tf.Tensor4D,
        tf.randomNormal([3, 2, 2, 3], 0, 1, "float32", 25) as tf.Tensor4D,
        1,
        "valid",
        "NHWC",
        2,
      ),
  ],
  [
    "conv2d's input gradient",
    () =>
      tf.conv2dTranspose(
        tf.randomNormal([2, 4, 3, 4], 0, 1, "float32", 26) as tf.Tensor4D,
        tf.randomNormal([3, 3, 3, 4], 0, 1, "float32", 27) as tf.Tensor4D,
        [2, 7, 6, 3],
        2,
        "same",
      ),
  ],
  [
    "conv2d's filter gradient",
    () =>
      tf.grad((f: tf.Tensor) =>
        tf.sum(
          tf.conv2d(
            tf.randomNormal([2, 6, 5, 3], 0, 1, "float32", 28) as tf.Tensor4D,
            f as tf.Tensor4D,
            1,
            "same",
          ),
        ),
      )(tf.randomNormal([3, 3, 3, 2], 0, 1, "float32", 29)),
  ],
  [
    "conv2d channels-first (NCHW), stride 2, same padding",
    () =>
      tf.conv2d(
        tf.randomNormal([2, 3, 7, 6], 0, 1, "float32", 50) as tf.Tensor4D,
        tf.randomNormal([3, 3, 3, 4], 0, 1, "float32", 51) as tf.Tensor4D,
        2,
        "same",
        "NCHW",
      ),
  ],
  [
    "conv2d channels-first (NCHW): input and filter gradients",
    () => {
      const x = tf.randomNormal([2, 3, 6, 5], 0, 1, "float32", 52);
      const filter = tf.randomNormal([3, 2, 3, 4], 0, 1, "float32", 53);
      const weights = tf.randomNormal([2, 4, 6, 5], 0, 1, "float32", 54);
      const [dx, dFilter] = tf.grads((v: tf.Tensor, f: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(v as tf.Tensor4D, f as tf.Tensor4D, 1, "same", "NCHW"), weights)),
      )([x, filter]);
      return tf.concat([tf.reshape(dx!, [-1]), tf.reshape(dFilter!, [-1])]);
    },
  ],
  [
    "sum over runs of axes (a channels-first bias gradient)",
    () => tf.sum(tf.randomNormal([3, 4, 5, 6], 0, 1, "float32", 55), [0, 2, 3]),
  ],
  [
    "max and average pooling of one-channel planes and their gradients",
    () => {
      const planes = tf.randomNormal([6, 9, 8, 1], 0, 1, "float32", 56);
      const grad = (pool: (v: tf.Tensor4D) => tf.Tensor) =>
        tf.reshape(tf.grad((v: tf.Tensor) => tf.sum(tf.square(pool(v as tf.Tensor4D))))(planes), [-1]);
      return tf.concat([
        grad((v) => tf.maxPool(v, 2, 2, "valid")),
        grad((v) => tf.maxPool(v, 3, 2, "same")),
        grad((v) => tf.avgPool(v, [3, 2], [1, 2], "same")),
      ]);
    },
  ],
  [
    "max pool with overlapping windows and its gradient",
    () =>
      tf.grad((x: tf.Tensor) =>
        tf.sum(tf.mul(tf.maxPool(x as tf.Tensor4D, 3, 2, "same"), tf.reshape(tf.range(1, 17), [1, 4, 4, 1]))),
      )(tf.randomNormal([1, 8, 7, 1], 0, 1, "float32", 30)),
  ],
  [
    "average pool and its gradient",
    () =>
      tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(x as tf.Tensor4D, [2, 3], 2, "same"), 1.5)))(
        tf.randomNormal([2, 5, 5, 3], 0, 1, "float32", 31),
      ),
  ],
  [
    "pad with a constant (int32 and float32)",
    () =>
      tf.add(
        tf.cast(
          tf.pad(
            tf.tensor([[1, 2]], [1, 2], "int32"),
            [
              [1, 0],
              [2, 1],
            ],
            7,
          ),
          "float32",
        ),
        tf.pad(
          tf.ones([1, 2]),
          [
            [1, 0],
            [2, 1],
          ],
          -0.5,
        ),
      ),
  ],
  [
    "range (float32 and int32)",
    () => tf.add(tf.range(0, 1, 0.1), tf.cast(tf.range(10, 0, -1, "int32"), "float32")),
  ],
  [
    "where, clipByValue and relu's step",
    () =>
      tf.where(
        tf.greater(tf.tensor([1, -2, 3, Number.NaN]), 0),
        tf.clipByValue(tf.tensor([5, -5, 0.5, Number.NaN]), -1, 1),
        tf.step(tf.tensor([2, -1, 0, Number.NaN]), 0.3),
      ),
  ],
];

/** Whether a case's result sums in another order than tfjs's everywhere (GEMMs, reductions in several runs). */
export const sumsInAnotherOrder = (name: string) => /matmul|conv2d|runs of axes/.test(name);

/** Sizes of {@link TinyTransformer}. */
export interface TinyTransformerOptions {
  vocab: number;
  dModel: number;
  heads: number;
  /** The sequence length (the causal mask's size). */
  block: number;
}

/** A small CNN with max and average pooling (one-channel 14×14 inputs, 3 classes): the proof and the tests train it. */
export function poolingCnn(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 4, 3),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(4, 6, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.AvgPool2d(2),
    new nn.Flatten(),
    new nn.Linear(54, 3),
  );
}

/**
 * A one-block causal transformer: embedding, layer norms, attention (split heads, a causal mask, softmax), a GELU
 * MLP, and slices and a concatenation that give back the same tensor (to run both kernels in every step).
 */
export class TinyTransformer extends Module {
  embed: nn.Embedding;
  ln1: nn.LayerNorm;
  qkv: nn.Linear;
  ln2: nn.LayerNorm;
  mlp: nn.Sequential;
  head: nn.Linear;
  /** Made once, as GPT-2 makes its mask: -1e9 above the diagonal. */
  readonly causal: tf.Tensor;
  readonly options: TinyTransformerOptions;

  constructor(options: Partial<TinyTransformerOptions> = {}) {
    super();
    const o = { vocab: 16, dModel: 32, heads: 2, block: 12, ...options };
    this.options = o;
    this.embed = new nn.Embedding(o.vocab, o.dModel);
    this.ln1 = new nn.LayerNorm(o.dModel);
    this.qkv = new nn.Linear(o.dModel, 3 * o.dModel);
    this.ln2 = new nn.LayerNorm(o.dModel);
    this.mlp = new nn.Sequential(
      new nn.Linear(o.dModel, 2 * o.dModel),
      new nn.GELU(),
      new nn.Linear(2 * o.dModel, o.dModel),
    );
    this.head = new nn.Linear(o.dModel, o.vocab);
    this.causal = tf.tidy(() =>
      tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([o.block, o.block]), -1, 0)), -1e9),
    );
  }

  /** Token ids [batch, block] → logits [batch·block, vocab]. */
  forward(tokens: tf.Tensor): tf.Tensor {
    const { dModel, heads, vocab } = this.options;
    const [b, t] = tokens.shape as [number, number];
    const x = this.embed.forward(tokens);
    const [q, k, v] = tf
      .split(this.qkv.forward(this.ln1.forward(x)), 3, 2)
      .map((z) => tf.transpose(tf.reshape(z, [b, t, heads, dModel / heads]), [0, 2, 1, 3]));
    const scores = tf.add(tf.mul(tf.matMul(q!, k!, false, true), 1 / Math.sqrt(dModel / heads)), this.causal);
    const mixed = tf.transpose(tf.matMul(tf.softmax(scores), v!), [0, 2, 1, 3]);
    const attended = tf.add(x, tf.reshape(mixed, [b, t, dModel]));
    const out = tf.add(attended, this.mlp.forward(this.ln2.forward(attended)));
    const rejoined = tf.concat(
      [tf.slice(out, [0, 0, 0], [b, t - 1, dModel]), tf.slice(out, [0, t - 1, 0], [b, 1, dModel])],
      1,
    );
    return tf.reshape(this.head.forward(rejoined), [b * t, vocab]);
  }

  override dispose(): void {
    super.dispose();
    this.causal.dispose();
  }
}
