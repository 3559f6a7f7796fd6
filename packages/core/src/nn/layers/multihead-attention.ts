import { Parameter } from "../../autograd/parameter";
import { tf } from "../../runtime/tfjs";
import { FulmenError } from "../../utils/errors";
import { checkNumber, checkOptionNames } from "../../utils/options";
import { attend, causalBias, maskToBias } from "../functional/attention-core";
import { constant_, xavierNormal_, xavierUniform_ } from "../init";
import { Module } from "../module";
import { Linear } from "./linear";

/** Options of {@link MultiheadAttention}, PyTorch's keywords in camelCase. */
export interface MultiheadAttentionOptions {
  /** Dropout probability on the attention weights in training mode (default 0). */
  dropout?: number;
  /** Biases on the input and output projections (default true). */
  bias?: boolean;
  /** Learn a bias appended to the key and value sequences (`bias_k`, `bias_v`; default false). */
  addBiasKv?: boolean;
  /** Append a zero position to the key and value sequences after the projections (default false). */
  addZeroAttn?: boolean;
  /** Features of the key (default embedDim); with vdim ≠ embedDim the projections are separate weights. */
  kdim?: number | null;
  /** Features of the value (default embedDim). */
  vdim?: number | null;
  /** Inputs and output are `[batch, seq, feature]` (default false: `[seq, batch, feature]`). */
  batchFirst?: boolean;
}

/** Options of {@link MultiheadAttention.forward}, PyTorch's keywords in camelCase. */
export interface MultiheadAttentionForwardOptions {
  /** `[N, S]` (`[S]` unbatched): boolean, true = the key is padding and ignored; or float, added. */
  keyPaddingMask?: tf.Tensor | null;
  /** Return the attention weights (default true); otherwise the second result is null. */
  needWeights?: boolean;
  /**
   * `[L, S]` or `[N·numHeads, L, S]`: boolean, true = the position may NOT be attended; or float, added to the
   * scores.
   */
  attnMask?: tf.Tensor | null;
  /** Average the returned weights over the heads (default true): `[N, L, S]`, else `[N, numHeads, L, S]`. */
  averageAttnWeights?: boolean;
  /**
   * A hint that attnMask is the causal mask, as in PyTorch: it needs attnMask (see
   * `generateSquareSubsequentMask`), which is what is applied.
   */
  isCausal?: boolean;
}

const OWNER = "MultiheadAttention";

/** Property → PyTorch state-dict name. */
const STATE_KEYS: ReadonlyArray<[string, string]> = [
  ["inProjWeight", "in_proj_weight"],
  ["qProjWeight", "q_proj_weight"],
  ["kProjWeight", "k_proj_weight"],
  ["vProjWeight", "v_proj_weight"],
  ["inProjBias", "in_proj_bias"],
  ["biasK", "bias_k"],
  ["biasV", "bias_v"],
  ["outProj", "out_proj"],
];

/**
 * Multi-head attention, like `torch.nn.MultiheadAttention`: `forward(query, key, value, options)` returns
 * `[output, weights | null]`. State-dict names are PyTorch's — `in_proj_weight [3E, E]` and
 * `in_proj_bias [3E]`, or `q_proj_weight`/`k_proj_weight`/`v_proj_weight` when kdim or vdim differ from
 * embedDim, `out_proj.weight`/`out_proj.bias`, `bias_k`/`bias_v` with addBiasKv (the properties are their
 * camelCase names) — and so is the
 * initialisation (Xavier-uniform projections, zero biases, Linear's default for out_proj, Xavier-normal bias_k
 * and biasV). Inputs may be unbatched (`[L, E]`).
 */
