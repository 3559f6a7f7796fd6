/**
 * A device engine as the addons expose it (native/device/device_napi.cc): memory that JavaScript reaches only
 * through addresses, copies in and out, and kernels enqueued in order. The GPU build implements it over CUDA;
 * the host build over host memory, so that the device backend runs in CI as it will on a GPU. Every address
 * passed in is checked to be a live block of the size the call needs.
 */
export interface NativeDevice {
  /** What the memory is: "host memory", or the GPU's name. */
  describe(): string;
  /** A block of at least `bytes` (≥ 1); its address. */
  allocate(bytes: number): number;
  /** Gives a block back once the work already enqueued on it is done. */
  release(address: number): void;
  /** The caching allocator's counts: bytes held by blocks in use, bytes cached for reuse, raw allocations. */
  memory(): DeviceMemoryStats;
  /** Returns the cached free blocks to the device (on a GPU, a device-wide synchronisation). */
  emptyCache(): void;
  /** Host → device: the whole array into the block. */
  upload(address: number, values: Float32Array | Int32Array | Uint8Array): void;
  /** Device → host: fills the whole array, after every kernel enqueued before. */
  download(address: number, values: Float32Array | Int32Array | Uint8Array): void;
  /** Device → device: `bytes` from the block at `source` to the block at `target`, in kernel order. */
  copy(target: number, source: number, bytes: number): void;
  /** Waits for every enqueued kernel; throws what a kernel failed with. */
  synchronize(): void;
  /**
   * Enqueues `out = a (op) b` on float32 blocks with NumPy broadcasting of `aShape` and `bShape` to
   * `outShape`; `op` is an engine op code (`kernelUtil.BINARY` of `@fulmen/accelerator-host`: Add 0, Sub 1,
   * Multiply 2, RealDiv 3, Maximum 4, Minimum 5, SquaredDifference 6).
   */
  binary(
    op: number,
    a: number,
    aShape: number[],
    b: number,
    bShape: number[],
    out: number,
    outShape: number[],
  ): void;
  /**
   * Enqueues `out = a (op) b` as tfjs's bool (1 or 0, one byte each), float32 `a` and `b` broadcast to
   * `outShape`; `op` is an engine op code (`kernelUtil.COMPARE`: Greater 0, GreaterEqual 1,
   * Less 2, LessEqual 3, Equal 4, NotEqual 5).
   */
  compare(
    op: number,
    a: number,
    aShape: number[],
    b: number,
    bShape: number[],
    out: number,
    outShape: number[],
  ): void;
  /**
   * Enqueues `out = op(x)` over `n` float32 values; `op` is an engine op code (`kernelUtil.UNARY`: Sqrt 0,
   * Relu 1, Exp 2, Log 3, Neg 4, Square 5, Abs 6, Tanh 7, Sigmoid 8, Rsqrt 9, Erf 10).
   */
  unary(op: number, x: number, out: number, n: number): void;
  /** Half storage: x rounded to float16 (format 0) or bfloat16 (1) and packed into 2 bytes a value. */
  toHalf(format: number, x: number, out: number, n: number): void;
  /** Half storage's float32 values. */
  fromHalf(format: number, x: number, out: number, n: number): void;
  /** batchMatMul of two half-stored operands of one format, float32 accumulation (tensor cores on a GPU). */
  batchMatMulHalf(
    format: number,
    a: number,
    b: number,
    c: number,
    batchA: number,
    batchB: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
  ): void;
  /** out = x rounded to float16 (format 0) or bfloat16 (1) values. */
  roundHalf(format: number, x: number, out: number, n: number): void;
  /** Enqueues exact GELU, `y = 0.5·x·(1 + erf(x/√2))`, over `n` float32 values. */
  gelu(x: number, y: number, n: number): void;
  /** Enqueues GELU's gradient, `dx = dy·gelu'(x)`, over `n` float32 values. */
  geluGrad(dy: number, x: number, dx: number, n: number): void;
  /** Enqueues softmax over each of `rows` rows of `cols` float32 values (`exp(x - max) / sum`). */
  softmax(x: number, out: number, rows: number, cols: number): void;
  /**
   * Enqueues layer normalisation over `rows` rows of `cols` values: `y = (x - mean)·rstd·weight + bias`
   * (`weight` and `bias` blocks of `cols` values, or null), writing each row's `mean` and
   * `rstd = 1/√(biased variance + eps)` (blocks of `rows` values) for the backward pass.
   */
  layerNorm(
    x: number,
    weight: number | null,
    bias: number | null,
    y: number,
    mean: number,
    rstd: number,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  /**
   * Enqueues layerNorm's gradients from the forward pass's `mean` and `rstd`: `dx` always, `dWeight` and
   * `dBias` (sums over rows, `cols` values) when not null; `weight` null when the forward pass had none.
   */
  layerNormGrad(
    dy: number,
    x: number,
    mean: number,
    rstd: number,
    weight: number | null,
    dx: number,
    dWeight: number | null,
    dBias: number | null,
    rows: number,
    cols: number,
  ): void;
  /**
   * Enqueues `out[o, i, k] = x[o, indices[i], k]` for x seen as [outer, axisDim, inner] and `n` int32 indices
   * (in [0, axisDim), checked by the caller); elements of `elementBytes` (1 or 4) bytes.
   */
  gather(
    x: number,
    indices: number,
    out: number,
    outer: number,
    axisDim: number,
    inner: number,
    n: number,
    elementBytes: number,
  ): void;
  /**
   * Enqueues tfjs's UnsortedSegmentSum over `n` rows of `inner` float32 values: row s of `out` (`numSegments`
   * rows) is the sum of the rows i with int32 `ids[i] == s`.
   */
  segmentSum(x: number, ids: number, out: number, n: number, inner: number, numSegments: number): void;
  /**
   * Enqueues a copy of a `rows` × `cols` block between two row-major matrices: row r's `cols` elements from
   * `src[r·srcStride + srcOffset]` to `dst[r·dstStride + dstOffset]` (concatenation, splitting); elements of
   * `elementBytes` (1 or 4) bytes. A block that does not fit its rows throws a RangeError.
   */
  copy2d(
    src: number,
    srcStride: number,
    srcOffset: number,
    dst: number,
    dstStride: number,
    dstOffset: number,
    rows: number,
    cols: number,
    elementBytes: number,
  ): void;
  /**
   * Enqueues a copy of the block of `x` (of `shape`) that starts at `begin` and spans `size` into `out`;
   * elements of `elementBytes` (1 or 4) bytes. A block outside `shape` throws a RangeError.
   */
  slice(x: number, out: number, shape: number[], begin: number[], size: number[], elementBytes: number): void;
  /** The mirror of slice: x (of `size`) written into out (of `outShape`) at `begin`. */
  insert(
    x: number,
    out: number,
    outShape: number[],
    begin: number[],
    size: number[],
    elementBytes: number,
  ): void;
  /** kind 0: conv (x, filter); 1: input gradient (dy, filter); 2: filter gradient (x, dy). */
  conv2d(kind: number, first: number, second: number, out: number, shape: number[]): void;
  /** kind 0: max, 1: average. */
  pool(kind: number, x: number, out: number, shape: number[]): void;
  /**
   * Enqueues pool's gradient, `kind` 0 max (each `dy` to its window's winner, found in `x`) or 1 average
   * (`x` unused, may be null); `shape` the 12-number record of `pool`.
   */
  poolGrad(kind: number, dy: number, x: number | null, dx: number, shape: number[]): void;
  /** The fused optimizer updates: inputs, outputs (null where the options leave state out), count, hyperparameters. */
  adamUpdate(...args: Array<number | null | number[]>): void;
  /**
   * One fused SGD step: (param, grad, buffer | null, paramOut, bufferOut | null, n, hyper) with hyper
   * [lr, momentum, dampening, weightDecay, nesterov, maximize, hasBuffer], flags as 1 or 0.
   */
  sgdUpdate(...args: Array<number | null | number[]>): void;
  /**
   * One fused RMSprop step: (param, grad, squareAvg, gradAvg | null, buffer | null, paramOut, squareAvgOut,
   * gradAvgOut | null, bufferOut | null, n, hyper) with hyper [lr, alpha, eps, weightDecay, momentum,
   * centered, maximize]; gradAvg when centered, buffer when momentum > 0.
   */
  rmspropUpdate(...args: Array<number | null | number[]>): void;
  /**
   * One fused Adagrad step: (param, grad, sum, paramOut, sumOut, n, hyper) with hyper [clr, eps, weightDecay,
   * maximize], `clr` the step's decayed learning rate.
   */
  adagradUpdate(...args: Array<number | null | number[]>): void;
  /** kind: 0 sum, 1 mean, 2 max, 3 min over the middle of [outer, reduce, inner]. */
  reduceMiddle(kind: number, x: number, out: number, outer: number, reduce: number, inner: number): void;
  /** Element types: 0 float32, 1 int32, 2 bool. */
  cast(x: number, fromType: number, out: number, toType: number, n: number): void;
  /** Enqueues setting `n` elements of `type` (0 float32, 1 int32, 2 bool) to `value`, converted as a cast. */
  fill(out: number, type: number, value: number, n: number): void;
  /**
   * Enqueues `n` one-hot rows of `depth` elements of `type` (0 float32, 1 int32, 2 bool): `on` at each row's
   * int32 index, `off` elsewhere; an index outside [0, depth) gives an all-off row.
   */
  oneHot(indices: number, out: number, type: number, n: number, depth: number, on: number, off: number): void;
  /** Enqueues tfjs's Step over `n` float32 values: 1 where `x > 0`, `alpha` elsewhere, NaN stays NaN. */
  step(x: number, out: number, n: number, alpha: number): void;
  /** Enqueues `out[i] = condition[i] ? t[i] : e[i]` over `n` values (condition bytes, t and e float32). */
  select(condition: number, t: number, e: number, out: number, n: number): void;
  /**
   * Enqueues tfjs's ClipByValue over `n` float32 values into [lo, hi] (compared as doubles); NaN stays NaN.
   */
  clip(x: number, out: number, n: number, lo: number, hi: number): void;
  /** 4-byte elements. */
  transpose(x: number, out: number, shape: number[], perm: number[]): void;
  /**
   * Enqueues row-major `c = op(a)·op(b)` on float32 blocks for each of `max(batchA, batchB)` products: `a`
   * holds `batchA` [m, k] matrices ([k, m] with `transposeA`), `b` `batchB` [k, n] ones ([n, k] with
   * `transposeB`), `c` the [m, n] results; an operand whose batch is 1 is shared (cuBLAS where it loads).
   */
  batchMatMul(
    a: number,
    b: number,
    c: number,
    batchA: number,
    batchB: number,
    m: number,
    n: number,
    k: number,
    transposeA: boolean,
    transposeB: boolean,
  ): void;
}

/** What the device's caching allocator holds. */
export interface DeviceMemoryStats {
  /** Bytes in blocks that tensors hold. */
  allocatedBytes: number;
  /** Bytes in freed blocks kept for reuse. */
  cachedBytes: number;
  /** How often raw device memory was allocated (cudaMalloc on a GPU). */
  rawAllocations: number;
}
