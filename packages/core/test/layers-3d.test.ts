import { describe, expect, it } from "vitest";
import { backward, manualSeed, nn, SGD, tf } from "../src/index";

const F = nn.functional;

describe("3-D layers: shapes, state-dict names and default initialisation", () => {
  it("Conv3d has PyTorch's weight layout, bias and bounds, and takes batched and unbatched input", () => {
    const conv = new nn.Conv3d(4, 6, [2, 3, 1], { groups: 2, stride: [1, 2, 1], padding: 1 });
    expect(Object.keys(conv.stateDict())).toEqual(["weight", "bias"]);
    expect(conv.weight.data.shape).toEqual([6, 2, 2, 3, 1]);
    expect(conv.bias?.data.shape).toEqual([6]);
    // kaiming_uniform(a=√5): bound 1/√fanIn, fanIn = in/groups · kD·kH·kW = 12
    const bound = 1 / Math.sqrt(12);
    expect(tf.max(tf.abs(conv.weight.data)).dataSync()[0]).toBeLessThanOrEqual(bound);
    expect(conv.forward(tf.zeros([2, 4, 3, 5, 4])).shape).toEqual([2, 6, 4, 3, 6]);
    expect(conv.forward(tf.zeros([4, 3, 5, 4])).shape).toEqual([6, 4, 3, 6]);
    expect(
      new nn.Conv3d(2, 2, 3, { padding: "same", bias: false }).forward(tf.zeros([1, 2, 4, 5, 6])).shape,
    ).toEqual([1, 2, 4, 5, 6]);
  });

  it("ConvTranspose3d has the [in, out/groups, ...kernel] weight and reaches outputSize", () => {
    const up = new nn.ConvTranspose3d(4, 2, 3, { stride: 2, padding: 1, groups: 2 });
    expect(up.weight.data.shape).toEqual([4, 1, 3, 3, 3]);
    expect(up.forward(tf.zeros([1, 4, 3, 3, 3])).shape).toEqual([1, 2, 5, 5, 5]);
    expect(up.forward(tf.zeros([1, 4, 3, 3, 3]), { outputSize: [6, 5, 6] }).shape).toEqual([1, 2, 6, 5, 6]);
    expect(up.forward(tf.zeros([4, 3, 3, 3])).shape).toEqual([2, 5, 5, 5]);
  });

  it("pools, adaptive pools and Upsample give PyTorch's output shapes", () => {
    const x = tf.zeros([2, 3, 5, 6, 7]);
    expect(new nn.MaxPool3d(2).forward(x).shape).toEqual([2, 3, 2, 3, 3]);
    expect(new nn.MaxPool3d(3, { stride: 2, padding: 1, ceilMode: true }).forward(x).shape).toEqual([
      2, 3, 3, 4, 4,
    ]);
    expect(new nn.AvgPool3d([1, 2, 3]).forward(tf.zeros([3, 4, 6, 6])).shape).toEqual([3, 4, 3, 2]);
    expect(new nn.AdaptiveAvgPool3d([2, null, 3]).forward(x).shape).toEqual([2, 3, 2, 6, 3]);
    expect(new nn.AdaptiveMaxPool3d(1).forward(x).shape).toEqual([2, 3, 1, 1, 1]);
    expect(new nn.Upsample({ scaleFactor: 2, mode: "trilinear" }).forward(x).shape).toEqual([
      2, 3, 10, 12, 14,
    ]);
    expect(F.interpolate(x, { size: [3, 3, 3], mode: "nearest-exact" }).shape).toEqual([2, 3, 3, 3, 3]);
  });

  it("BatchNorm3d and InstanceNorm3d keep PyTorch's buffers", () => {
    const bn = new nn.BatchNorm3d(3);
    expect(Object.keys(bn.stateDict())).toEqual([
      "weight",
      "bias",
      "running_mean",
      "running_var",
      "num_batches_tracked",
    ]);
    expect(bn.forward(tf.randomNormal([2, 3, 2, 3, 2])).shape).toEqual([2, 3, 2, 3, 2]);
    expect(bn.numBatchesTracked?.dataSync()[0]).toBe(1);
    const inorm = new nn.InstanceNorm3d(2, { affine: true, trackRunningStats: true });
    expect(Object.keys(inorm.stateDict())).toEqual([
      "weight",
      "bias",
      "running_mean",
      "running_var",
      "num_batches_tracked",
    ]);
    expect(inorm.forward(tf.randomNormal([2, 3, 2, 2])).shape).toEqual([2, 3, 2, 2]);
    expect(new nn.InstanceNorm3d(2).forward(tf.randomNormal([1, 2, 2, 2, 3])).shape).toEqual([1, 2, 2, 2, 3]);
  });
});

