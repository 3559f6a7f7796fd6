import { describe, expect, it } from "vitest";
import {
  bfloat16,
  decodeHalf,
  encodeHalf,
  float16,
  float16Bits,
  halfFormat,
  roundBfloat16,
  roundBfloat16Array,
  roundFloat16,
  roundFloat16Array,
  tf,
} from "../src/index";

describe("half rounding", () => {
  it("rounds to bfloat16 to nearest, ties to even", () => {
    expect(roundBfloat16(1 + 2 ** -8)).toBe(1); // a tie between 1 and 1+2^-7: the even one
    expect(roundBfloat16(1 + 3 * 2 ** -8)).toBe(1 + 2 ** -6); // a tie: rounds up to the even mantissa
    expect(roundBfloat16(1 + 2 ** -8 + 2 ** -20)).toBe(1 + 2 ** -7); // above the tie
    expect(roundBfloat16(Math.PI)).toBe(3.140625);
    expect(roundBfloat16(-0.1)).toBe(-0.10009765625);
    expect(roundBfloat16(3.4e38)).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(roundBfloat16(Number.NaN))).toBe(true);
  });

  it("rounds to float16 with its range, overflow and subnormals", () => {
    expect(roundFloat16(65504)).toBe(65504);
    expect(roundFloat16(65519)).toBe(65504);
    expect(roundFloat16(65520)).toBe(Number.POSITIVE_INFINITY);
    expect(roundFloat16(-1e6)).toBe(Number.NEGATIVE_INFINITY);
    expect(roundFloat16(1 + 2 ** -11)).toBe(1); // tie → even
    expect(roundFloat16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    expect(roundFloat16(0.1)).toBe(0.0999755859375);
    expect(roundFloat16(1.5 * 2 ** -24)).toBe(2 ** -23); // subnormal tie → even
    expect(roundFloat16(2 ** -26)).toBe(0);
    expect(roundFloat16(3 * 2 ** -25)).toBe(2 * 2 ** -24);
  });

  it("the array forms agree with the scalar forms", () => {
    const values = Float32Array.from([0.3, -7.77, 1e-6, 12345.678, 65530, -0, 2 ** -20]);
    expect(Array.from(roundBfloat16Array(values))).toEqual(Array.from(values).map(roundBfloat16));
    expect(Array.from(roundFloat16Array(values))).toEqual(Array.from(values).map(roundFloat16));
  });

  it("encodes and decodes IEEE float16 and bfloat16 bit patterns", () => {
    expect(float16Bits(1)).toBe(0x3c00);
    expect(float16Bits(-2)).toBe(0xc000);
    expect(float16Bits(65504)).toBe(0x7bff);
    expect(float16Bits(2 ** -24)).toBe(0x0001);
    expect(float16Bits(Number.POSITIVE_INFINITY)).toBe(0x7c00);
    expect(float16Bits(0.1)).toBe(0x2e66);
    const values = Float32Array.from([0.1, -3.5, 1e-7, 70000, 0, -0.000123]);
    for (const dtype of ["float16", "bfloat16"] as const) {
      const round = dtype === "float16" ? roundFloat16 : roundBfloat16;
      expect(Array.from(decodeHalf(encodeHalf(values, dtype), dtype))).toEqual(Array.from(values).map(round));
    }
    expect(Array.from(encodeHalf([1, -1], "bfloat16"))).toEqual([0x3f80, 0xbf80]);
  });
});

describe("core's half formats", () => {
  it("round tensors with core's kernels, registered on demand for the backend in use (no precision package needed)", () => {
    const x = tf.tensor1d([1 + 2 ** -12, 65519, 70000, -3.3]);
    const b = halfFormat("bfloat16").round(x);
    const h = float16.round(x);
    expect(Array.from(b.dataSync())).toEqual(Array.from(roundBfloat16Array(x.dataSync())));
    expect(Array.from(h.dataSync())).toEqual([1, 65504, Infinity, -3.30078125]);
    expect(halfFormat("float16")).toBe(float16);
    expect(bfloat16.dtype).toBe("bfloat16");
    for (const t of [x, b, h]) t.dispose();
  });
});
