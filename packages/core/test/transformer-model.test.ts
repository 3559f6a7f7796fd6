import { describe, expect, it } from "vitest";
import { FulmenError, nn, tf } from "../src/index";

/** nn.Transformer's construction and errors; its numbers are torch-layers-attention.json's Transformer_* cases. */

// torch 1.13: sorted(nn.Transformer(d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
// dim_feedforward=8).state_dict().keys())
const TORCH_KEYS = [
  "decoder.layers.0.linear1.bias",
  "decoder.layers.0.linear1.weight",
  "decoder.layers.0.linear2.bias",
  "decoder.layers.0.linear2.weight",
  "decoder.layers.0.multihead_attn.in_proj_bias",
  "decoder.layers.0.multihead_attn.in_proj_weight",
  "decoder.layers.0.multihead_attn.out_proj.bias",
  "decoder.layers.0.multihead_attn.out_proj.weight",
  "decoder.layers.0.norm1.bias",
  "decoder.layers.0.norm1.weight",
  "decoder.layers.0.norm2.bias",
  "decoder.layers.0.norm2.weight",
  "decoder.layers.0.norm3.bias",
  "decoder.layers.0.norm3.weight",
  "decoder.layers.0.self_attn.in_proj_bias",
  "decoder.layers.0.self_attn.in_proj_weight",
  "decoder.layers.0.self_attn.out_proj.bias",
  "decoder.layers.0.self_attn.out_proj.weight",
  "decoder.norm.bias",
  "decoder.norm.weight",
  "encoder.layers.0.linear1.bias",
  "encoder.layers.0.linear1.weight",
  "encoder.layers.0.linear2.bias",
  "encoder.layers.0.linear2.weight",
  "encoder.layers.0.norm1.bias",
  "encoder.layers.0.norm1.weight",
  "encoder.layers.0.norm2.bias",
  "encoder.layers.0.norm2.weight",
  "encoder.layers.0.self_attn.in_proj_bias",
  "encoder.layers.0.self_attn.in_proj_weight",
  "encoder.layers.0.self_attn.out_proj.bias",
  "encoder.layers.0.self_attn.out_proj.weight",
  "encoder.norm.bias",
  "encoder.norm.weight",
];

describe("nn.Transformer", () => {
  const small = { dModel: 4, nhead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 8 };

  it("has PyTorch's state-dict keys", () => {
    const model = new nn.Transformer(small);
    expect(Object.keys(model.stateDict()).sort()).toEqual(TORCH_KEYS);
    model.dispose();
  });

  it("starts every weight matrix Xavier-uniform, as PyTorch's _reset_parameters", () => {
    const model = new nn.Transformer({ ...small, dModel: 16, dimFeedforward: 48 });
    const linear1 = model.stateDict()["encoder.layers.0.linear1.weight"]!;
    const bound = Math.sqrt(6 / (16 + 48));
    const values = Array.from(linear1.dataSync());
    // Xavier's bound for [48, 16] is sqrt(6/64) = 0.306; Linear's own init would stay within 1/sqrt(16) = 0.25
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    model.dispose();
  });

  it("encodes and decodes with masks, batch first or not, and keeps the tensor count flat across steps", () => {
    const model = new nn.Transformer({ ...small, batchFirst: true, dropout: 0 });
    const src = tf.randomNormal([2, 5, 4]);
    const tgt = tf.randomNormal([2, 3, 4]);
    const mask = nn.Transformer.generateSquareSubsequentMask(3);
    const step = () =>
      tf.tidy(() => {
        const y = model.forward(src, tgt, { tgtMask: mask, tgtIsCausal: true });
        expect(y.shape).toEqual([2, 3, 4]);
        return tf
          .grad((s: tf.Tensor) => tf.sum(model.forward(s, tgt, { tgtMask: mask })))(src)
          .dataSync()[0];
      });
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([src, tgt, mask]);
    model.dispose();
  });

  it("uses a custom encoder in place of the built one", () => {
    const encoder = new nn.TransformerEncoder(new nn.TransformerEncoderLayer(4, 1, { dimFeedforward: 4 }), 3);
    const model = new nn.Transformer({ ...small, customEncoder: encoder });
    expect(model.encoder).toBe(encoder);
    expect(Object.keys(model.stateDict()).filter((k) => k.startsWith("encoder.layers.")).length).toBe(3 * 12);
    model.dispose();
  });

  it("refuses mismatched batches, a feature size other than dModel and unknown options, naming the fix", () => {
    const model = new nn.Transformer(small);
    expect(() => model.forward(tf.zeros([5, 2, 4]), tf.zeros([3, 3, 4]))).toThrow(/same batch size/);
    expect(() => model.forward(tf.zeros([5, 2, 6]), tf.zeros([3, 2, 6]))).toThrow(/must equal dModel \(4\)/);
    expect(() => new nn.Transformer({ d_model: 4 } as never)).toThrow(/did you mean 'dModel'/);
    expect(() => new nn.Transformer({ ...small, numDecoderLayers: 0 })).toThrow(FulmenError);
    model.dispose();
  });
});