describe("3-D layers: bad input gets a FulmenError naming the problem and the fix", () => {
  it("conv3d / Conv3d / ConvTranspose3d", () => {
    const conv = new nn.Conv3d(2, 3, 3);
    expect(() => conv.forward(tf.zeros([1, 2, 4, 4]))).toThrow(/Conv3d: input has 1 channels|expected input/);
    expect(() => conv.forward(tf.zeros([1, 2, 4, 4, 4, 4]))).toThrow(
      /Conv3d: expected input \[N, C, D, H, W\]/,
    );
    expect(() => conv.forward(tf.zeros([1, 3, 4, 4, 4]))).toThrow(/3 channels .* inChannels is 2/);
    expect(() => conv.forward(tf.zeros([1, 2, 2, 4, 4]))).toThrow(
      /kernel's extent \[3,3,3\].*larger than the padded input/,
    );
    expect(() => new nn.Conv3d(3, 4, 3, { groups: 2 })).toThrow(/divisible by groups/);
    expect(() => new nn.Conv3d(2, 2, [3, 3] as never)).toThrow(
      /kernelSize must be a positive integer or 3 of them/,
    );
    expect(() => new nn.Conv3d(2, 2, 3, { padding: "same", stride: 2 })).toThrow(/not supported for strided/);
    expect(() => new nn.Conv3d(2, 2, 3, { paddingMode: "mirror" as never })).toThrow(/unknown paddingMode/);
    expect(() =>
      new nn.Conv3d(2, 2, 3, { padding: 3, paddingMode: "reflect" }).forward(tf.zeros([1, 2, 3, 3, 3])),
    ).toThrow(/reflect padding of 3 is too large/);
    expect(() => F.conv3d(tf.zeros([1, 3, 4, 4, 4]), tf.zeros([2, 2, 3, 3, 3]))).toThrow(/expects 2/);
    expect(() => F.conv3d(tf.zeros([1, 2, 4, 4, 4]), tf.zeros([2, 2, 3, 3]))).toThrow(
      /weight must have 5 dimensions/,
    );
    expect(() => F.conv3d(tf.zeros([1, 2, 4, 4, 4]), tf.zeros([2, 2, 3, 3, 3]), tf.zeros([3]))).toThrow(
      /bias must have shape \[2\]/,
    );
    const up = new nn.ConvTranspose3d(2, 2, 3, { stride: 2 });
    expect(() => up.forward(tf.zeros([1, 3, 2, 2, 2]))).toThrow(/inChannels is 2/);
    expect(() => up.forward(tf.zeros([1, 2, 2, 2, 2]), { outputSize: [9, 5, 5] })).toThrow(/not reachable/);
    expect(() => new nn.ConvTranspose3d(2, 2, 3, { outputPadding: 2, stride: 2 })).toThrow(/outputPadding/);
  });

  it("pools, norms and interpolate", () => {
    expect(() => new nn.MaxPool3d(2).forward(tf.zeros([2, 4, 4]))).toThrow(
      /MaxPool3d: expected input \[N, C, D, H, W\] or unbatched \[C, D, H, W\]/,
    );
    expect(() => new nn.MaxPool3d(3).forward(tf.zeros([1, 1, 2, 4, 4]))).toThrow(/too small for kernelSize/);
    expect(() => new nn.AvgPool3d(2, { padding: 2 })).toThrow(/at most half the kernel size/);
    expect(() => new nn.AvgPool3d(2, { divisorOverride: 0 })).toThrow(/divisorOverride/);
    expect(() => F.maxPool3d(tf.zeros([1, 1, 4, 4, 4]), 2, { bogus: 1 } as never)).toThrow(/bogus/);
    expect(() => new nn.AdaptiveMaxPool3d([2, 2])).toThrow(/outputSize must be .* 3 of them/);
    expect(() => new nn.BatchNorm3d(3).forward(tf.zeros([3, 2, 2, 2]))).toThrow(
      /BatchNorm3d: expected \[N, 3, D, H, W\].*batch dimension/,
    );
    expect(() => new nn.BatchNorm3d(3).forward(tf.zeros([2, 4, 2, 2, 2]))).toThrow(/BatchNorm3d: expected/);
    expect(() => new nn.InstanceNorm3d(2, { affine: true }).forward(tf.zeros([1, 3, 2, 2, 2]))).toThrow(
      /channel dimension to be 2/,
    );
    expect(() => new nn.InstanceNorm3d(2).forward(tf.zeros([2, 2, 2]))).toThrow(
      /expected 4D \(unbatched\) or 5D/,
    );
    expect(() => F.interpolate(tf.zeros([1, 1, 2, 2]), { size: 3, mode: "trilinear" })).toThrow(
      /trilinear mode needs 5-D input/,
    );
  });
});

describe("3-D layers: no tensor leaks", () => {
  it("keeps tf.memory().numTensors flat across repeated forward and backward steps", () => {
    manualSeed(5);
    const model = new nn.Sequential(
      new nn.Conv3d(2, 4, 3, { padding: 1, dilation: [1, 2, 1], groups: 2, paddingMode: "reflect" }),
      new nn.ConvTranspose3d(4, 2, 2, { stride: 2, groups: 2, dilation: [1, 1, 2] }),
      new nn.MaxPool3d([2, 3, 2], { stride: 1, padding: 1 }),
      new nn.MaxPool3d(2, { ceilMode: true, dilation: 2 }),
      new nn.AvgPool3d(2, { padding: 1, countIncludePad: false }),
      new nn.AdaptiveMaxPool3d([2, 3, 2]),
      new nn.BatchNorm3d(2),
      new nn.InstanceNorm3d(2, { affine: true, trackRunningStats: true }),
      new nn.Upsample({ scaleFactor: 1.5, mode: "trilinear" }),
      new nn.MaxPool3d(2, { stride: 1 }),
      new nn.AdaptiveAvgPool3d(2),
      new nn.Flatten(),
      new nn.Linear(16, 1),
    );
    const optimizer = new SGD(model, { lr: 0.01 });
    const x = tf.randomNormal([2, 2, 4, 5, 4], 0, 1, "float32", 7);
    const y = tf.tensor2d([[1], [0]]);
    const step = () => {
      optimizer.zeroGrad();
      const loss = backward(
        () => nn.binaryCrossEntropyWithLogits(model.forward(x) as tf.Tensor, y) as tf.Scalar,
        model,
      );
      loss.dispose();
      optimizer.step();
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    for (const p of model.parameters()) expect(p.grad).not.toBeNull();
    optimizer.disposeState();
    model.dispose();
    tf.dispose([x, y]);
  });
});
