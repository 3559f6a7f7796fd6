import { FACTORY, REQUIRED, type TorchParam, type TorchSignature } from "./common";

/** `TransformerEncoderLayer` and `TransformerDecoderLayer` share their parameters (PyTorch 2.x, with `bias`). */
const TRANSFORMER_LAYER: TorchSignature = {
  params: [
    ["d_model", REQUIRED],
    ["nhead", REQUIRED],
    ["dim_feedforward", 2048],
    ["dropout", 0.1],
    ["activation", "relu"],
    ["layer_norm_eps", 1e-5],
    ["batch_first", false],
    ["norm_first", false],
    ["bias", true],
    ...FACTORY,
  ],
  positional: 2,
  options: true,
};

/** PyTorch's signatures of the attention family's `torch.nn` classes, by name. */
export const modules: Readonly<Record<string, TorchSignature>> = {
  MultiheadAttention: {
    params: [
      ["embed_dim", REQUIRED],
      ["num_heads", REQUIRED],
      ["dropout", 0.0],
      ["bias", true],
      ["add_bias_kv", false],
      ["add_zero_attn", false],
      ["kdim", null],
      ["vdim", null],
      ["batch_first", false],
      ...FACTORY,
    ],
    positional: 2,
    options: true,
  },
  TransformerEncoderLayer: TRANSFORMER_LAYER,
  TransformerDecoderLayer: TRANSFORMER_LAYER,
  TransformerEncoder: {
    params: [
      ["encoder_layer", REQUIRED],
      ["num_layers", REQUIRED],
      ["norm", null],
      ["enable_nested_tensor", true],
      ["mask_check", true],
    ],
    positional: 2,
    options: true,
  },
  TransformerDecoder: {
    params: [
      ["decoder_layer", REQUIRED],
      ["num_layers", REQUIRED],
      ["norm", null],
    ],
    positional: 2,
    options: true,
  },
  // every argument in Fulmen's options object (PyTorch 2.x adds bias after norm_first)
  Transformer: {
    params: [
      ["d_model", 512],
      ["nhead", 8],
      ["num_encoder_layers", 6],
      ["num_decoder_layers", 6],
      ["dim_feedforward", 2048],
      ["dropout", 0.1],
      ["activation", "relu"],
      ["custom_encoder", null],
      ["custom_decoder", null],
      ["layer_norm_eps", 1e-5],
      ["batch_first", false],
      ["norm_first", false],
      ["bias", true],
      ...FACTORY,
    ],
    positional: 0,
    options: true,
  },
};

/** PyTorch's signatures of the attention family's `torch.nn.functional` functions (after the tensor arguments). */
export const functions: Readonly<Record<string, readonly TorchParam[]>> = {
  scaled_dot_product_attention: [
    ["attn_mask", null],
    ["dropout_p", 0.0],
    ["is_causal", false],
    ["scale", null],
  ],
};
