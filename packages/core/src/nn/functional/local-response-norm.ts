import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";

/** Options of {@link localResponseNorm}, PyTorch's keywords with its defaults. */
export interface LocalResponseNormOptions {
  /** The scale of the neighbours' squared sum (default 1e-4). */
  alpha?: number;
  /** The exponent of the divisor (default 0.75). */
  beta?: number;
  /** The divisor's additive constant (default 1). */
  k?: number;
}

/**
 * Normalises each channel of `(N, C, *)` by its `size` neighbouring channels, like `F.local_response_norm`
 * (AlexNet): `x / (k + alpha/size · Σ x²)^beta`, the sum over channels `c − ⌊size/2⌋ … c + ⌈size/2⌉ − 1`
 * (missing channels count as 0, and the divisor is always `size`, as PyTorch's average pooling of the padded
 * squares gives it).
 */
export function localResponseNorm(
  x: tf.Tensor,
  size: number,
  options: LocalResponseNormOptions = {},
): tf.Tensor {
  checkOptionNames("localResponseNorm", options, ["alpha", "beta", "k"]);
  checkNumber("localResponseNorm", "size", size, (v) => Number.isInteger(v) && v > 0, "a positive integer");
  const alpha = options.alpha ?? 1e-4;
  const beta = options.beta ?? 0.75;
  const k = options.k ?? 1;
  for (const [name, value] of [
    ["alpha", alpha],
    ["beta", beta],
    ["k", k],
  ] as const)
    checkNumber("localResponseNorm", name, value, Number.isFinite, "a finite number");
  if (x.rank < 3) {
    throw new FulmenError(
      `localResponseNorm: expects an input of 3 or more dimensions (N, C, *), got shape [${x.shape}].`,
    );
  }
  const channels = x.shape[1]!;
  return tf.tidy(() => {
    const squares = tf.square(x);
    const pads: Array<[number, number]> = x.shape.map(() => [0, 0]);
    pads[1] = [Math.floor(size / 2), Math.floor((size - 1) / 2)];
    const padded = tf.pad(squares, pads);
    let sum = tf.slice(
      padded,
      0,
      x.shape.map((s, i) => (i === 1 ? channels : s)),
    );
    for (let offset = 1; offset < size; offset++) {
      const begin = x.shape.map((_, i) => (i === 1 ? offset : 0));
      sum = tf.add(sum, tf.slice(padded, begin, x.shape));
    }
    const divisor = tf.pow(tf.add(tf.mul(tf.div(sum, size), alpha), k), beta);
    return tf.div(x, divisor);
  });
}
