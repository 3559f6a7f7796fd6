import { DataLoader, Generator, tf } from "@fulmen/core";
import nlpCorpus from "nlp-corpus";

/** English text shipped by the `nlp-corpus` package, its character vocabulary and encodings. */
export interface CharText {
  text: string;
  chars: string[];
  encode(s: string): number[];
  decode(ids: number[]): string;
}

/** The first `sentences` sentences of the corpus, joined by newlines. */
export function loadText(sentences = 2000): CharText {
  const text = (nlpCorpus as { some(n: number): string[] }).some(sentences).join("\n");
  const chars = [...new Set(text)].sort();
  const index = new Map(chars.map((c, i) => [c, i]));
  return {
    text,
    chars,
    encode: (s) => [...s].map((c) => index.get(c) ?? 0),
    decode: (ids) => ids.map((i) => chars[i] ?? "?").join(""),
  };
}

/** Windows of `blockSize + 1` characters: inputs and the next characters to predict. */
export function windowLoader(
  ids: Int32Array,
  blockSize: number,
  batchSize: number,
  seed: number,
): DataLoader<number, [tf.Tensor2D, tf.Tensor2D]> {
  const count = Math.floor((ids.length - 1) / blockSize);
  return new DataLoader<number, [tf.Tensor2D, tf.Tensor2D]>(
    { length: count, get: (i) => i * blockSize },
    {
      batchSize,
      shuffle: true,
      generator: new Generator(seed),
      collateFn: (starts) => {
        const x = new Int32Array(starts.length * blockSize);
        const y = new Int32Array(starts.length * blockSize);
        starts.forEach((s, row) => {
          x.set(ids.subarray(s, s + blockSize), row * blockSize);
          y.set(ids.subarray(s + 1, s + blockSize + 1), row * blockSize);
        });
        return [
          tf.tensor2d(x, [starts.length, blockSize], "int32"),
          tf.tensor2d(y, [starts.length, blockSize], "int32"),
        ];
      },
    },
  );
}
