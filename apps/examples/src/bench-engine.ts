/**
 * `pnpm bench` (engine part): the native engine's host build (`accelerator: "host"`, OpenBLAS) against tfjs's
 * wasm and cpu backends on the same work in one run: a 1024³ float32 matmul, and training steps of an MLP
 * (784-512-512-10, batch 256, AdamW), of a small CNN (two 3×3 conv layers with max pooling, 28×28 inputs,
 * batch 64), of a small transformer (the char GPT example: 2 blocks, d 64, 4 heads, 32 tokens, batch 32), of
 * a recurrent tagger (embedding 32, `nn.LSTM` of 64 units, batch 32×32 tokens) and of a `nn.TransformerEncoderLayer`
 * model (d 64, 4 heads, feed-forward 256, batch 32×32) through Fabric. PyTorch is compared when Debian's python3-torch is installed
 * (the bench says when it is not). Prints Markdown for BENCHMARKS.md.
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import "@fulmen/accelerator-host";
import { AdamW, manualSeed, nn, tf } from "@fulmen/core";
import { Fabric } from "@fulmen/fabric";
import { CharGpt } from "./gpt/char-gpt";

/** Warm-up calls before timing, the same for every engine and PyTorch (1 on tfjs's slow cpu backend). */
const WARMUP = 5;
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

/** Median ms of `repeats` calls after `warmup` calls (JIT-compiled engines need a few steps to settle). */
function timeMs(fn: () => void, repeats: number, warmup = WARMUP): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

interface Figures {
  matmulMs: number;
  stepMs: number;
  cnnStepMs: number;
  gptStepMs: number;
  lstmStepMs: number;
  encoderStepMs: number;
}

/** Token embeddings, an LSTM over them (batch first) and a linear head per step: a recurrent language model. */
class LstmTagger extends nn.Module {
  embed = new nn.Embedding(64, 32);
  lstm = new nn.LSTM(32, 64, { batchFirst: true });
  head = new nn.Linear(64, 64);
  forward(tokens: tf.Tensor): tf.Tensor {
    return this.head.forward(this.lstm.forward(this.embed.forward(tokens))[0]);
  }
}

/** Token embeddings, one `nn.TransformerEncoderLayer` (batch first, no dropout) and a linear head. */
class EncoderModel extends nn.Module {
  embed = new nn.Embedding(64, 64);
  layer = new nn.TransformerEncoderLayer(64, 4, { dimFeedforward: 256, dropout: 0, batchFirst: true });
  head = new nn.Linear(64, 64);
  forward(tokens: tf.Tensor): tf.Tensor {
    return this.head.forward(this.layer.forward(this.embed.forward(tokens)));
  }
}

/** The host engine's count of kernels it left to tfjs's cpu implementation (other backends have none). */
interface FallbackCounting {
  fallbackStats?: () => Record<string, number>;
  resetFallbackStats?: () => void;
}

/** Kernels each model's training step left to tfjs's fallback on the host engine, per step, by model. */
const hostFallbacks = new Map<string, Record<string, number>>();

/** Median ms of an AdamW training step of `model` on (x, y) through `fabric`. */
function trainingStepMs(
  fabric: Fabric,
  label: string,
  model: nn.Module & { forward(x: tf.Tensor): tf.Tensor },
  x: tf.Tensor,
  y: tf.Tensor,
  repeats: number,
  warmup = WARMUP,
): number {
  const [m, optimizer] = fabric.setup(model, new AdamW(model, { lr: 1e-3 }));
  const backend = tf.backend() as unknown as FallbackCounting;
  backend.resetFallbackStats?.();
  const ms = timeMs(
    () =>
      tf.tidy(() => {
        optimizer.zeroGrad();
        fabric.backward(() => {
          const logits = m.forward(x);
          // Sequence models give [batch, time, classes]: flatten them to one row per token.
          const rows = tf.reshape(logits, [-1, logits.shape.at(-1)!]);
          return nn.crossEntropy(rows, tf.reshape(y, [-1])) as tf.Scalar;
        });
        optimizer.step();
      }),
    repeats,
    warmup,
  );
  const fallbacks = backend.fallbackStats?.();
  if (fallbacks !== undefined)
    hostFallbacks.set(
      label,
      Object.fromEntries(Object.entries(fallbacks).map(([k, n]) => [k, n / (repeats + warmup)])),
    );
  model.dispose();
  optimizer.disposeState();
  return ms;
}

