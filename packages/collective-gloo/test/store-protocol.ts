// The rendezvous store's wire protocol spoken from a test (see native/store_auth.h and native/wire.h), so tests can
// be the hostile client: a stranger without the secret, or a member that claims absurd lengths.
import { createHmac, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

const MAGIC = Buffer.from("FULMSTO1");
const NO_SECRET_KEY = "fulmen-store-without-secret";
/** Handshake replies (HandshakeReply in store_auth.h). */
export const Reply = { Accepted: 0, WrongProof: 1, WorldSizeMismatch: 2, RankTaken: 3, Busy: 4 } as const;
/** Store requests (StoreOp in wire.h). */
export const Op = { Set: 1, Get: 2 } as const;

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}

/** A TCP connection with exact-length reads. */
export class RawConnection {
  private buffer = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | null = null;
  /** Resolves when the peer closed (or reset) the connection. */
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    this.closed = new Promise((resolve) => {
      const end = () => {
        this.ended = true;
        this.wake?.();
        resolve();
      };
      socket.on("close", end);
      socket.on("error", end);
    });
  }

  /** Connects to `host:port`; rejects when nothing listens there. */
  static open(port: number, host = "127.0.0.1"): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host);
      socket.once("connect", () => resolve(new RawConnection(socket)));
      socket.once("error", reject);
    });
  }

  /** Exactly `n` bytes, or null when the peer closed first. */
  async read(n: number): Promise<Buffer | null> {
    while (this.buffer.length < n) {
      if (this.ended) return null;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = null;
    }
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  /** Everything received so far. */
  received(): Buffer {
    return this.buffer;
  }

  write(...parts: Buffer[]): void {
    this.socket.write(Buffer.concat(parts));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Whether a TCP connection to `host:port` is accepted. */
export async function canConnect(port: number, host: string): Promise<boolean> {
  try {
    (await RawConnection.open(port, host)).close();
    return true;
  } catch {
    return false;
  }
}

/** Waits until something listens on 127.0.0.1:`port` (rank 0's store starting). */
export async function waitForListener(port: number): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (await canConnect(port, "127.0.0.1")) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on port ${port}`);
}

/** What the store said to a handshake. */
export interface HandshakeResult {
  /** The greeting's flags byte (bit 0: a secret is required). */
  flags: number;
  reply: number;
  /** The message of a WorldSizeMismatch or RankTaken refusal. */
  message?: string;
  /** Whether the store's own proof matched `secret` (Accepted only). */
  storeProven?: boolean;
}

/** Performs the handshake as rank `rank` of `worldSize`, proving with `secret` (undefined: no secret). */
export async function handshake(
  c: RawConnection,
  options: { secret?: string; rank: number; worldSize: number },
): Promise<HandshakeResult> {
  const greeting = await c.read(MAGIC.length + 1 + 32);
  if (greeting === null || !greeting.subarray(0, MAGIC.length).equals(MAGIC))
    throw new Error("no Fulmen store greeting");
  const flags = greeting[MAGIC.length]!;
  const serverNonce = greeting.subarray(MAGIC.length + 1);
  const key = options.secret ?? NO_SECRET_KEY;
  const session = randomBytes(16);
  const clientNonce = randomBytes(32);
  const identity = Buffer.concat([u32(options.rank), u32(options.worldSize)]);
  const proof = createHmac("sha256", key)
    .update(Buffer.from("fulmen-store-client-v1"))
    .update(serverNonce)
    .update(identity)
    .update(session)
    .update(clientNonce)
    .digest();
  c.write(MAGIC, identity, session, clientNonce, proof);
  const code = await c.read(1);
  if (code === null) throw new Error("closed without a reply");
  const reply = code[0]!;
  if (reply === Reply.Accepted) {
    const storeProof = await c.read(32);
    const expected = createHmac("sha256", key)
      .update(Buffer.from("fulmen-store-server-v1"))
      .update(serverNonce)
      .update(clientNonce)
      .update(identity)
      .update(session)
      .digest();
    return { flags, reply, storeProven: storeProof?.equals(expected) === true };
  }
  if (reply === Reply.WorldSizeMismatch || reply === Reply.RankTaken) {
    const length = await c.read(4);
    const text = length === null ? null : await c.read(length.readUInt32LE());
    return { flags, reply, message: text?.toString() ?? "" };
  }
  return { flags, reply };
}

/** A Set request: op, key and value, each length-prefixed. */
export function setRequest(key: string, value: Buffer): Buffer {
  const k = Buffer.from(key);
  return Buffer.concat([Buffer.of(Op.Set), u32(k.length), k, u32(value.length), value]);
}

/** A Get request that waits up to `ms` for `key`. */
export function getRequest(key: string, ms: number): Buffer {
  const k = Buffer.from(key);
  return Buffer.concat([Buffer.of(Op.Get), u32(k.length), k, u32(ms)]);
}

/** A request header claiming a field of `length` bytes, with none of them sent. */
export function claimedLength(op: number, length: number): Buffer {
  return Buffer.concat([Buffer.of(op), u32(length)]);
}

/** Reads a Get or Set reply: the status byte and its length-prefixed payload (a Set that succeeded has none). */
export async function readReply(
  c: RawConnection,
  op: number,
): Promise<{ status: number; payload: Buffer } | null> {
  const status = await c.read(1);
  if (status === null) return null;
  if (op === Op.Set && status[0] === 0) return { status: 0, payload: Buffer.alloc(0) };
  const length = await c.read(4);
  if (length === null) return null;
  const payload = await c.read(length.readUInt32LE());
  return payload === null ? null : { status: status[0]!, payload };
}
