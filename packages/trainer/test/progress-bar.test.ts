import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ProgressBar, Trainer } from "../src/index";
import { loader, ToyModule } from "./helpers/toy";

function capture(tty: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as unknown as NodeJS.WriteStream & {
    isTTY: boolean;
    columns: number;
    cursorTo: () => boolean;
    clearLine: () => boolean;
    moveCursor: () => boolean;
  };
  stream.isTTY = tty;
  stream.columns = 120;
  stream.cursorTo = () => true;
  stream.clearLine = () => true;
  stream.moveCursor = () => true;
  return { stream, text: () => chunks.join("") };
}

async function fitWith(bar: ProgressBar): Promise<void> {
  const trainer = new Trainer({
    accelerator: "cpu",
    maxEpochs: 2,
    logger: false,
    enableCheckpointing: false,
    enableModelSummary: false,
    enableProgressBar: false,
    callbacks: [bar],
    numSanityValSteps: 0,
  });
  await trainer.fit(new ToyModule(), { trainDataloaders: loader(32, 8) });
}

describe("ProgressBar", () => {
  it("draws a bar per epoch with metrics on a terminal", async () => {
    const out = capture(true);
    await fitWith(new ProgressBar(out.stream));
    expect(out.text()).toMatch(/Epoch 0: \|.*\| 4\/4 .*train_loss_step=/);
    expect(out.text()).toMatch(/Epoch 1: \|/);
  });

  it("writes one plain line per epoch when output is not a terminal", async () => {
    const out = capture(false);
    await fitWith(new ProgressBar(out.stream));
    const lines = out.text().trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^Epoch 0: 4 batches in [0-9.]+ s .*train_loss_step=/);
  });
});