export class MultiheadAttention extends Module {
  /** The model's feature size `E`: the query's last dimension and the output's. */
  readonly embedDim: number;
  /** The number of parallel attention heads; divides `embedDim`. */
  readonly numHeads: number;
  /** The key's feature size (default `embedDim`). */
  readonly kdim: number;
  /** The value's feature size (default `embedDim`). */
  readonly vdim: number;
  /** The feature size of each head, `embedDim / numHeads`. */
  readonly headDim: number;
  /** Dropout probability on the attention weights in training mode (default 0). */
  readonly dropout: number;
  /** Whether inputs and output are `[batch, seq, feature]` (default false: `[seq, batch, feature]`). */
  readonly batchFirst: boolean;
  /** Whether a zero position is appended to the projected keys and values (default false). */
  readonly addZeroAttn: boolean;
  /** Whether query, key and value share one packed projection (`in_proj_weight`). */
  readonly qkvSameEmbedDim: boolean;
  /**
   * The packed query, key and value projections `[3·embedDim, embedDim]` (PyTorch's `in_proj_weight`), or
   * null when `kdim` or `vdim` differ from `embedDim`.
   */
  inProjWeight: Parameter | null;
  /**
   * The query projection `[embedDim, embedDim]` (PyTorch's `q_proj_weight`), or null when `inProjWeight` is
   * used.
   */
  qProjWeight: Parameter | null;
  /**
   * The key projection `[embedDim, kdim]` (PyTorch's `k_proj_weight`), or null when `inProjWeight` is used.
   */
  kProjWeight: Parameter | null;
  /**
   * The value projection `[embedDim, vdim]` (PyTorch's `v_proj_weight`), or null when `inProjWeight` is used.
   */
  vProjWeight: Parameter | null;
  /**
   * The packed query, key and value projection biases `[3·embedDim]` (PyTorch's `in_proj_bias`), or null with
   * `bias: false`.
   */
  inProjBias: Parameter | null;
  /**
   * The learned key appended to the key sequence, `[1, 1, embedDim]` (PyTorch's `bias_k`), or null without
   * `addBiasKv`.
   */
  biasK: Parameter | null;
  /**
   * The learned value appended to the value sequence, `[1, 1, embedDim]` (PyTorch's `bias_v`), or null
   * without `addBiasKv`.
   */
  biasV: Parameter | null;
  /**
   * The output projection, `embedDim` to `embedDim` (PyTorch's `out_proj`), with a bias unless `bias: false`.
   */
  outProj: Linear;

  constructor(embedDim: number, numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    checkOptionNames(OWNER, options, [
      "dropout",
      "bias",
      "addBiasKv",
      "addZeroAttn",
      "kdim",
      "vdim",
      "batchFirst",
    ]);
    const positive = (v: number) => Number.isInteger(v) && v > 0;
    checkNumber(OWNER, "embedDim", embedDim, positive, "a positive integer");
    checkNumber(OWNER, "numHeads", numHeads, positive, "a positive integer");
    if (embedDim % numHeads !== 0) {
      throw new FulmenError(
        `${OWNER}: embedDim ${embedDim} is not divisible by numHeads ${numHeads}; choose numHeads dividing embedDim.`,
      );
    }
    this.embedDim = embedDim;
    this.numHeads = numHeads;
    this.headDim = embedDim / numHeads;
    this.kdim = options.kdim ?? embedDim;
    this.vdim = options.vdim ?? embedDim;
    checkNumber(OWNER, "kdim", this.kdim, positive, "a positive integer");
    checkNumber(OWNER, "vdim", this.vdim, positive, "a positive integer");
    this.dropout = options.dropout ?? 0;
    checkNumber(OWNER, "dropout", this.dropout, (v) => v >= 0 && v <= 1, "a probability between 0 and 1");
    this.batchFirst = options.batchFirst ?? false;
    this.addZeroAttn = options.addZeroAttn ?? false;
    this.qkvSameEmbedDim = this.kdim === embedDim && this.vdim === embedDim;
    const bias = options.bias ?? true;
    // Declared in PyTorch's registration order, so the state dict lists them as PyTorch does.
    if (this.qkvSameEmbedDim) {
      this.inProjWeight = Parameter.full([3 * embedDim, embedDim]);
      this.qProjWeight = this.kProjWeight = this.vProjWeight = null;
    } else {
      this.inProjWeight = null;
      this.qProjWeight = Parameter.full([embedDim, embedDim]);
      this.kProjWeight = Parameter.full([embedDim, this.kdim]);
      this.vProjWeight = Parameter.full([embedDim, this.vdim]);
    }
    this.inProjBias = bias ? Parameter.full([3 * embedDim]) : null;
    this.biasK = options.addBiasKv === true ? Parameter.full([1, 1, embedDim]) : null;
    this.biasV = options.addBiasKv === true ? Parameter.full([1, 1, embedDim]) : null;
    this.outProj = new Linear(embedDim, embedDim, { bias });
    for (const [property, key] of STATE_KEYS) this.setStateDictKey(property, key);
    this.resetParameters();
  }