async function measure(accelerator: string): Promise<Figures> {
  const fabric = new Fabric({ accelerator });
  await fabric.launch();
  const slow = accelerator === "cpu";
  const a = tf.randomNormal([1024, 1024], 0, 1, "float32", 1);
  const b = tf.randomNormal([1024, 1024], 0, 1, "float32", 2);
  // (tidy must not return the values: it would scan all 1M of them for tensors)
  const matmulMs = timeMs(
    () =>
      tf.tidy(() => {
        tf.matMul(a, b).dataSync();
      }),
    slow ? 1 : 7,
    slow ? 1 : WARMUP,
  );
  manualSeed(1);
  const mlp = new nn.Sequential(
    new nn.Linear(784, 512),
    new nn.ReLU(),
    new nn.Linear(512, 512),
    new nn.ReLU(),
    new nn.Linear(512, 10),
  );
  const x = tf.randomNormal([256, 784], 0, 1, "float32", 3);
  const y = tf.tensor1d(
    Array.from({ length: 256 }, (_, i) => i % 10),
    "int32",
  );
  const stepMs = trainingStepMs(fabric, "MLP", mlp, x, y, slow ? 3 : 15, slow ? 1 : WARMUP);
  const cnn = new nn.Sequential(
    new nn.Conv2d(1, 16, 3),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(16, 32, 3),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(800, 10),
  );
  const images = tf.randomNormal([64, 1, 28, 28], 0, 1, "float32", 4);
  const labels = tf.tensor1d(
    Array.from({ length: 64 }, (_, i) => i % 10),
    "int32",
  );
  const cnnStepMs = trainingStepMs(fabric, "CNN", cnn, images, labels, slow ? 2 : 10, slow ? 1 : WARMUP);
  const gpt = new CharGpt({
    vocabSize: 64,
    blockSize: 32,
    dModel: 64,
    heads: 4,
    layers: 2,
    dropout: 0,
    maxLr: 1e-3,
    totalSteps: 100,
  });
  const tokens = tf.tensor2d(
    Array.from({ length: 32 }, (_, r) => Array.from({ length: 32 }, (_, c) => (r * 7 + c * 3) % 64)),
    undefined,
    "int32",
  );
  const next = tf.tensor2d(
    Array.from({ length: 32 }, (_, r) => Array.from({ length: 32 }, (_, c) => (r * 7 + c * 3 + 1) % 64)),
    undefined,
    "int32",
  );
  const gptStepMs = trainingStepMs(
    fabric,
    "transformer",
    gpt,
    tokens,
    next,
    slow ? 1 : 10,
    slow ? 1 : WARMUP,
  );
  const lstmStepMs = trainingStepMs(
    fabric,
    "LSTM",
    new LstmTagger(),
    tokens,
    next,
    slow ? 1 : 10,
    slow ? 1 : WARMUP,
  );
  const encoderStepMs = trainingStepMs(
    fabric,
    "encoder layer",
    new EncoderModel(),
    tokens,
    next,
    slow ? 1 : 10,
    slow ? 1 : WARMUP,
  );
  tf.dispose([a, b, x, y, images, labels, tokens, next]);
  return { matmulMs, stepMs, cnnStepMs, gptStepMs, lstmStepMs, encoderStepMs };
}

