import { afterEach, describe, expect, it } from "vitest";
import { nn, tf } from "../src/index";
import { declareBackendFeatures } from "../src/plugin";

/** `[1, 1, h, w]` holding 0, 1, 2, … in row-major order (or the given values). */
function plane(h: number, w: number, values?: number[]): tf.Tensor4D {
  return tf.tensor4d(values ?? Array.from({ length: h * w }, (_, i) => i), [1, 1, h, w]);
}

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync()).map((v) => Number(v.toFixed(5)));
}

afterEach(() => declareBackendFeatures("cpu", { channelsFirst: false }));

// Both layouts: tfjs's NHWC (transposes) and one-channel planes (a backend declaring channelsFirst).
for (const channelsFirst of [false, true]) {
  describe(`pooling options as PyTorch's (channelsFirst ${channelsFirst})`, () => {
    const setup = () => declareBackendFeatures("cpu", { channelsFirst });

    it("ceilMode pools the partial window at the end: shape and values", () => {
      setup();
      const x = plane(3, 3, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const max = new nn.MaxPool2d(2, { ceilMode: true }).forward(x);
      expect(max.shape).toEqual([1, 1, 2, 2]);
      expect(values(max)).toEqual([5, 6, 8, 9]);
      // A partial window divides by what it covers of the (unpadded) input: (3 + 6)/2, (7 + 8)/2, 9/1.
      const avg = new nn.AvgPool2d(2, { ceilMode: true }).forward(x);
      expect(values(avg)).toEqual([3, 4.5, 7.5, 9]);
      // Floor mode (the default) drops the last row and column.
      expect(new nn.MaxPool2d(2).forward(x).shape).toEqual([1, 1, 1, 1]);
    });

    it("ceilMode drops a last window that would start in the right padding", () => {
      setup();
      // L = 5, k = 2, s = 2, p = 1: ⌈5/2⌉ + 1 = 4 windows, but the 4th would start at 6 = L + p: 3 remain.
      const y = new nn.MaxPool2d(2, { stride: 2, padding: 1, ceilMode: true }).forward(plane(5, 5));
      expect(y.shape).toEqual([1, 1, 3, 3]);
      expect(values(y)).toEqual([0, 2, 4, 10, 12, 14, 20, 22, 24]);
    });

    it("countIncludePad: false divides by the input elements in each window only", () => {
      setup();
      const x = plane(4, 4);
      const without = new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }).forward(x);
      expect(values(without)).toEqual([2.5, 4, 8.5, 10]);
      const withPad = new nn.AvgPool2d(3, { stride: 2, padding: 1 }).forward(x);
      expect(values(withPad)).toEqual([10 / 9, 24 / 9, 51 / 9, 10].map((v) => Number(v.toFixed(5))));
    });

    it("divisorOverride replaces every window's divisor", () => {
      setup();
      expect(values(new nn.AvgPool2d(2, { divisorOverride: 1 }).forward(plane(2, 2, [1, 2, 3, 4])))).toEqual([
        10,
      ]);
    });

    it("dilation spaces max pooling's taps; the gradient of tied taps goes to the first, as PyTorch's", () => {
      setup();
      // Taps (i, j), (i, j+2), (i+2, j), (i+2, j+2): the maximum of a 0..24 ramp is the last one.
      const pool = new nn.MaxPool2d(2, { dilation: 2, stride: 1 });
      expect(values(pool.forward(plane(5, 5)))).toEqual([12, 13, 14, 17, 18, 19, 22, 23, 24]);
      // All taps equal: each window's gradient goes to its first tap, (i, j), not a quarter to each.
      const g = tf.grad((v: tf.Tensor) => tf.sum(pool.forward(v)))(tf.ones([1, 1, 4, 4]));
      expect(values(g)).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
      // With stride, padding (−∞) and ceil mode: windows of extent 3 at rows/columns −1, 1, 3 of a 4×4 ramp.
      const strided = new nn.MaxPool2d(2, { dilation: 2, stride: 2, padding: 1, ceilMode: true });
      const y = strided.forward(plane(4, 4));
      // (taps −1 and 1, 1 and 3, 3 and 5 of the ramp 4·row + column; −1 and 5 are padding)
      expect(y.shape).toEqual([1, 1, 3, 3]);
      expect(values(y)).toEqual([5, 7, 7, 13, 15, 15, 13, 15, 15]);
      expect(strided.toString()).toContain("dilation=[2,2]");
    });

    it("differentiates ceil-mode average pooling with each window's own divisor", () => {
      setup();
      const g = tf.grad((v: tf.Tensor) => tf.sum(new nn.AvgPool2d(2, { ceilMode: true }).forward(v)))(
        plane(3, 3),
      );
      expect(values(g)).toEqual([0.25, 0.25, 0.5, 0.25, 0.25, 0.5, 0.5, 0.5, 1]);
    });
  });
}

describe("pooling option checks", () => {
  it("refuses an unknown option instead of ignoring it", () => {
    expect(() => new nn.MaxPool2d(2, { ceil_mode: true } as never)).toThrow(
      /MaxPool2d: unknown option 'ceil_mode' \(did you mean 'ceilMode'\?\)/,
    );
    expect(() => new nn.MaxPool2d(2, { countIncludePad: false } as never)).toThrow(
      /unknown option 'countIncludePad'/,
    );
    expect(() => new nn.AvgPool2d(2, { dilation: 2 } as never)).toThrow(
      /AvgPool2d: unknown option 'dilation'/,
    );
    expect(() => new nn.AvgPool2d(2, { divisorOverride: 0 })).toThrow(/invalid divisorOverride 0/);
    expect(() => new nn.MaxPool2d(2, { stride: 0 })).toThrow(/stride must be a positive integer/);
    // PyTorch's limit is half the dilated window's extent: (2 − 1)·2 + 1 = 3 takes a padding of 1, not 2.
    expect(() => new nn.MaxPool2d(2, { dilation: 2, padding: 2 })).toThrow(
      /padding \[2,2\] must be at most half the dilated window's extent \[3,3\]/,
    );
    expect(() => new nn.MaxPool2d(2, { dilation: 0 })).toThrow(/dilation must be a positive integer/);
  });

  it("names an input too small for the kernel", () => {
    expect(() => new nn.MaxPool2d(3).forward(plane(2, 2))).toThrow(/too small for kernelSize \[3,3\]/);
  });
});
