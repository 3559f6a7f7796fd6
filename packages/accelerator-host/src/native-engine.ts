import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { FulmenError } from "@fulmen/core";
import { locateNativeAddon, prebuildPlatform } from "@fulmen/core/plugin";

/**
 * The attention kernels' shape arguments: outer and inner product counts, L, S, E, Ev, the mask's strides
 * (outer, inner, row, column), the scale, and whether keys after their query are masked.
 */
export type AttentionShapeArgs = [
  outer: number,
  inner: number,
  L: number,
  S: number,
  E: number,
  Ev: number,
  strideOuter: number,
  strideInner: number,
  strideRow: number,
  strideCol: number,
  scale: number,
  causal: boolean,
];

/** The host engine's native entry points (see native/engine_addon.cc). */
export interface NativeEngine {
  /**
   * Row-major `out = op(a)·op(b)` for each of `max(batchA, batchB)` products, on OpenBLAS: `a` holds `batchA`
   * [m, k] matrices ([k, m] with `transposeA`), `b` `batchB` [k, n] ones ([n, k] with `transposeB`), `out`
   * the [m, n] results; an operand whose batch is 1 is shared by every product. Throws a RangeError when an
   * array's length does not match its shape.
   */
  batchMatMul(
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    batchA: number,
    batchB: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
  ): void;
  /**
   * `out = a (op) b` with NumPy broadcasting: `a` and `b` of the shapes given are broadcast to `outShape`.
   * `op` is an engine op code (`kernelUtil.BINARY`: Add 0, Sub 1, Multiply 2, RealDiv 3, Maximum 4,
   * Minimum 5, SquaredDifference 6).
   */
  binary(
    op: number,
    a: Float32Array,
    aShape: number[],
    b: Float32Array,
    bShape: number[],
    out: Float32Array,
    outShape: number[],
  ): void;
  /**
   * `out = a (op) b` as tfjs's bool (1 or 0 bytes), `a` and `b` broadcast to `outShape`. `op` is an engine op
   * code (`kernelUtil.COMPARE`: Greater 0, GreaterEqual 1, Less 2, LessEqual 3, Equal 4, NotEqual 5).
   */
  compare(
    op: number,
    a: Float32Array,
    aShape: number[],
    b: Float32Array,
    bShape: number[],
    out: Uint8Array,
    outShape: number[],
  ): void;
  /** tfjs's Select: `out[i] = condition[i] ? t[i] : e[i]`, all of `out`'s length (no broadcasting). */
  select(condition: Uint8Array, t: Float32Array, e: Float32Array, out: Float32Array): void;
  /**
   * tfjs's ClipByValue over `out`'s length: values above `hi` become `hi`, below `lo` become `lo` (compared
   * as doubles); NaN stays NaN.
   */
  clip(x: Float32Array, out: Float32Array, lo: number, hi: number): void;
  /** tfjs's AddN: the element-wise sum of `inputs` (each of `out`'s length), added in order in float32. */
  addN(inputs: Float32Array[], out: Float32Array): void;
  /**
   * The max (`max` true) or min over the middle axis of `x` seen as [outer, reduce, inner], into `out` of
   * [outer, inner], with tfjs's rules: the first value kept on ties, NaN as soon as one is seen.
   */
  extremumMiddle(
    x: Float32Array,
    out: Float32Array,
    outer: number,
    reduce: number,
    inner: number,
    max: boolean,
  ): void;
  /**
   * `out = op(x)` over `out`'s length. `op` is an engine op code (`kernelUtil.UNARY`: Sqrt 0, Relu 1, Exp 2,
   * Log 3, Neg 4, Square 5, Abs 6, Tanh 7, Sigmoid 8, Rsqrt 9, Erf 10).
   */
  unary(op: number, x: Float32Array, out: Float32Array): void;
  /**
   * tfjs's Step (relu's gradient): 1 where `x > 0`, `alpha` elsewhere, NaN stays NaN; over `out`'s length.
   */
  step(x: Float32Array, out: Float32Array, alpha: number): void;
  /**
   * The sum over the middle axis of `x` seen as [outer, reduce, inner], into `out` of [outer, inner], in
   * order in double as tfjs's CPU kernel sums; with `mean` true (default false) the mean as tfjs computes it
   * (each value divided by `reduce`, then summed).
   */
  sumMiddle(
    x: Float32Array,
    out: Float32Array,
    outer: number,
    reduce: number,
    inner: number,
    mean?: boolean,
  ): void;
  /**
   * 2-D convolution by im2col and GEMM. `kind` 0: `out` = conv of `first` (x) with `second` (the
   * [fH, fW, inC, outC] filter); 1: `out` = the input gradient of `first` (dy) and `second` (the filter); 2:
   * `out` = the filter gradient of `first` (x) and `second` (dy). `shape` holds 16 numbers: batch, inH, inW,
   * inC, outH, outW, outC, fH, fW, strideH, strideW, dilationH, dilationW, padTop, padLeft, channelsFirst
   * (1: x, dy and dx are NCHW; 0: NHWC), as `kernelUtil.convPlan` makes them.
   */
  conv2d(
    kind: 0 | 1 | 2,
    first: Float32Array,
    second: Float32Array,
    out: Float32Array,
    shape: number[],
  ): void;
  /**
   * tfjs's Transpose of 4-byte elements: `out` is `x` (of `shape`) with out's axis i being x's axis
   * `perm[i]`.
   */
  transpose(
    x: Float32Array | Int32Array,
    shape: number[],
    perm: number[],
    out: Float32Array | Int32Array,
  ): void;
  /**
   * tfjs's 2-D max pooling of channels-last `x` into `out`: each window's first strictly greatest value (NaN
   * never wins). `shape` holds 12 numbers: batch, inH, inW, channels, outH, outW, filterH, filterW, strideH,
   * strideW, padTop, padLeft (`kernelUtil.poolShape` makes them).
   */
  maxPool(x: Float32Array, out: Float32Array, shape: number[]): void;
  /**
   * tfjs's 2-D average pooling (the mean over each window's pixels inside the input); `shape` as for maxPool.
   */
  avgPool(x: Float32Array, out: Float32Array, shape: number[]): void;
  /**
   * The gradient of avgPool: each pixel of `dx` gets the sum of the `dy` of the windows over it divided by
   * the filter's area; `shape` as for maxPool.
   */
  avgPoolGrad(dy: Float32Array, dx: Float32Array, shape: number[]): void;
  /**
   * The gradient of maxPool: each output's `dy` goes to its window's winner in `x`; `shape` as for maxPool.
   */
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, shape: number[]): void;
  /**
   * Softmax over each of `rows` rows of `cols` values (`exp(x - max) / sum`), in tfjs's order of roundings.
   */
  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  /**
   * Copies `rows` slabs of `slab` elements, slab r from src[srcStart + r·srcRow] to dst[dstStart + r·dstRow]
   * (4-byte elements; throws a RangeError when a slab falls outside either array).
   */
  copySlabs(
    src: Float32Array | Int32Array,
    srcStart: number,
    srcRow: number,
    dst: Float32Array | Int32Array,
    dstStart: number,
    dstRow: number,
    rows: number,
    slab: number,
  ): void;
  /**
   * tfjs's UnsortedSegmentSum over `n` rows of `inner` values: row s of `out` (`numSegments` rows) is the sum
   * of the rows i of `x` with `ids[i] == s`; ids outside [0, numSegments) are dropped.
   */
  unsortedSegmentSum(
    x: Float32Array,
    ids: Int32Array,
    out: Float32Array,
    n: number,
    inner: number,
    numSegments: number,
  ): void;
  /**
   * One fused Adam / AdamW step (core's AdamBase), bit-identical to tfjs's op-by-op update: reads the
   * parameter, gradient and moments and writes the new ones into the `Out` arrays; `maxExpAvgSq` and `maxOut`
   * only with amsgrad (null otherwise). `hyper` is [lr, beta1, beta2, eps, weightDecay, stepSize,
   * biasCorrection2Sqrt, decoupled, amsgrad, maximize], flags as 1 or 0.
   */
  adamUpdate(
    param: Float32Array,
    grad: Float32Array,
    expAvg: Float32Array,
    expAvgSq: Float32Array,
    maxExpAvgSq: Float32Array | null,
    paramOut: Float32Array,
    expAvgOut: Float32Array,
    expAvgSqOut: Float32Array,
    maxOut: Float32Array | null,
    hyper: number[],
  ): void;
  /**
   * One fused RMSprop step (core's RMSprop): writes the new parameter and square average, the gradient
   * average when centered and the momentum buffer when momentum > 0 (those inputs and outputs null
   * otherwise). `hyper` is [lr, alpha, eps, weightDecay, momentum, centered, maximize], flags as 1 or 0.
   */
  rmspropUpdate(
    param: Float32Array,
    grad: Float32Array,
    squareAvg: Float32Array,
    gradAvg: Float32Array | null,
    buffer: Float32Array | null,
    paramOut: Float32Array,
    squareAvgOut: Float32Array,
    gradAvgOut: Float32Array | null,
    bufferOut: Float32Array | null,
    hyper: number[],
  ): void;
  /**
   * One fused Adagrad step (core's Adagrad): writes the new parameter and sum of squared gradients. `hyper`
   * is [clr, eps, weightDecay, maximize], `clr` the step's decayed learning rate, `maximize` 1 or 0.
   */
  adagradUpdate(
    param: Float32Array,
    grad: Float32Array,
    sum: Float32Array,
    paramOut: Float32Array,
    sumOut: Float32Array,
    hyper: number[],
  ): void;
  /**
   * LSTM cell update (gate order i, f, g, o): `gates [batch, 4·hidden]` and `c` into `h`, `cy` and the
   * activations `act [batch, 5·hidden]` (σ(i), σ(f), tanh(g), σ(o), tanh(cy)).
   */
  lstmCell(
    gates: Float32Array,
    c: Float32Array,
    h: Float32Array,
    cy: Float32Array,
    act: Float32Array,
    batch: number,
    hidden: number,
  ): void;
  /** The LSTM cell update's gradient into `out` from the forward's `act`: of the gates (`wrtGates`) or of `c`. */
  lstmCellGrad(
    dh: Float32Array,
    dcy: Float32Array,
    c: Float32Array,
    act: Float32Array,
    out: Float32Array,
    batch: number,
    hidden: number,
    wrtGates: boolean,
  ): void;
  /**
   * GRU cell update (gate order r, z, n): `gi`, `gh [batch, 3·hidden]` and `h` into `hy` and the activations
   * `act [batch, 3·hidden]` (r, z, n).
   */
  gruCell(
    gi: Float32Array,
    gh: Float32Array,
    h: Float32Array,
    hy: Float32Array,
    act: Float32Array,
    batch: number,
    hidden: number,
  ): void;
  /** The GRU cell update's gradient into `out` from the forward's `act`: of `gi` (`wrt` 0), `gh` (1) or `h` (2). */
  gruCellGrad(
    dhy: Float32Array,
    gh: Float32Array,
    h: Float32Array,
    act: Float32Array,
    out: Float32Array,
    batch: number,
    hidden: number,
    wrt: 0 | 1 | 2,
  ): void;
  /**
   * Scaled dot-product attention: `weights = softmax((q·scale)·kᵀ + bias)`, `output = weights·v` for
   * `outer·inner` products of q `[L, E]`, k `[S, E]`, v `[S, Ev]`; the additive mask `bias` (or null) read at
   * `o·strideOuter + i·strideInner + l·strideRow + s·strideCol` (0 strides where it broadcasts).
   */
  attention(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    bias: Float32Array | null,
    output: Float32Array,
    weights: Float32Array,
    ...shape: AttentionShapeArgs
  ): void;
  /**
   * attention's gradient from `dOutput`, `dWeights` (or null) and the forward's weights into `dq`, `dk`, `dv` and
   * `dBias` (the mask's layout, summed where it broadcasts; null when not wanted).
   */
  attentionGrad(
    dOutput: Float32Array,
    dWeights: Float32Array | null,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    weights: Float32Array,
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
    dBias: Float32Array | null,
    ...shape: AttentionShapeArgs
  ): void;
  /**
   * An LSTM layer in one direction over a whole sequence (`steps` × `batch` rows, `hidden` units; `reverse`
   * runs from the last step): per step `gates = gi[t] + (h·W_hhᵀ + b_hh)` and the cell update. `gi [T, B, 4H]`
   * (the input projection with `b_ih`), `weightHh [4H, H]`, `biasHh [4H]` or null, `h0`, `c0 [B, H]` into
   * `output [T, B, H]`, `hN`, `cN [B, H]`, and for the gradient `cells [T, B, H]`, `act [T, B, 5H]`.
   */
  lstmSequence(
    gi: Float32Array,
    weightHh: Float32Array,
    biasHh: Float32Array | null,
    h0: Float32Array,
    c0: Float32Array,
    output: Float32Array,
    hN: Float32Array,
    cN: Float32Array,
    cells: Float32Array,
    act: Float32Array,
    steps: number,
    batch: number,
    hidden: number,
    reverse: boolean,
  ): void;
  /**
   * lstmSequence's gradient from `dOutput`, `dhN`, `dcN` and the forward's values into `dgi [T, B, 4H]`,
   * `dWeightHh [4H, H]`, `dBiasHh [4H]`, `dh0` and `dc0 [B, H]`.
   */
  lstmSequenceGrad(
    dOutput: Float32Array,
    dhN: Float32Array,
    dcN: Float32Array,
    weightHh: Float32Array,
    h0: Float32Array,
    c0: Float32Array,
    output: Float32Array,
    cells: Float32Array,
    act: Float32Array,
    dgi: Float32Array,
    dWeightHh: Float32Array,
    dBiasHh: Float32Array,
    dh0: Float32Array,
    dc0: Float32Array,
    steps: number,
    batch: number,
    hidden: number,
    reverse: boolean,
  ): void;
  /**
   * A GRU layer in one direction over a whole sequence: per step `gh[t] = h·W_hhᵀ + b_hh` and the cell update.
   * `gi [T, B, 3H]` (with `b_ih`), `weightHh [3H, H]`, `biasHh [3H]` or null, `h0 [B, H]` into `output [T, B, H]`,
   * `hN [B, H]`, and for the gradient `gh`, `act [T, B, 3H]`.
   */
  gruSequence(
    gi: Float32Array,
    weightHh: Float32Array,
    biasHh: Float32Array | null,
    h0: Float32Array,
    output: Float32Array,
    hN: Float32Array,
    gh: Float32Array,
    act: Float32Array,
    steps: number,
    batch: number,
    hidden: number,
    reverse: boolean,
  ): void;
  /**
   * gruSequence's gradient from `dOutput`, `dhN` and the forward's values into `dgi [T, B, 3H]`,
   * `dWeightHh [3H, H]`, `dBiasHh [3H]` and `dh0 [B, H]`.
   */
  gruSequenceGrad(
    dOutput: Float32Array,
    dhN: Float32Array,
    weightHh: Float32Array,
    h0: Float32Array,
    output: Float32Array,
    gh: Float32Array,
    act: Float32Array,
    dgi: Float32Array,
    dWeightHh: Float32Array,
    dBiasHh: Float32Array,
    dh0: Float32Array,
    steps: number,
    batch: number,
    hidden: number,
    reverse: boolean,
  ): void;
  /** Exact GELU, `y = 0.5·x·(1 + erf(x/√2))` over `y`'s length, each step rounded as tfjs's op-by-op GELU. */
  gelu(x: Float32Array, y: Float32Array): void;
  /**
   * GELU's gradient: `dx = dy·gelu'(x)` over `dx`'s length, in the float32 steps of tfjs's differentiation.
   */
  geluGrad(dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  /**
   * Layer normalisation over each of `rows` rows of `cols` values: `y = (x - mean)·rstd·weight + bias`
   * (`weight` and `bias` may be null), with the row's `mean` and `rstd = 1/√(biased variance + eps)` computed
   * in double and written for the backward pass.
   */
  layerNorm(
    x: Float32Array,
    weight: Float32Array | null,
    bias: Float32Array | null,
    y: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  /**
   * layerNorm's gradients from the forward pass's `mean` and `rstd`: `dx` always, `dWeight` and `dBias` (sums
   * over rows) when not null; `weight` null when the forward pass had none. In double.
   */
  layerNormGrad(
    dy: Float32Array,
    x: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    weight: Float32Array | null,
    dx: Float32Array,
    dWeight: Float32Array | null,
    dBias: Float32Array | null,
    rows: number,
    cols: number,
  ): void;
  /**
   * One fused SGD step (core's SGD): writes the new parameter, and the momentum buffer when momentum is on
   * (`buffer` null while there is none yet, `bufferOut` null without momentum). `hyper` is [lr, momentum,
   * dampening, weightDecay, nesterov, maximize, hasBuffer], flags as 1 or 0.
   */
  sgdUpdate(
    param: Float32Array,
    grad: Float32Array,
    buffer: Float32Array | null,
    paramOut: Float32Array,
    bufferOut: Float32Array | null,
    hyper: number[],
  ): void;
  /**
   * Sets how many threads the engine uses (at least 1): OpenBLAS's and its own element-wise workers, which it
   * restarts. `HostAccelerator.setup()` gives it the cores divided by the local ranks.
   */
  setThreads(threads: number): void;
  /** The threads set by {@link NativeEngine.setThreads} (1 until it is called). */
  threads(): number;
  /** out = x rounded to float16 (format 0) or bfloat16 (format 1) values. */
  roundHalf(format: 0 | 1, x: Float32Array, out: Float32Array): void;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
let loaded: NativeEngine | null = null;

/**
 * The OpenBLAS kernels this CPU can run, by its instruction sets: "SkylakeX" with AVX-512, "Haswell" with AVX2
 * and FMA, else null (OpenBLAS decides). Debian's OpenBLAS (0.3.21) picks its kernels by CPU model and falls back
 * to its generic pre-AVX ones ("Prescott") on models it does not know — newer CPUs and the generic CPUs of virtual
 * machines — which makes every GEMM about 4× slower (measured: 1024³ in 31 ms instead of 8). Applied unless
 * OPENBLAS_CORETYPE is set; read when the library loads.
 */
function openblasCoreType(): string | null {
  if (process.platform !== "linux" || process.arch !== "x64") return null;
  let cpuinfo: string;
  try {
    cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    return null;
  }
  const flags = new Set(/^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.trim().split(/\s+/) ?? []);
  const has = (...names: string[]) => names.every((n) => flags.has(n));
  if (has("avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl")) return "SkylakeX";
  if (has("avx2", "fma")) return "Haswell";
  return null;
}

/**
 * Sets the engine's OpenBLAS settings in the environment, where not set already; OpenBLAS reads them once, when
 * the library loads, so any addon that loads OpenBLAS into this process calls this first (the engine does). Its
 * idle workers spin for ~0.1 s (2^28 cycles) after each threaded product by default, taking the core that the
 * engine's own element-wise threads (or another rank) need next: OPENBLAS_THREAD_TIMEOUT shortens that. Its
 * kernels are chosen by the CPU's instruction sets (OPENBLAS_CORETYPE, see below).
 */
export function configureOpenBlas(): void {
  process.env.OPENBLAS_THREAD_TIMEOUT ??= "4";
  const coreType = openblasCoreType();
  if (coreType !== null) process.env.OPENBLAS_CORETYPE ??= coreType;
}

/** How to build the engine from source, for the errors below. */
const BUILD_FROM_SOURCE =
  "Build it from source: install a C++ toolchain and OpenBLAS (apt-get install -y g++ make python3 " +
  "libopenblas-dev), then run `npx fulmen-build-native` in node_modules/@fulmen/accelerator-host (in Fulmen's " +
  "repository: pnpm build).";

/**
 * Loads the engine's addon — a source build (build/Release) when there is one, else the prebuilt addon the
 * package carries for this platform — or throws an error that says why there is none and how to get it.
 */
export function loadEngine(): NativeEngine {
  if (loaded !== null) return loaded;
  const addon = locateNativeAddon(packageRoot, "fulmen_engine");
  if (addon === null) {
    const reasonFile = join(packageRoot, "build", "unavailable.txt");
    const reason = existsSync(reasonFile)
      ? readFileSync(reasonFile, "utf8").trim()
      : `no source build, and no prebuilt engine for ${prebuildPlatform()} in the package`;
    throw new FulmenError(`The native engine of @fulmen/accelerator-host is not built: ${reason}
${BUILD_FROM_SOURCE}`);
  }
  configureOpenBlas();
  try {
    loaded = createRequire(import.meta.url)(addon) as NativeEngine;
  } catch (error) {
    throw new FulmenError(
      `The native engine of @fulmen/accelerator-host (${addon}) does not load here: ${(error as Error).message}
${BUILD_FROM_SOURCE}`,
    );
  }
  return loaded;
}

/** Whether the engine's addon is built and loads here. */
export function isEngineAvailable(): boolean {
  try {
    loadEngine();
    return true;
  } catch {
    return false;
  }
}
