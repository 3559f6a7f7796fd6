/**
 * A strict JSON parser for safetensors headers. `JSON.parse` keeps the last of two equal keys, reads `1.0` as the
 * integer 1 and gives `__proto__` prototype semantics on assignment; a header must be refused in the first case
 * and read exactly in the others, so this parser keeps every key (in a Map), refuses duplicates at every level,
 * and keeps numbers as their source text. Browser-safe: no Node imports.
 */

/** A parsed JSON value; objects keep their keys in order, numbers keep their source text. */
export type StrictJsonValue =
  | { type: "object"; entries: Map<string, StrictJsonValue> }
  | { type: "array"; items: StrictJsonValue[] }
  | { type: "string"; value: string }
  | { type: "number"; text: string }
  | { type: "boolean"; value: boolean }
  | { type: "null" };

/** Why a text is not strict JSON; `path` holds the object keys and array indices down to the problem. */
export class StrictJsonError extends Error {
  override name = "StrictJsonError";
  constructor(
    message: string,
    readonly path: readonly string[],
  ) {
    super(message);
  }
}

/** serde_json's default recursion limit; deeper nesting is refused instead of overflowing the stack. */
const MAX_DEPTH = 128;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
/** A backslash or a character that must be escaped: a string without them is its own value. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: RFC 8259 forbids exactly these unescaped in a string.
const ESCAPE_OR_CONTROL = /[\\\u0000-\u001f]/;
/** A UTF-16 surrogate, half of a pair or alone. */
const SURROGATE = /[\uD800-\uDFFF]/;

/** Whether `s` holds a surrogate without its other half (in a decoded header only an escape can make one). */
function hasLoneSurrogate(s: string): boolean {
  if (!SURROGATE.test(s)) return false;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c > 0xdbff) return true;
    const next = s.charCodeAt(k + 1);
    if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
    k++;
  }
  return false;
}

const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/**
 * Parses `text` as one JSON value (RFC 8259). Throws a {@link StrictJsonError} on a syntax error, on an object
 * that names a key twice (after unescaping: `"a"` and `"\u0061"` are the same key), or on nesting deeper than 128.
 */
export function parseStrictJson(text: string): StrictJsonValue {
  let i = 0;
  const path: string[] = [];
  const fail = (message: string): never => {
    throw new StrictJsonError(`${message} at character ${i}`, [...path]);
  };
  const skipWhitespace = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return;
    }
  };
  const hex4 = (): number => {
    const digits = text.slice(i, i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) fail("a \\u escape needs four hex digits");
    i += 4;
    return Number.parseInt(digits, 16);
  };
  // A string's closing quote is the first '"' after `open` not escaped by an odd run of backslashes (each run is
  // counted once: linear). Plain text is sliced out; text with escapes is decoded by the engine's JSON.parse, which
  // refuses exactly what RFC 8259 refuses in a string (control characters, unknown escapes) — it is many times
  // faster than decoding here on a header of many MB of escaped metadata. Lone surrogates JSON.parse would keep
  // are checked after; anything refused is parsed again slowly to say what and where.
  const parseString = (): string => {
    const open = i;
    let close = text.indexOf('"', open + 1);
    for (;;) {
      if (close === -1) return parseStringSlowly();
      let backslashes = 0;
      while (text.charCodeAt(close - 1 - backslashes) === 0x5c) backslashes++;
      if (backslashes % 2 === 0) break;
      close = text.indexOf('"', close + 1);
    }
    const body = text.slice(open + 1, close);
    if (!ESCAPE_OR_CONTROL.test(body)) {
      i = close + 1;
      return body;
    }
    let decoded: unknown;
    try {
      decoded = JSON.parse(text.slice(open, close + 1));
    } catch {
      return parseStringSlowly();
    }
    if (typeof decoded !== "string" || hasLoneSurrogate(decoded)) return parseStringSlowly();
    i = close + 1;
    return decoded;
  };
  const parseStringSlowly = (): string => {
    i++; // the opening quote
    let out = "";
    let start = i;
    for (;;) {
      if (i >= text.length) fail("a string is not closed");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail("a string holds an unescaped control character");
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const escaped = text[i + 1];
      i += 2;
      if (escaped === "u") {
        const unit = hex4();
        if (unit >= 0xd800 && unit <= 0xdbff) {
          // A high surrogate must be followed by an escaped low one (serde_json refuses a lone half).
          if (text[i] !== "\\" || text[i + 1] !== "u") fail("a \\u escape holds a lone surrogate");
          i += 2;
          const low = hex4();
          if (low < 0xdc00 || low > 0xdfff) fail("a \\u escape holds a lone surrogate");
          out += String.fromCharCode(unit, low);
        } else if (unit >= 0xdc00 && unit <= 0xdfff) {
          fail("a \\u escape holds a lone surrogate");
        } else out += String.fromCharCode(unit);
      } else {
        const replacement = escaped === undefined ? undefined : ESCAPES[escaped];
        if (replacement === undefined) fail(`'\\${escaped ?? ""}' is not a JSON escape`);
        out += replacement;
      }
      start = i;
    }
  };
  const parseValue = (depth: number): StrictJsonValue => {
    skipWhitespace();
    const c = text[i];
    if (c === "{" || c === "[") {
      if (depth >= MAX_DEPTH) fail(`values are nested more than ${MAX_DEPTH} deep`);
      return c === "{" ? parseObject(depth + 1) : parseArray(depth + 1);
    }
    if (c === '"') return { type: "string", value: parseString() };
    if (text.startsWith("true", i)) {
      i += 4;
      return { type: "boolean", value: true };
    }
    if (text.startsWith("false", i)) {
      i += 5;
      return { type: "boolean", value: false };
    }
    if (text.startsWith("null", i)) {
      i += 4;
      return { type: "null" };
    }
    NUMBER.lastIndex = i;
    const match = NUMBER.exec(text);
    if (match === null) return fail(c === undefined ? "the text ends early" : `unexpected '${c}'`);
    // serde_json refuses a number too large for a double (1e400, or an integer of 400 digits).
    if (!Number.isFinite(Number(match[0]))) fail(`the number ${match[0].slice(0, 40)} is out of range`);
    i += match[0].length;
    return { type: "number", text: match[0] };
  };
  const parseObject = (depth: number): StrictJsonValue => {
    i++; // {
    const entries = new Map<string, StrictJsonValue>();
    skipWhitespace();
    if (text[i] === "}") {
      i++;
      return { type: "object", entries };
    }
    for (;;) {
      skipWhitespace();
      if (text[i] !== '"') fail("an object key must be a string");
      const key = parseString();
      if (entries.has(key)) fail(`the key '${key}' appears twice`);
      skipWhitespace();
      if (text[i] !== ":") fail("expected ':' after an object key");
      i++;
      path.push(key);
      entries.set(key, parseValue(depth));
      path.pop();
      skipWhitespace();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "}") {
        i++;
        return { type: "object", entries };
      }
      fail("expected ',' or '}' in an object");
    }
  };
  const parseArray = (depth: number): StrictJsonValue => {
    i++; // [
    const items: StrictJsonValue[] = [];
    skipWhitespace();
    if (text[i] === "]") {
      i++;
      return { type: "array", items };
    }
    for (;;) {
      path.push(String(items.length));
      items.push(parseValue(depth));
      path.pop();
      skipWhitespace();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "]") {
        i++;
        return { type: "array", items };
      }
      fail("expected ',' or ']' in an array");
    }
  };
  const value = parseValue(0);
  skipWhitespace();
  if (i < text.length) fail("unexpected text after the JSON value");
  return value;
}
