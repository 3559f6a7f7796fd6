import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SafetensorsCheckpointIO } from "../src/checkpoint/checkpoint-io";
import { decodeSafetensors, encodeSafetensors, type SafetensorsEntry } from "../src/checkpoint/safetensors";
import { decodeSkeleton, disposeDecoded } from "../src/checkpoint/state-codec";
import type { tf } from "../src/runtime/tfjs";
import { FulmenError } from "../src/utils/errors";

const SOURCE = "checkpoint 'bad.safetensors'";

/** A safetensors file from a raw header text (so that it can hold duplicates and odd numbers) and data bytes. */
function file(header: string, data: number | Uint8Array = 0, claimedLength?: bigint): Uint8Array {
  const headerBytes = new TextEncoder().encode(header);
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + headerBytes.length + body.length);
  new DataView(out.buffer).setBigUint64(0, claimedLength ?? BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  out.set(body, 8 + headerBytes.length);
  return out;
}

/** One header entry, with offsets and shape given as raw JSON text. */
function entry(dtype: string, shape: string, offsets: string): string {
  return `{"dtype":"${dtype}","shape":${shape},"data_offsets":${offsets}}`;
}

interface Malformed {
  name: string;
  bytes: Uint8Array;
  /** What the message must say; `key` (when given) must be named too. */
  problem: RegExp;
  key?: string;
}

