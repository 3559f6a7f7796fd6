/**
 * Bit-exact rounding of float32 values to the 16-bit float formats, in plain JavaScript (Node 20 has no
 * Math.f16round). Round to nearest, ties to even; NaN and ±Infinity pass through.
 */

/**
 * Kernel names of rounding a float32 tensor to float16 / bfloat16 values (kept as float32): inputs `{x}`, output
 * the rounded values, bit for bit {@link roundFloat16Array} / {@link roundBfloat16Array}. The precision plugins
 * run them; each backend registers its own (the native engine's run on its memory).
 */
export const ROUND_FLOAT16_KERNEL = "FulmenRoundFloat16";
/** See {@link ROUND_FLOAT16_KERNEL}. */
export const ROUND_BFLOAT16_KERNEL = "FulmenRoundBfloat16";

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

/** The IEEE float16 bit pattern of `x` (rounded to nearest even first). */
export function float16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const r = roundFloat16(x);
  const sign = r < 0 || Object.is(r, -0) ? 0x8000 : 0;
  const a = Math.abs(r);
  if (a === Number.POSITIVE_INFINITY) return sign | 0x7c00;
  if (a === 0) return sign;
  if (a < FP16_MIN_NORMAL) return sign | (a / FP16_SUBNORMAL_STEP);
  f32[0] = a;
  const exponent = ((u32[0]! >>> 23) & 0xff) - 127;
  const mantissa = (a / 2 ** exponent - 1) * 1024;
  return sign | ((exponent + 15) << 10) | mantissa;
}

/** The value of an IEEE float16 bit pattern. */
export function float16FromBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * FP16_SUBNORMAL_STEP;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** Float32 values as 16-bit patterns of `dtype` (each value rounded to nearest even). */
export function encodeHalf(values: ArrayLike<number>, dtype: "bfloat16" | "float16"): Uint16Array {
  const out = new Uint16Array(values.length);
  if (dtype === "float16") {
    for (let i = 0; i < values.length; i++) out[i] = float16Bits(values[i]!);
    return out;
  }
  const rounded = roundBfloat16Array(values);
  const bits = new Uint32Array(rounded.buffer);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i]! >>> 16;
  return out;
}

/** 16-bit patterns of `dtype` back to float32 values. */
export function decodeHalf(bits: Uint16Array, dtype: "bfloat16" | "float16"): Float32Array {
  const out = new Float32Array(bits.length);
  if (dtype === "float16") {
    for (let i = 0; i < bits.length; i++) out[i] = float16FromBits(bits[i]!);
    return out;
  }
  const wide = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) wide[i] = bits[i]! << 16;
  return out;
}
