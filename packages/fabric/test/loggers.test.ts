import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tf } from "@fulmen/core";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CSVLogger, Fabric, TensorBoardLogger, tensorboardTypes } from "../src/index";

const dir = () => mkdtempSync(join(tmpdir(), "fulmen-logs-"));

// An independent CRC-32C (Castagnoli, reflected 0x82f63b78), to check the records' checksums.
const TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
const masked = (crc: number) => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;

function readEvents(path: string): Array<Record<string, unknown>> {
  const bytes = readFileSync(path);
  const events: Array<Record<string, unknown>> = [];
  let offset = 0;
  while (offset < bytes.length) {
    const length = Number(bytes.readBigUInt64LE(offset));
    expect(bytes.readUInt32LE(offset + 8)).toBe(masked(crc32c(bytes.subarray(offset, offset + 8))));
    const data = bytes.subarray(offset + 12, offset + 12 + length);
    expect(bytes.readUInt32LE(offset + 12 + length)).toBe(masked(crc32c(data)));
    events.push(
      tensorboardTypes.Event.toObject(tensorboardTypes.Event.decode(data), { longs: Number }) as Record<
        string,
        unknown
      >,
    );
    offset += 12 + length + 4;
  }
  return events;
}

describe("CSVLogger", () => {
  it("writes metrics.csv under rootDir/name/version_N, widening the header for new metrics", () => {
    const root = dir();
    const first = new CSVLogger({ rootDir: root, name: "exp" });
    expect(first.version).toBe(0);
    // The folder appears with the first write (ranks that never log leave none behind).
    expect(existsSync(join(root, "exp", "version_0"))).toBe(false);
    first.save();
    expect(existsSync(join(root, "exp", "version_0"))).toBe(true);
    const logger = new CSVLogger({ rootDir: root, name: "exp", flushLogsEveryNSteps: 2 });
    expect(logger.version).toBe(1);
    logger.logMetrics({ loss: 0.5 }, 0);
    logger.logMetrics({ loss: 0.25 }, 1);
    logger.logMetrics({ loss: 0.125, "val,acc": 0.9 }, 2);
    logger.logHyperparams({ lr: 0.01, model: { layers: 2 } });
    logger.finalize("success");
    expect(readFileSync(join(root, "exp", "version_1", "metrics.csv"), "utf8")).toBe(
      'step,loss,"val,acc"\n0,0.5,\n1,0.25,\n2,0.125,0.9\n',
    );
    expect(parse(readFileSync(join(logger.logDir, "hparams.yaml"), "utf8"))).toEqual({
      lr: 0.01,
      model: { layers: 2 },
    });
  });
});

describe("TensorBoardLogger", () => {
  it("writes event files TensorBoard reads: valid records, scalars by step, and hparams", () => {
    const root = dir();
    const logger = new TensorBoardLogger({ rootDir: root, name: "tb" });
    logger.logHyperparams({ lr: 0.001, optimizer: "AdamW", nested: { depth: 3 }, amp: true });
    logger.logMetrics({ "train/loss": 1.5, acc: 0.25 }, 10);
    logger.logMetrics({ "train/loss": 0.75 }, 20);
    logger.finalize("success");
    const files = readdirSync(logger.logDir).filter((f) => f.startsWith("events.out.tfevents."));
    expect(files).toHaveLength(1);
    const events = readEvents(join(logger.logDir, files[0]!));
    expect(events[0]!.fileVersion).toBe("brain.Event:2");
    const scalars = events.flatMap((e) =>
      ((e.summary as { value?: Array<{ tag: string; simpleValue?: number }> } | undefined)?.value ?? [])
        .filter((v) => v.simpleValue !== undefined)
        .map((v) => [v.tag, e.step ?? 0, v.simpleValue]),
    );
    expect(scalars).toEqual([
      ["hp_metric", 0, -1],
      ["train/loss", 10, 1.5],
      ["acc", 10, 0.25],
      ["train/loss", 20, 0.75],
    ]);
    const hparamEvents = events
      .flatMap((e) => (e.summary as { value?: Array<Record<string, unknown>> } | undefined)?.value ?? [])
      .filter((v) => String(v.tag).startsWith("_hparams_/"));
    expect(hparamEvents.map((v) => v.tag)).toEqual([
      "_hparams_/experiment",
      "_hparams_/session_start_info",
      "_hparams_/session_end_info",
    ]);
    const start = hparamEvents[1]!.metadata as { pluginData: { pluginName: string; content: Uint8Array } };
    expect(start.pluginData.pluginName).toBe("hparams");
    const content = tensorboardTypes.HParamsPluginData.toObject(
      tensorboardTypes.HParamsPluginData.decode(start.pluginData.content),
    ) as {
      sessionStartInfo: { hparams: Record<string, Record<string, unknown>> };
    };
    expect(content.sessionStartInfo.hparams).toEqual({
      lr: { numberValue: 0.001 },
      optimizer: { stringValue: "AdamW" },
      "nested/depth": { numberValue: 3 },
      amp: { boolValue: true },
    });
  });
});

describe("fabric.log", () => {
  it("sends numbers and scalar tensors to every logger", () => {
    const root = dir();
    const csv = new CSVLogger({ rootDir: root, name: "a" });
    const tb = new TensorBoardLogger({ rootDir: root, name: "b" });
    const fabric = new Fabric({ loggers: [csv, tb] });
    expect(fabric.logger).toBe(csv);
    fabric.log("loss", tf.scalar(0.5), 3);
    fabric.logDict({ loss: 0.25, acc: tf.tensor1d([0.75]) }, 4);
    expect(() => fabric.log("bad", tf.tensor1d([1, 2]))).toThrow(/one-element tensor/);
    csv.finalize("success");
    tb.finalize("success");
    expect(readFileSync(csv.metricsFile, "utf8")).toBe("step,loss,acc\n3,0.5,\n4,0.25,0.75\n");
    const events = readEvents(tb.eventFile);
    expect(events.length).toBe(3);
  });
});
