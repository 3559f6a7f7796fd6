import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import CRC32C from "crc-32/crc32c.js";
import { tensorboardTypes } from "./schema";

let fileCounter = 0;

/** TFRecord's masked CRC-32C, which TensorBoard checks on every record. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = CRC32C.buf(bytes) >>> 0;
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: length, masked CRC of the length, data, masked CRC of the data. */
export function tfRecord(data: Uint8Array): Buffer {
  const header = Buffer.alloc(12);
  header.writeBigUInt64LE(BigInt(data.length), 0);
  header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
  const footer = Buffer.alloc(4);
  footer.writeUInt32LE(maskedCrc32c(data), 0);
  return Buffer.concat([header, data, footer]);
}

/** An `events.out.tfevents.*` file that TensorBoard reads: a version record, then one record per event. */
export class EventFileWriter {
  /** The file's path: `logDir/events.out.tfevents.<seconds>.<host>.<pid>.<n>`. */
  readonly path: string;
  private fd: number | null;

  constructor(logDir: string) {
    const stamp = Math.floor(Date.now() / 1000);
    this.path = join(logDir, `events.out.tfevents.${stamp}.${hostname()}.${process.pid}.${fileCounter++}`);
    this.fd = openSync(this.path, "a");
    this.writeEvent({ wallTime: Date.now() / 1000, fileVersion: "brain.Event:2" });
  }

  /** Appends an event (wall time, step, and a file version or a summary); reopens the file if it was closed. */
  writeEvent(event: Record<string, unknown>): void {
    // A logger is finalized at the end of fit and may log again in test, as Lightning's does.
    if (this.fd === null) this.fd = openSync(this.path, "a");
    const message = tensorboardTypes.Event.fromObject(event);
    writeSync(this.fd, tfRecord(tensorboardTypes.Event.encode(message).finish()));
  }

  /** Flushes to disk. */
  flush(): void {
    if (this.fd !== null) fsyncSync(this.fd);
  }

  /** Flushes and closes the file. */
  close(): void {
    if (this.fd === null) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
  }
}
