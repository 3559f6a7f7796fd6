/**
 * `pnpm --filter @fulmen/examples example:gpt`: a small character-level GPT trained with the Trainer on English
 * sentences from the `nlp-corpus` package, which then writes text. Options: `--steps N`, `--accelerator`,
 * `--devices N` and `--strategy` (e.g. `--devices 2 --strategy fsdp` or `deepspeed_stage_3`: parameters,
 * gradients and AdamW's state sharded over 2 processes; each transformer block is an FSDP unit).
 */
// Registers "host", the native engine's CPU build, which accelerator "auto" then prefers over wasm and cpu.
import "@fulmen/accelerator-host";
import { Generator, seedEverything } from "@fulmen/core";
import { Trainer } from "@fulmen/trainer";
import { exampleArgs } from "./cli";
import { loadText, windowLoader } from "./gpt/char-data";
import { CharGpt } from "./gpt/char-gpt";

const values = exampleArgs(
  "pnpm example:gpt: a character-level GPT trained with the Trainer, then sampled.",
  {
    steps: { help: "optimizer steps", default: "600", count: true },
    accelerator: { help: "auto, host, wasm or cpu", default: "auto" },
    devices: { help: "processes on this machine", default: "1", count: true },
    strategy: { help: "auto, ddp, fsdp, deepspeed_stage_2, deepspeed_stage_3, ...", default: "auto" },
  },
);
const steps = Number(values.steps);
const devices = Number(values.devices);
seedEverything(1);
const corpus = loadText(2000);
const ids = Int32Array.from(corpus.encode(corpus.text));
if (process.env.LOCAL_RANK === undefined || process.env.LOCAL_RANK === "0")
  console.log(`${corpus.text.length} characters, vocabulary of ${corpus.chars.length}`);
const blockSize = 32;
const model = new CharGpt({
  vocabSize: corpus.chars.length,
  blockSize,
  dModel: 64,
  heads: 4,
  layers: 2,
  dropout: 0.1,
  maxLr: 3e-3,
  totalSteps: steps,
});
const trainer = new Trainer({
  accelerator: values.accelerator,
  devices,
  strategy: values.strategy,
  maxSteps: steps,
  logger: false,
  enableCheckpointing: false,
  gradientClipVal: 1.0,
});
const started = performance.now();
// Each of the N processes takes 32 / N windows of every batch of 32.
await trainer.fit(model, { trainDataloaders: windowLoader(ids, blockSize, 32 / devices, 2) });
// Every rank generates (under FSDP or ZeRO-3 each forward gathers parameters from all ranks); rank 0 prints.
const say = trainer.globalRank === 0 ? console.log : () => {};
const where = devices > 1 ? ` (${trainer.strategy.name} × ${devices})` : "";
say(
  `trained ${trainer.globalStep} steps${where} in ${((performance.now() - started) / 1000).toFixed(1)} s; final train loss ${trainer.callbackMetrics.train_loss?.toFixed(3)}`,
);
const prompt = "The ";
const text = corpus.decode(model.generate(corpus.encode(prompt), 300, 0.8, new Generator(7)));
say(`\n${prompt}${text}`);
