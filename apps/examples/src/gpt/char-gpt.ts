import { AdamW, Generator, Module, nn, OneCycleLR, tf } from "@fulmen/core";
import { LightningModule, type OptimizerConfig } from "@fulmen/trainer";

/** Settings of the character-level GPT. */
export interface CharGptConfig {
  vocabSize: number;
  blockSize: number;
  dModel: number;
  heads: number;
  layers: number;
  dropout: number;
  maxLr: number;
  totalSteps: number;
}

/** Multi-head self-attention that only looks back (causal), as in GPT. */
class CausalSelfAttention extends Module {
  qkv: nn.Linear;
  proj: nn.Linear;

  constructor(
    private readonly dModel: number,
    private readonly heads: number,
    private readonly dropout: number,
  ) {
    super();
    this.qkv = new nn.Linear(dModel, 3 * dModel);
    this.proj = new nn.Linear(dModel, dModel);
  }

  forward(x: tf.Tensor3D): tf.Tensor3D {
    const [b, t] = x.shape;
    const hd = this.dModel / this.heads;
    const [q, k, v] = tf
      .split(this.qkv.forward(x), 3, 2)
      .map((z) => tf.transpose(tf.reshape(z, [b, t, this.heads, hd]), [0, 2, 1, 3])) as [
      tf.Tensor4D,
      tf.Tensor4D,
      tf.Tensor4D,
    ];
    // As PyTorch's GPTs do today: one call, which the native engine runs as one kernel each way.
    const attended = nn.functional.scaledDotProductAttention(q, k, v, {
      isCausal: true,
      dropoutP: this.training ? this.dropout : 0,
    });
    const out = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [b, t, this.dModel]);
    return this.proj.forward(out) as tf.Tensor3D;
  }
}

/** A pre-norm transformer block: attention and an MLP, each with a residual connection. */
class Block extends Module {
  ln1: nn.LayerNorm;
  attn: CausalSelfAttention;
  ln2: nn.LayerNorm;
  mlp: nn.Sequential;

  constructor(dModel: number, heads: number, dropout: number) {
    super();
    this.ln1 = new nn.LayerNorm(dModel);
    this.attn = new CausalSelfAttention(dModel, heads, dropout);
    this.ln2 = new nn.LayerNorm(dModel);
    this.mlp = new nn.Sequential(
      new nn.Linear(dModel, 4 * dModel),
      new nn.GELU(),
      new nn.Linear(4 * dModel, dModel),
      new nn.Dropout(dropout),
    );
  }

  forward(x: tf.Tensor3D): tf.Tensor3D {
    const h = tf.add(x, this.attn.forward(this.ln1.forward(x) as tf.Tensor3D)) as tf.Tensor3D;
    return tf.add(h, this.mlp.forward(this.ln2.forward(h))) as tf.Tensor3D;
  }
}

/** A small GPT over characters, as a LightningModule: next-character cross entropy, AdamW + OneCycleLR. */
export class CharGpt extends LightningModule {
  tokenEmbedding: nn.Embedding;
  positionEmbedding: nn.Embedding;
  blocks: nn.ModuleList<Block>;
  lnF: nn.LayerNorm;
  head: nn.Linear;

  constructor(readonly config: CharGptConfig) {
    super();
    this.saveHyperparameters({ ...config });
    this.tokenEmbedding = new nn.Embedding(config.vocabSize, config.dModel);
    this.positionEmbedding = new nn.Embedding(config.blockSize, config.dModel);
    this.blocks = new nn.ModuleList(
      Array.from({ length: config.layers }, () => new Block(config.dModel, config.heads, config.dropout)),
    );
    this.lnF = new nn.LayerNorm(config.dModel);
    this.head = new nn.Linear(config.dModel, config.vocabSize);
  }

  override forward(idx: tf.Tensor2D): tf.Tensor3D {
    const t = idx.shape[1];
    const positions = tf.range(0, t, 1, "int32");
    let x = tf.add(
      this.tokenEmbedding.forward(idx),
      this.positionEmbedding.forward(positions),
    ) as tf.Tensor3D;
    for (const block of this.blocks) x = block.forward(x);
    return this.head.forward(this.lnF.forward(x)) as tf.Tensor3D;
  }

  override trainingStep([x, y]: [tf.Tensor2D, tf.Tensor2D]): tf.Scalar {
    const logits = this.forward(x);
    // crossEntropy takes the class dimension second: [B, V, T] against [B, T].
    const loss = nn.crossEntropy(tf.transpose(logits, [0, 2, 1]), y) as tf.Scalar;
    this.log("train_loss", loss, { progBar: true });
    return loss;
  }

  override configureOptimizers(): OptimizerConfig {
    const optimizer = new AdamW(this, { lr: this.config.maxLr, weightDecay: 0.01 });
    return {
      optimizer,
      lrScheduler: {
        scheduler: new OneCycleLR(optimizer, {
          maxLr: this.config.maxLr,
          totalSteps: this.config.totalSteps,
        }),
        interval: "step",
      },
    };
  }

  /** Continues `prompt` (token ids) by `length` tokens, sampling with `temperature` from a seeded generator. */
  generate(prompt: number[], length: number, temperature = 0.8, generator = new Generator(0)): number[] {
    this.eval();
    const out = [...prompt];
    for (let i = 0; i < length; i++) {
      const context = out.slice(-this.config.blockSize);
      const probs = tf.tidy(() => {
        const logits = this.forward(tf.tensor2d([context], undefined, "int32"));
        const last = tf.squeeze(tf.slice(logits, [0, context.length - 1, 0], [1, 1, -1]));
        return tf.softmax(tf.div(last, temperature)).dataSync();
      });
      let r = generator.random();
      let next = probs.length - 1;
      for (let j = 0; j < probs.length; j++) {
        r -= probs[j]!;
        if (r <= 0) {
          next = j;
          break;
        }
      }
      out.push(next);
    }
    return out.slice(prompt.length);
  }
}
