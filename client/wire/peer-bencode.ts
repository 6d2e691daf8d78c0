// A bencode reader for what any peer may send (extended handshakes, ut_metadata, ut_pex): it bounds depth, item
// count, lengths and integer digits before reading, and never walks backwards, so that the libraries behind the wire
// guard (bencode 4, which loops forever on a negative length and recurses without a limit) only ever see bytes this
// reader accepted. Keys are read as the `bencode` package reads them (UTF-8 text, or hex when not valid UTF-8), so a
// duplicate for the library is a duplicate here too, and a value checked here is the value the library uses.
import { WireError } from "./errors.js";

export type PeerBencoded = bigint | Uint8Array | PeerBencoded[] | Map<string, PeerBencoded>;

/** Bounds of one read. */
export interface PeerBencodeLimits {
  /** Lists and dictionaries nested at most this deep (the top value is depth 1). */
  maxDepth: number;
  /** Values in all, at most (a dictionary entry counts its key and its value). */
  maxItems: number;
}

/** The most digits an integer may have: 2^64 has 20; nothing a peer sends us needs more. */
const MAX_INTEGER_DIGITS = 20;
const utf8 = new TextDecoder("utf-8");
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function malformed(message: string): WireError {
  return new WireError("MALFORMED", message);
}

/**
 * Reads one bencoded value at the start of `bytes`; what follows it is the caller's (ut_metadata puts raw data after
 * its dictionary).
 * @returns the value and the offset just past it
 * @throws WireError MALFORMED on anything a strict reader refuses: a negative or leading-zero length, a length past
 *   the end, `-0`, an integer of more than 20 digits, a non-string key, a duplicate or `__proto__` key, nesting
 *   deeper than `maxDepth` or more than `maxItems` values
 * @example const { value, end } = readPeerBencode(payload, { maxDepth: 4, maxItems: 256 })
 */
export function readPeerBencode(bytes: Uint8Array, limits: PeerBencodeLimits): { value: PeerBencoded; end: number } {
  const reader = new Reader(bytes, limits);
  const value = reader.value(1);
  return { value, end: reader.at };
}

class Reader {
  at = 0;
  #items = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly limits: PeerBencodeLimits,
  ) {}

  #peek(): number {
    if (this.at >= this.bytes.length) throw malformed("bencode ends early");
    return this.bytes[this.at];
  }

  value(depth: number): PeerBencoded {
    if (++this.#items > this.limits.maxItems) throw malformed(`bencode with more than ${this.limits.maxItems} values`);
    const c = this.#peek();
    if (c === 0x69 /* i */) return this.#integer();
    if (c === 0x6c /* l */ || c === 0x64 /* d */) {
      if (depth > this.limits.maxDepth) throw malformed(`bencode nested deeper than ${this.limits.maxDepth}`);
      this.at++;
      return c === 0x6c ? this.#list(depth) : this.#dictionary(depth);
    }
    return this.#string();
  }

  #list(depth: number): PeerBencoded[] {
    const list: PeerBencoded[] = [];
    while (this.#peek() !== 0x65 /* e */) list.push(this.value(depth + 1));
    this.at++;
    return list;
  }

  #dictionary(depth: number): Map<string, PeerBencoded> {
    const dict = new Map<string, PeerBencoded>();
    while (this.#peek() !== 0x65 /* e */) {
      if (++this.#items > this.limits.maxItems) {
        throw malformed(`bencode with more than ${this.limits.maxItems} values`);
      }
      const key = libraryKey(this.#string());
      // bencode assigns into a plain object: `__proto__` would replace the dictionary's prototype.
      if (key === "__proto__") throw malformed("a __proto__ key");
      if (dict.has(key)) throw malformed(`a duplicate key ${JSON.stringify(key)}`);
      dict.set(key, this.value(depth + 1));
    }
    this.at++;
    return dict;
  }

  #integer(): bigint {
    this.at++; // i
    const start = this.at;
    if (this.#peek() === 0x2d /* - */) this.at++;
    const digitsStart = this.at;
    while (this.#peek() !== 0x65 /* e */) {
      const d = this.bytes[this.at];
      if (d < 0x30 || d > 0x39) throw malformed("a non-digit in a bencode integer");
      if (this.at - digitsStart >= MAX_INTEGER_DIGITS) throw malformed("a bencode integer of more than 20 digits");
      this.at++;
    }
    const digits = this.at - digitsStart;
    if (digits === 0) throw malformed("an empty bencode integer");
    if (digits > 1 && this.bytes[digitsStart] === 0x30) throw malformed("a bencode integer with a leading zero");
    const text = String.fromCharCode(...this.bytes.subarray(start, this.at));
    if (text === "-0") throw malformed("a bencode integer -0");
    this.at++; // e
    return BigInt(text);
  }

  #string(): Uint8Array {
    const digitsStart = this.at;
    let length = 0;
    while (this.#peek() !== 0x3a /* : */) {
      const d = this.bytes[this.at];
      if (d < 0x30 || d > 0x39) throw malformed("a bencode string length that is not a decimal number");
      if (this.at - digitsStart >= 10) throw malformed("a bencode string length of more than 10 digits");
      length = length * 10 + (d - 0x30);
      this.at++;
    }
    const digits = this.at - digitsStart;
    if (digits === 0) throw malformed("a bencode string without a length");
    if (digits > 1 && this.bytes[digitsStart] === 0x30) throw malformed("a bencode string length with a leading zero");
    this.at++; // :
    if (length > this.bytes.length - this.at) throw malformed("a bencode string longer than what follows");
    const value = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return value;
  }
}

/** A dictionary key as the `bencode` package makes it: UTF-8 text, or hex when the bytes are not valid UTF-8. */
function libraryKey(bytes: Uint8Array): string {
  const text = utf8.decode(bytes);
  if (!text.includes("\uFFFD")) return text;
  let hex = "";
  for (const b of bytes) hex += HEX[b];
  return hex;
}

/** The integer at `key` of a dictionary, if it is one. */
export function integerAt(dict: PeerBencoded | undefined, key: string): bigint | undefined {
  if (!(dict instanceof Map)) return undefined;
  const value = dict.get(key);
  return typeof value === "bigint" ? value : undefined;
}
