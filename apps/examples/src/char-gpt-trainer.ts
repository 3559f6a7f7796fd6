/**
 * `pnpm --filter @fulmen/examples example:gpt`: a small character-level GPT trained with the Trainer on English
 * sentences from the `nlp-corpus` package, which then writes text. Options: `--steps N`, `--accelerator`.
 */
import { parseArgs } from "node:util";
// Registers "host", the native engine's CPU build, which accelerator "auto" then prefers over wasm and cpu.
import "@fulmen/accelerator-cuda";
import { Generator, seedEverything } from "@fulmen/core";
import { Trainer } from "@fulmen/trainer";
import { loadText, windowLoader } from "./gpt/char-data";
import { CharGpt } from "./gpt/char-gpt";

const { values } = parseArgs({
  options: { steps: { type: "string", default: "600" }, accelerator: { type: "string", default: "auto" } },
});
const steps = Number(values.steps);
seedEverything(1);
const corpus = loadText(2000);
const ids = Int32Array.from(corpus.encode(corpus.text));
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
  maxSteps: steps,
  logger: false,
  enableCheckpointing: false,
  gradientClipVal: 1.0,
});
const started = performance.now();
await trainer.fit(model, { trainDataloaders: windowLoader(ids, blockSize, 32, 2) });
console.log(
  `trained ${trainer.globalStep} steps in ${((performance.now() - started) / 1000).toFixed(1)} s; final train loss ${trainer.callbackMetrics.train_loss?.toFixed(3)}`,
);
const prompt = "The ";
console.log(`\n${prompt}${corpus.decode(model.generate(corpus.encode(prompt), 300, 0.8, new Generator(7)))}`);