const malformed: Malformed[] = [
  { name: "fewer than 8 bytes", bytes: new Uint8Array(3), problem: /truncated to 3 bytes/ },
  {
    name: "a header length beyond the file",
    bytes: file(`{"a":${entry("F32", "[1]", "[0,4]")}}`, 4, 500n),
    problem: /header claims 500 bytes but only \d+ follow/,
  },
  {
    name: "a header length over 100,000,000 bytes",
    bytes: file("{}", 0, 100_000_001n),
    problem: /100000001 bytes, over the 100,000,000/,
  },
  {
    name: "a header length of 2^64-1",
    bytes: file("{}", 0, 2n ** 64n - 1n),
    problem: /over the 100,000,000/,
  },
  {
    name: "a truncated header",
    bytes: file(`{"a":${entry("F32", "[1]", "[0,4]")}`, 0),
    problem: /JSON header is refused: expected ',' or '}'/,
  },
  { name: "bad JSON", bytes: file(`{"a": nope}`), problem: /JSON header is refused: unexpected 'n'/ },
  { name: "a header that is an array", bytes: file("[]"), problem: /does not start with '\{'/ },
  { name: "a header that is a string", bytes: file('"x"'), problem: /does not start with '\{'/ },
  { name: "text after the header object", bytes: file("{} x"), problem: /unexpected text after/ },
  {
    name: "a header that is not UTF-8",
    bytes: file(`{"\u00ff":1}`).map((b, i) => (i === 10 ? 0xff : b)),
    problem: /not valid UTF-8/,
  },
  {
    name: "overlapping tensors",
    bytes: file(`{"a":${entry("F32", "[2]", "[0,8]")},"b":${entry("F32", "[2]", "[4,12]")}}`, 12),
    problem: /starts at data byte 4, inside tensor 'a'.*overlap/,
    key: "b",
  },
  {
    name: "a gap between tensors",
    bytes: file(`{"a":${entry("F32", "[1]", "[0,4]")},"b":${entry("F32", "[1]", "[8,12]")}}`, 12),
    problem: /leaving bytes 4\.\.8 unused/,
    key: "b",
  },
  {
    name: "a gap before the first tensor",
    bytes: file(`{"a":${entry("F32", "[1]", "[4,8]")}}`, 8),
    problem: /leaving bytes 0\.\.4 unused/,
    key: "a",
  },
  {
    name: "trailing bytes after the data",
    bytes: file(`{"a":${entry("F32", "[1]", "[0,4]")}}`, 8),
    problem: /4 bytes after the last tensor's data .* belong to no tensor/,
  },
  {
    name: "data cut short",
    bytes: file(`{"a":${entry("F32", "[2]", "[0,8]")}}`, 4),
    problem: /ends at data byte 8 but the data area has 4 bytes/,
    key: "a",
  },
  {
    name: "a negative offset",
    bytes: file(`{"a":${entry("F32", "[1]", "[-4,0]")}}`, 4),
    problem: /data offset -4; offsets must be non-negative integers/,
    key: "a",
  },
  {
    name: "a fractional offset",
    bytes: file(`{"a":${entry("F32", "[1]", "[0,4.5]")}}`, 4),
    problem: /data offset 4\.5/,
    key: "a",
  },
  {
    name: "an integer offset written as a float",
    bytes: file(`{"a":${entry("F32", "[1]", "[0,4.0]")}}`, 4),
    problem: /data offset 4\.0/,
    key: "a",
  },
  {
    name: "an offset as a string",
    bytes: file(`{"a":${entry("F32", "[1]", '[0,"4"]')}}`, 4),
    problem: /data offset "4"/,
    key: "a",
  },
  {
    name: "three offsets",
    bytes: file(`{"a":${entry("F32", "[1]", "[0,4,8]")}}`, 4),
    problem: /data_offsets an array of 3 values/,
    key: "a",
  },
  {
    name: "offsets that end before they begin",
    bytes: file(`{"a":${entry("F32", "[0]", "[4,0]")}}`, 4),
    problem: /end before they begin/,
    key: "a",
  },
  {
    name: "bytes that do not match the shape",
    bytes: file(`{"a":${entry("F32", "[2]", "[0,4]")}}`, 4),
    problem: /\(4 bytes\), but dtype F32 and shape \[2\] need 8 bytes/,
    key: "a",
  },
  {
    name: "a shape that is not an array",
    bytes: file(`{"a":${entry("F32", "4", "[0,16]")}}`, 16),
    problem: /shape 4, not an array/,
    key: "a",
  },
  {
    name: "a shape that is null",
    bytes: file(`{"a":${entry("F32", "null", "[0,4]")}}`, 4),
    problem: /shape null, not an array/,
    key: "a",
  },
  {
    name: "a negative dim",
    bytes: file(`{"a":${entry("F32", "[-1]", "[0,4]")}}`, 4),
    problem: /shape dim -1/,
    key: "a",
  },
  {
    name: "a fractional dim",
    bytes: file(`{"a":${entry("F32", "[0.5]", "[0,4]")}}`, 4),
    problem: /shape dim 0\.5/,
    key: "a",
  },
  {
    name: "a shape whose element count overflows",
    bytes: file(`{"a":${entry("F32", "[4503599627370496,4503599627370496]", "[0,4]")}}`, 4),
    problem: /overflows/,
    key: "a",
  },
  { name: "a null entry", bytes: file(`{"a":null}`), problem: /'a' is null, not an object/, key: "a" },
  { name: "a number entry", bytes: file(`{"a":3}`), problem: /'a' is 3, not an object/, key: "a" },
  {
    name: "an entry without dtype",
    bytes: file(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, 4),
    problem: /has no 'dtype'/,
    key: "a",
  },
  {
    name: "an entry without data_offsets",
    bytes: file(`{"a":{"dtype":"F32","shape":[1]}}`, 4),
    problem: /has no 'data_offsets'/,
    key: "a",
  },
  {
    name: "a duplicate key",
    bytes: file(`{"a":${entry("F32", "[1]", "[0,4]")},"a":${entry("F32", "[1]", "[4,8]")}}`, 8),
    problem: /the key 'a' appears twice/,
  },
  {
    name: "a duplicate key spelled with an escape",
    bytes: file(`{"ab":${entry("F32", "[1]", "[0,4]")},"\\u0061b":${entry("F32", "[1]", "[4,8]")}}`, 8),
    problem: /the key 'ab' appears twice/,
  },
  {
    name: "a duplicate key holding escaped quotes",
    bytes: file(`{"a\\"b":${entry("F32", "[1]", "[0,4]")},"a\\u0022b":${entry("F32", "[1]", "[4,8]")}}`, 8),
    problem: /the key 'a"b' appears twice/,
  },
  {
    name: "a duplicate field inside an entry",
    bytes: file(`{"w":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, 4),
    problem: /the key 'dtype' appears twice .*inside 'w'/,
  },
  {
    name: "a duplicate __metadata__",
    bytes: file(`{"__metadata__":{"a":"1"},"__metadata__":{"a":"2"}}`),
    problem: /the key '__metadata__' appears twice/,
  },
  {
    name: "a dtype that does not exist",
    bytes: file(`{"a":${entry("F33", "[1]", "[0,4]")}}`, 4),
    problem: /dtype "F33", which is not a safetensors dtype/,
    key: "a",
  },
  {
    name: "a safetensors dtype Fulmen cannot read",
    bytes: file(`{"a":${entry("F64", "[1]", "[0,8]")}}`, 8),
    problem: /dtype F64, which Fulmen cannot read/,
    key: "a",
  },
  {
    name: "a dtype that is not a string",
    bytes: file(`{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, 4),
    problem: /dtype 4, not a dtype name/,
    key: "a",
  },
  {
    name: "__metadata__ with a number value",
    bytes: file(`{"__metadata__":{"x":1}}`),
    problem: /'__metadata__' entry 'x' is 1, not a string/,
  },
  {
    name: "__metadata__ that is an array",
    bytes: file(`{"__metadata__":["x"]}`),
    problem: /'__metadata__' is an array of 1 values, not a string map/,
  },
  {
    name: "a lone surrogate in a key",
    bytes: file(`{"\\ud800":${entry("F32", "[1]", "[0,4]")}}`, 4),
    problem: /lone surrogate/,
  },
  {
    name: "an unescaped control character in a key",
    bytes: file(`{"a\u0001":${entry("F32", "[1]", "[0,4]")}}`, 4),
    problem: /unescaped control character/,
  },
  {
    // serde_json refuses a number a double cannot hold, wherever it is.
    name: "a number too large for a double in an unknown field",
    bytes: file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":[1e400]}}`, 4),
    problem: /the number 1e400 is out of range .*inside 'a' > 'x' > '0'/,
  },
  {
    name: "an escaped high surrogate followed by a raw character",
    bytes: file(`{"__metadata__":{"s":"\\ud83d\u{1f600}"}}`),
    problem: /lone surrogate .*inside '__metadata__' > 's'/,
  },
  {
    name: "an unknown escape in a long metadata value",
    bytes: file(`{"__metadata__":{"s":"${"\\n".repeat(1000)}\\x"}}`),
    problem: /'\\x' is not a JSON escape .*inside '__metadata__' > 's'/,
  },
  {
    name: "nesting deeper than 128 in an unknown field",
    bytes: file(
      `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":${"[".repeat(200)}${"]".repeat(200)}}}`,
      4,
    ),
    problem: /nested more than 128 deep/,
  },
];

describe("decodeSafetensors refuses every malformed file with a FulmenError", () => {
  it.each(malformed)("$name", ({ bytes, problem, key }) => {
    let error: unknown;
    try {
      decodeSafetensors(bytes, SOURCE);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FulmenError);
    const message = (error as Error).message;
    expect(message).toContain(SOURCE);
    expect(message).toMatch(problem);
    if (key !== undefined) expect(message).toContain(`tensor '${key}'`);
  });

  it("names the file when SafetensorsCheckpointIO loads a malformed one", () => {
    const path = join(mkdtempSync(join(tmpdir(), "fulmen-st-")), "broken.safetensors");
    writeFileSync(path, file(`{"w":null}`));
    expect(() => new SafetensorsCheckpointIO().load(path)).toThrow(
      new RegExp(`checkpoint '${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}'.*tensor 'w' is null`),
    );
  });
});

function f32(...values: number[]): SafetensorsEntry {
  return { dtype: "F32", shape: [values.length], data: new Uint8Array(Float32Array.from(values).buffer) };
}

describe("decodeSafetensors reads every valid file exactly", () => {
  it("round-trips a tensor named __proto__ (and constructor) as ordinary keys", () => {
    const tensors = Object.create(null) as Record<string, SafetensorsEntry>;
    const names: string[] = ["__proto__", "constructor", "w"];
    names.forEach((name, i) => {
      tensors[name] = f32(i, i + 0.5);
    });
    const decoded = decodeSafetensors(encodeSafetensors({ tensors, metadata: {} }));
    expect(Object.keys(decoded.tensors)).toEqual(names);
    expect(Object.getPrototypeOf(decoded.tensors)).toBeNull();
    names.forEach((name, i) => {
      expect(Array.from(new Float32Array(decoded.tensors[name]!.data.buffer))).toEqual([i, i + 0.5]);
    });
  });

  it("loads a weights file with a __proto__ tensor into an own entry, without touching prototypes", () => {
    const path = join(mkdtempSync(join(tmpdir(), "fulmen-st-")), "proto.safetensors");
    writeFileSync(
      path,
      file(`{"__proto__":${entry("F32", "[1]", "[0,4]")}}`, new Uint8Array(Float32Array.of(7).buffer)),
    );
    const contents = new SafetensorsCheckpointIO().load(path);
    const decoded = decodeSkeleton(contents.skeleton, contents.tensors) as Record<string, tf.Tensor>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(["__proto__"]);
    expect(Array.from(Object.getOwnPropertyDescriptor(decoded, "__proto__")!.value.dataSync())).toEqual([7]);
    disposeDecoded(decoded);
  });

  it("sorts tensors by offset, allows empty tensors, padding, null metadata and unknown fields", () => {
    const header =
      `{"__metadata__":null,"b":${entry("F32", "[1]", "[4,8]")},` +
      `"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"note":{"x":[1,2]}},` +
      `"empty":${entry("I32", "[0,3]", "[8,8]")}}     `;
    const data = new Uint8Array(Float32Array.of(1, 2).buffer);
    const decoded = decodeSafetensors(file(header, data));
    expect(Object.keys(decoded.tensors)).toEqual(["b", "a", "empty"]);
    expect(new Float32Array(decoded.tensors.a!.data.buffer)[0]).toBe(1);
    expect(new Float32Array(decoded.tensors.b!.data.buffer)[0]).toBe(2);
    expect(decoded.tensors.empty!.shape).toEqual([0, 3]);
    expect(decoded.metadata).toEqual({});
  });

  it("keeps keys with escaped quotes distinct and exact", () => {
    const header = `{"a\\"b":${entry("F32", "[1]", "[0,4]")},"a\\"c":${entry("F32", "[1]", "[4,8]")}}`;
    const decoded = decodeSafetensors(file(header, 8));
    expect(Object.keys(decoded.tensors)).toEqual(['a"b', 'a"c']);
  });

  it("decodes metadata strings exactly: every escape, unicode escapes, surrogate pairs, megabytes of them", () => {
    const value = `a"b\\c/d\be\ff\ng\rh\ti\u0001é✓😀\u2028`;
    const big = value.repeat(50_000); // ~1.3 MB of header, most of it escapes
    const header = `{"__metadata__":{"small":${JSON.stringify(value)},"big":${JSON.stringify(big)},"u":"\\u00e9\\ud83d\\ude00\\u0022\\/"}}`;
    const decoded = decodeSafetensors(file(header));
    expect(decoded.metadata.small).toBe(value);
    expect(decoded.metadata.big).toBe(big);
    expect(decoded.metadata.u).toBe('é😀"/');
  });

  it("reads an empty file of tensors", () => {
    expect(Object.keys(decodeSafetensors(encodeSafetensors({ tensors: {}, metadata: {} })).tensors)).toEqual(
      [],
    );
  });
});