/** PyTorch on the same work (its default threads: all cores), when python3-torch is installed. */
function measureTorch(): Figures | string {
  const script = `
import time, torch
torch.manual_seed(1)
def t(fn, n):
    for _ in range(${WARMUP}): fn()
    ts=[]
    for _ in range(n):
        s=time.perf_counter(); fn(); ts.append((time.perf_counter()-s)*1000)
    return sorted(ts)[len(ts)//2]
a=torch.randn(1024,1024); b=torch.randn(1024,1024)
mm=t(lambda: a@b, 7)
m=torch.nn.Sequential(torch.nn.Linear(784,512),torch.nn.ReLU(),torch.nn.Linear(512,512),torch.nn.ReLU(),torch.nn.Linear(512,10))
o=torch.optim.AdamW(m.parameters(),lr=1e-3); x=torch.randn(256,784); y=torch.arange(256)%10
def step():
    o.zero_grad(); torch.nn.functional.cross_entropy(m(x),y).backward(); o.step()
nn=torch.nn
c=nn.Sequential(nn.Conv2d(1,16,3),nn.ReLU(),nn.MaxPool2d(2),nn.Conv2d(16,32,3),nn.ReLU(),nn.MaxPool2d(2),nn.Flatten(),nn.Linear(800,10))
co=torch.optim.AdamW(c.parameters(),lr=1e-3); xi=torch.randn(64,1,28,28); yi=torch.arange(64)%10
def cstep():
    co.zero_grad(); torch.nn.functional.cross_entropy(c(xi),yi).backward(); co.step()
class Attn(nn.Module):
    def __init__(s, d, h):
        super().__init__(); s.h=h; s.qkv=nn.Linear(d,3*d); s.proj=nn.Linear(d,d)
    def forward(s, x):
        b,T,d=x.shape; hd=d//s.h
        q,k,v=[z.view(b,T,s.h,hd).transpose(1,2) for z in s.qkv(x).split(d,2)]
        a=(q@k.transpose(-1,-2))/hd**0.5 + torch.triu(torch.full((T,T),-1e9),1)
        return s.proj((a.softmax(-1)@v).transpose(1,2).reshape(b,T,d))
class Block(nn.Module):
    def __init__(s, d, h):
        super().__init__(); s.ln1=nn.LayerNorm(d); s.attn=Attn(d,h); s.ln2=nn.LayerNorm(d)
        s.mlp=nn.Sequential(nn.Linear(d,4*d),nn.GELU(),nn.Linear(4*d,d))
    def forward(s, x):
        x=x+s.attn(s.ln1(x)); return x+s.mlp(s.ln2(x))
class Gpt(nn.Module):
    def __init__(s):
        super().__init__(); s.tok=nn.Embedding(64,64); s.pos=nn.Embedding(32,64)
        s.blocks=nn.Sequential(Block(64,4),Block(64,4)); s.ln=nn.LayerNorm(64); s.head=nn.Linear(64,64)
    def forward(s, i):
        return s.head(s.ln(s.blocks(s.tok(i)+s.pos(torch.arange(i.shape[1])))))
g=Gpt(); go=torch.optim.AdamW(g.parameters(),lr=1e-3)
ti=torch.tensor([[(r*7+c*3)%64 for c in range(32)] for r in range(32)]); tn=(ti+1)%64
def gstep():
    go.zero_grad(); torch.nn.functional.cross_entropy(g(ti).reshape(-1,64),tn.reshape(-1)).backward(); go.step()
class Tagger(nn.Module):
    def __init__(s):
        super().__init__(); s.embed=nn.Embedding(64,32); s.lstm=nn.LSTM(32,64,batch_first=True); s.head=nn.Linear(64,64)
    def forward(s, i):
        return s.head(s.lstm(s.embed(i))[0])
class Encoder(nn.Module):
    def __init__(s):
        super().__init__(); s.embed=nn.Embedding(64,64)
        s.layer=nn.TransformerEncoderLayer(64,4,dim_feedforward=256,dropout=0.0,batch_first=True); s.head=nn.Linear(64,64)
    def forward(s, i):
        return s.head(s.layer(s.embed(i)))
def seqstep(model):
    opt=torch.optim.AdamW(model.parameters(),lr=1e-3)
    def run():
        opt.zero_grad(); torch.nn.functional.cross_entropy(model(ti).reshape(-1,64),tn.reshape(-1)).backward(); opt.step()
    return run
print(mm, t(step, 15), t(cstep, 10), t(gstep, 10), t(seqstep(Tagger()), 10), t(seqstep(Encoder()), 10))`;
  // Debian's python3-torch belongs to the system Python, which a pyenv or venv python3 on PATH may hide.
  const pythons = ["/usr/bin/python3", "python3"];
  const run = pythons
    .map((python) => spawnSync(python, ["-c", script], { encoding: "utf8" }))
    .find((r) => r.status === 0);
  if (run === undefined) return "PyTorch is not installed here (Debian: apt-get install python3-torch)";
  const [matmulMs, stepMs, cnnStepMs, gptStepMs, lstmStepMs, encoderStepMs] = run.stdout
    .trim()
    .split(/\s+/)
    .map(Number) as [number, number, number, number, number, number];
  return { matmulMs, stepMs, cnnStepMs, gptStepMs, lstmStepMs, encoderStepMs };
}

