/**
 * Bit-exact rounding of float32 values to the 16-bit float formats, in plain JavaScript (Node 20 has no
 * Math.f16round). Round to nearest, ties to even; NaN and ±Infinity pass through.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

const FP16_OVERFLOW = 65520; // halfway between float16's largest value 65504 and 65536: rounds to infinity
const FP16_MIN_NORMAL = 2 ** -14;
const FP16_SUBNORMAL_STEP = 2 ** -24;

/** The bfloat16 value nearest to `x` (same exponent range as float32, 8 significant bits). */
export function roundBfloat16(x: number): number {
  f32[0] = x;
  const u = u32[0]!;
  if ((u & 0x7f800000) === 0x7f800000) return f32[0]!;
  const lsb = (u >>> 16) & 1;
  u32[0] = ((u + 0x7fff + lsb) & 0xffff0000) >>> 0;
  return f32[0]!;
}

/** The float16 value nearest to `x`: 11 significant bits, subnormals below 2⁻¹⁴, overflow to ±Infinity. */
export function roundFloat16(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  if (a >= FP16_OVERFLOW) return x > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  let step = FP16_SUBNORMAL_STEP;
  if (a >= FP16_MIN_NORMAL) {
    f32[0] = a;
    const exponent = ((u32[0]! >>> 23) & 0xff) - 127;
    step = 2 ** (exponent - 10);
  }
  const n = a / step;
  let r = Math.round(n);
  if (r - n === 0.5 && r % 2 === 1) r -= 1;
  return (x < 0 ? -r : r) * step;
}

/** Rounds every element of a float32 array to bfloat16 (into a new array). */
export function roundBfloat16Array(values: ArrayLike<number>): Float32Array {
  const src = values instanceof Float32Array ? values : Float32Array.from(values);
  const out = new Float32Array(src.length);
  const inBits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) {
    const u = inBits[i]!;
    outBits[i] = (u & 0x7f800000) === 0x7f800000 ? u : ((u + 0x7fff + ((u >>> 16) & 1)) & 0xffff0000) >>> 0;
  }
  return out;
}

/** Rounds every element of a float32 array to float16 (into a new array). */
export function roundFloat16Array(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = roundFloat16(values[i]!);
  return out;
}
