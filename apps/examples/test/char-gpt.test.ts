import { Generator, seedEverything, tf } from "@fulmen/core";
import { Trainer } from "@fulmen/trainer";
import { describe, expect, it } from "vitest";
import { loadText, windowLoader } from "../src/gpt/char-data";
import { CharGpt } from "../src/gpt/char-gpt";

describe("the character-level GPT example", () => {
  it("learns English characters with the Trainer and writes text", async () => {
    seedEverything(1);
    const corpus = loadText(300);
    const ids = Int32Array.from(corpus.encode(corpus.text));
    const model = new CharGpt({
      vocabSize: corpus.chars.length,
      blockSize: 16,
      dModel: 32,
      heads: 2,
      layers: 1,
      dropout: 0,
      maxLr: 1e-2,
      totalSteps: 60,
    });
    const trainer = new Trainer({
      maxSteps: 60,
      logger: false,
      enableCheckpointing: false,
      enableProgressBar: false,
      enableModelSummary: false,
    });
    await trainer.fit(model, { trainDataloaders: windowLoader(ids, 16, 32, 2) });
    expect(trainer.globalStep).toBe(60);
    // Uniform guessing costs ln(vocabulary) ≈ 4.4 nats; it learns letter statistics well below that.
    expect(trainer.callbackMetrics.train_loss!).toBeLessThan(Math.log(corpus.chars.length) - 1.2);
    const text = corpus.decode(model.generate(corpus.encode("The "), 40, 0.8, new Generator(3)));
    expect(text).toHaveLength(40);
    expect([...text].every((c) => corpus.chars.includes(c))).toBe(true);
    await tf.setBackend("cpu");
  }, 120_000);
});