const COLUMNS = ["matmulMs", "stepMs", "cnnStepMs", "gptStepMs", "lstmStepMs", "encoderStepMs"] as const;
const formatRow = (name: string, r: Figures) =>
  `| ${name} | ${COLUMNS.map((c) => r[c].toFixed(1)).join(" | ")} |`;
const medianOf = (list: Figures[]): Figures =>
  Object.fromEntries(COLUMNS.map((c) => [c, median(list.map((f) => f[c]))])) as unknown as Figures;

// Rounds alternate the engines and PyTorch, so that each sees the same spells of load from this shared
// machine's other tenants; the table shows medians over rounds, and the host/PyTorch ratios are per round.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const figures: Record<string, Figures[]> = { host: [], wasm: [], cpu: [], torch: [] };
let torchMissing = "";
for (let round = 0; round < ROUNDS; round++) {
  for (const accelerator of round === 0 ? ["host", "wasm", "cpu"] : ["host", "wasm"])
    figures[accelerator]!.push(await measure(accelerator));
  const torch = measureTorch();
  if (typeof torch === "string") torchMissing = torch;
  else figures.torch!.push(torch);
}
const rows = ["host", "wasm", "cpu"].map((accelerator) =>
  formatRow(accelerator, medianOf(figures[accelerator]!)),
);
if (figures.torch!.length > 0) rows.push(formatRow("PyTorch (CPU)", medianOf(figures.torch!)));
console.log(
  `\nNative engine (host build) vs tfjs backends, ${cpus().length} cores; medians of ${ROUNDS} alternating rounds (cpu: 1); OpenBLAS kernels ${process.env.OPENBLAS_CORETYPE ?? "as OpenBLAS detects them"} for the engine and PyTorch alike (PyTorch inherits the engine's OPENBLAS_CORETYPE).\n`,
);
console.log(
  "| engine | 1024³ matmul ms | MLP step ms (batch 256) | CNN step ms (batch 64) | transformer step ms (batch 32×32) | LSTM step ms (batch 32×32) | encoder layer step ms (batch 32×32) |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const row of rows) console.log(row);
console.log(
  `\nKernels the host engine left to tfjs's cpu implementation, per training step: ${[...hostFallbacks]
    .map(([model, counts]) => {
      const list = Object.entries(counts).map(([kernel, n]) => `${kernel} ×${n}`);
      return `${model} ${list.length === 0 ? "none" : list.join(", ")}`;
    })
    .join("; ")}.`,
);
if (torchMissing !== "") console.log(`\n${torchMissing}.`);
else
  for (const c of COLUMNS) {
    const ratios = figures.host!.map((h, i) => h[c] / figures.torch![i]![c]);
    console.log(
      `host / PyTorch, ${c}: ${median(ratios).toFixed(2)} (per round: ${ratios.map((r) => r.toFixed(2)).join(", ")})`,
    );
  }
