/**
 * `pnpm bench` (engine part): the native engine's host build (`accelerator: "host"`, OpenBLAS) against tfjs's
 * wasm and cpu backends on the same work in one run: a 1024³ float32 matmul, and training steps of an MLP
 * (784-512-512-10, batch 256, AdamW) through Fabric. PyTorch is compared when Debian's python3-torch is installed
 * (the bench says when it is not). Prints Markdown for BENCHMARKS.md.
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import "@fulmen/accelerator-cuda";
import { AdamW, manualSeed, nn, tf } from "@fulmen/core";
import { Fabric } from "@fulmen/fabric";

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

function timeMs(fn: () => void, repeats: number): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

async function measure(accelerator: string): Promise<{ matmulMs: number; stepMs: number }> {
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
  );
  manualSeed(1);
  const model = new nn.Sequential(
    new nn.Linear(784, 512),
    new nn.ReLU(),
    new nn.Linear(512, 512),
    new nn.ReLU(),
    new nn.Linear(512, 10),
  );
  const [m, optimizer] = fabric.setup(model, new AdamW(model, { lr: 1e-3 }));
  const x = tf.randomNormal([256, 784], 0, 1, "float32", 3);
  const y = tf.tensor1d(
    Array.from({ length: 256 }, (_, i) => i % 10),
    "int32",
  );
  const stepMs = timeMs(
    () =>
      tf.tidy(() => {
        optimizer.zeroGrad();
        fabric.backward(() => nn.crossEntropy(m.forward(x), y) as tf.Scalar);
        optimizer.step();
      }),
    slow ? 3 : 15,
  );
  tf.dispose([a, b, x, y]);
  model.dispose();
  optimizer.disposeState();
  return { matmulMs, stepMs };
}

/** PyTorch on the same work (its default threads: all cores), when python3-torch is installed. */
function measureTorch(): { matmulMs: number; stepMs: number } | string {
  const script = `
import time, torch
torch.manual_seed(1)
def t(fn, n):
    fn(); ts=[]
    for _ in range(n):
        s=time.perf_counter(); fn(); ts.append((time.perf_counter()-s)*1000)
    return sorted(ts)[len(ts)//2]
a=torch.randn(1024,1024); b=torch.randn(1024,1024)
mm=t(lambda: a@b, 7)
m=torch.nn.Sequential(torch.nn.Linear(784,512),torch.nn.ReLU(),torch.nn.Linear(512,512),torch.nn.ReLU(),torch.nn.Linear(512,10))
o=torch.optim.AdamW(m.parameters(),lr=1e-3); x=torch.randn(256,784); y=torch.arange(256)%10
def step():
    o.zero_grad(); torch.nn.functional.cross_entropy(m(x),y).backward(); o.step()
print(mm, t(step, 15))`;
  // Debian's python3-torch belongs to the system Python, which a pyenv or venv python3 on PATH may hide.
  const pythons = ["/usr/bin/python3", "python3"];
  const run = pythons
    .map((python) => spawnSync(python, ["-c", script], { encoding: "utf8" }))
    .find((r) => r.status === 0);
  if (run === undefined) return "PyTorch is not installed here (Debian: apt-get install python3-torch)";
  const [matmulMs, stepMs] = run.stdout.trim().split(/\s+/).map(Number) as [number, number];
  return { matmulMs, stepMs };
}

const rows: string[] = [];
for (const accelerator of ["host", "wasm", "cpu"]) {
  const r = await measure(accelerator);
  rows.push(
    `| ${accelerator} | ${r.matmulMs.toFixed(1)} | ${r.stepMs.toFixed(1)} | ${(1000 / r.stepMs).toFixed(1)} |`,
  );
}
const torch = measureTorch();
if (typeof torch !== "string")
  rows.push(
    `| PyTorch (CPU) | ${torch.matmulMs.toFixed(1)} | ${torch.stepMs.toFixed(1)} | ${(1000 / torch.stepMs).toFixed(1)} |`,
  );
console.log(`\nNative engine (host build) vs tfjs backends, ${cpus().length} cores; medians.\n`);
console.log("| engine | 1024³ matmul ms | MLP step ms (batch 256) | MLP steps/s |");
console.log("| --- | --- | --- | --- |");
for (const row of rows) console.log(row);
if (typeof torch === "string") console.log(`\n${torch}.`);