  /** PyTorch's `_reset_parameters`: Xavier-uniform projections, zero biases, Xavier-normal biasK/biasV. */
  resetParameters(): void {
    for (const w of [this.inProjWeight, this.qProjWeight, this.kProjWeight, this.vProjWeight])
      if (w !== null) xavierUniform_(w);
    if (this.inProjBias !== null) {
      constant_(this.inProjBias, 0);
      if (this.outProj.bias !== null) constant_(this.outProj.bias, 0);
    }
    if (this.biasK !== null) xavierNormal_(this.biasK);
    if (this.biasV !== null) xavierNormal_(this.biasV);
  }

  /**
   * Attends from `query` (`[L, N, E]`, `[N, L, E]` with batchFirst, or `[L, E]`) to `key` (`[S, N, kdim]`) and
   * `value` (`[S, N, vdim]`). Returns `[output, weights]`: the output has the query's layout; the weights are
   * `[N, L, S]` (averaged over heads) or `[N, numHeads, L, S]`, or null when `needWeights` is false. Dropout
   * on the weights applies in training mode only.
   */
  forward(
    query: tf.Tensor,
    key: tf.Tensor,
    value: tf.Tensor,
    options: MultiheadAttentionForwardOptions = {},
  ): [tf.Tensor, tf.Tensor | null] {
    checkOptionNames(`${OWNER}.forward`, options, [
      "keyPaddingMask",
      "needWeights",
      "attnMask",
      "averageAttnWeights",
      "isCausal",
    ]);
    const needWeights = options.needWeights ?? true;
    const average = options.averageAttnWeights ?? true;
    if (options.isCausal === true && (options.attnMask ?? null) === null) {
      throw new FulmenError(
        `${OWNER}: isCausal is a hint that attnMask is the causal mask and needs attnMask, as in PyTorch; pass attnMask: generateSquareSubsequentMask(L).`,
      );
    }
    const batched = this.checkInputs(query, key, value);
    const kept = tf.tidy(() => {
      // Work batch-major: [N, L, E].
      const toBatchMajor = (t: tf.Tensor) =>
        !batched ? tf.expandDims(t, 0) : this.batchFirst ? t : tf.transpose(t, [1, 0, 2]);
      const [q0, k0, v0] = [query, key, value].map(toBatchMajor) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
      const [n, l] = q0.shape;
      const s = k0.shape[1];
      let bias = this.maskBias(options, n, l, s, batched);
      let [q, k, v] = this.project(q0, k0, v0);
      if (this.biasK !== null && this.biasV !== null) {
        k = tf.concat([k, tf.tile(this.biasK.data, [n, 1, 1])], 1);
        v = tf.concat([v, tf.tile(this.biasV.data, [n, 1, 1])], 1);
        bias = padLastDim(bias);
      }
      const h = this.numHeads;
      const d = this.headDim;
      const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [n, t.shape[1]!, h, d]), [0, 2, 1, 3]);
      let [qh, kh, vh] = [heads(q), heads(k), heads(v)];
      if (this.addZeroAttn) {
        kh = tf.concat([kh, tf.zeros([n, h, 1, d])], 2);
        vh = tf.concat([vh, tf.zeros([n, h, 1, d])], 2);
        bias = padLastDim(bias);
      }
      const dropoutP = this.training ? this.dropout : 0;
      const { output, weights } = attend(qh, kh, vh, bias, 1 / Math.sqrt(d), dropoutP, { needWeights });
      const merged = tf.reshape(tf.transpose(output, [0, 2, 1, 3]), [n, l, this.embedDim]);
      let out = this.outProj.forward(merged);
      out = !batched ? tf.squeeze(out, [0]) : this.batchFirst ? out : tf.transpose(out, [1, 0, 2]);
      if (!needWeights || weights === null) return [out];
      let w = average ? tf.div(tf.sum(weights, 1), h) : weights;
      if (!batched) w = tf.squeeze(w, [0]);
      return [out, w];
    });
    return [kept[0]!, kept[1] ?? null];
  }

  /** Validates the inputs' ranks and sizes; returns whether they are batched (rank 3). */
  private checkInputs(query: tf.Tensor, key: tf.Tensor, value: tf.Tensor): boolean {
    for (const [name, t] of [
      ["query", query],
      ["key", key],
      ["value", value],
    ] as const) {
      if (!(t instanceof tf.Tensor)) throw new FulmenError(`${OWNER}: ${name} must be a tensor.`);
    }
    if (query.rank !== 2 && query.rank !== 3) {
      throw new FulmenError(
        `${OWNER}: query must be [L, N, E] (batched, or [N, L, E] with batchFirst) or [L, E] (unbatched), got shape [${query.shape}].`,
      );
    }
    const batched = query.rank === 3;
    if (key.rank !== query.rank || value.rank !== query.rank) {
      throw new FulmenError(
        `${OWNER}: query, key and value must all be batched (rank 3) or all unbatched (rank 2); got shapes [${query.shape}], [${key.shape}], [${value.shape}].`,
      );
    }
    const features = (t: tf.Tensor) => t.shape[t.rank - 1];
    const expect: Array<[string, tf.Tensor, number]> = [
      ["query", query, this.embedDim],
      ["key", key, this.kdim],
      ["value", value, this.vdim],
    ];
    for (const [name, t, want] of expect) {
      if (features(t) !== want) {
        throw new FulmenError(
          `${OWNER}: ${name}'s last dimension is ${features(t)} (shape [${t.shape}]) but the layer expects ${want}; check embedDim, kdim and vdim.`,
        );
      }
    }
    const seqAxis = batched && this.batchFirst ? 1 : 0;
    const batchAxis = this.batchFirst ? 0 : 1;
    if (key.shape[seqAxis] !== value.shape[seqAxis]) {
      throw new FulmenError(
        `${OWNER}: key has ${key.shape[seqAxis]} positions but value has ${value.shape[seqAxis]}; they must match.`,
      );
    }
    if (
      batched &&
      (key.shape[batchAxis] !== query.shape[batchAxis] || value.shape[batchAxis] !== query.shape[batchAxis])
    ) {
      throw new FulmenError(
        `${OWNER}: query, key and value have different batch sizes (shapes [${query.shape}], [${key.shape}], [${value.shape}]${this.batchFirst ? ", batchFirst" : ""}).`,
      );
    }
    return batched;
  }

  /** The input projections, batch-major: `q [N, L, E]`, `k [N, S, E]`, `v [N, S, E]`. */
  private project(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor): [tf.Tensor, tf.Tensor, tf.Tensor] {
    // The packed weight and bias split in one op: its gradient is one concatenation, where three slices' would
    // be three zero-padded copies of the whole packed shape.
    const biases = this.inProjBias === null ? null : tf.split(this.inProjBias.data, 3, 0);
    const weights =
      this.inProjWeight !== null
        ? tf.split(this.inProjWeight.data, 3, 0)
        : [this.qProjWeight, this.kProjWeight, this.vProjWeight].map((p) => p!.data);
    return [q, k, v].map((x, i) => linear(x, weights[i]!, biases?.[i] ?? null)) as [
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
    ];
  }

  /**
   * The attention and key-padding masks merged into one additive bias broadcastable to `[N, H, L, S]`, or null.
   */
  private maskBias(
    options: MultiheadAttentionForwardOptions,
    n: number,
    l: number,
    s: number,
    batched: boolean,
  ): tf.Tensor | null {
    let bias: tf.Tensor | null = null;
    const attnMask = options.attnMask ?? null;
    if (attnMask !== null) {
      const h = this.numHeads;
      const m = maskToBias(attnMask, true, OWNER, "attnMask");
      if (m.rank === 2 && tf.util.arraysEqual(m.shape, [l, s])) bias = m;
      else if (m.rank === 3 && tf.util.arraysEqual(m.shape, [n * h, l, s]))
        bias = tf.reshape(m, [n, h, l, s]);
      else {
        throw new FulmenError(
          `${OWNER}: attnMask has shape [${attnMask.shape}] but must be [${l}, ${s}] or [${n * h}, ${l}, ${s}] (batch·numHeads, target, source).`,
        );
      }
    }
    const kpm = options.keyPaddingMask ?? null;
    if (kpm !== null) {
      const want = batched ? [n, s] : [s];
      if (!tf.util.arraysEqual(kpm.shape, want)) {
        throw new FulmenError(
          `${OWNER}: keyPaddingMask has shape [${kpm.shape}] but must be [${want}] (${batched ? "batch, source" : "source"}).`,
        );
      }
      // PyTorch 1.13 merges a boolean attnMask with the padding mask by logical or: a float padding mask then
      // blocks wherever it is nonzero. (PyTorch 2 adds it as a float bias instead, and deprecates the mix.)
      const merged =
        attnMask !== null && attnMask.dtype === "bool" && kpm.dtype !== "bool" ? tf.notEqual(kpm, 0) : kpm;
      const k = tf.reshape(maskToBias(merged, true, OWNER, "keyPaddingMask"), [n, 1, 1, s]);
      bias = bias === null ? k : tf.add(bias, k);
    }
    return bias;
  }

  protected override extraRepr(): string {
    return `embedDim=${this.embedDim}, numHeads=${this.numHeads}, batchFirst=${this.batchFirst}`;
  }
}

/** `x Wᵀ + b` over the last dimension of a batch-major `[N, T, in]` tensor. */
function linear(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null): tf.Tensor {
  const [n, t, f] = x.shape as [number, number, number];
  const y = tf.matMul(tf.reshape(x, [n * t, f]), w, false, true);
  return tf.reshape(b === null ? y : tf.add(y, b), [n, t, w.shape[0]!]);
}

/** A bias with one more (allowed, zero) source position, as PyTorch pads its masks for biasK and zero attention. */
function padLastDim(bias: tf.Tensor | null): tf.Tensor | null {
  if (bias === null) return null;
  const pads = bias.shape.map((): [number, number] => [0, 0]);
  pads[pads.length - 1] = [0, 1];
  return tf.pad(bias, pads);
}

/**
 * The causal mask of `size` positions as PyTorch's `Transformer.generate_square_subsequent_mask` makes it: a
 * float `[size, size]` tensor, 0 on and below the diagonal, −∞ above.
 */
export function generateSquareSubsequentMask(size: number): tf.Tensor2D {
  checkNumber(
    "generateSquareSubsequentMask",
    "size",
    size,
    (v) => Number.isInteger(v) && v > 0,
    "a positive integer",
  );
  return causalBias(size, size);
}
