// What a peer advertises under the `piecepay` key of the BEP 10 extended handshake: a byte string that holds a
// bencoded dictionary (canonical: keys sorted, no duplicates, no leading zeros):
//
//   v  integer       protocol version (PROTOCOL_VERSION)
//   c  byte string   chain id, decimal ASCII (uint256)
//   a  byte string   adjudicator address, 20 raw bytes
//   o  dictionary    optional, a seeder's offer: d where it is paid (20 bytes, optional), h the hubs it is paid
//                    through (optional: 1 to 3 entries of hub address 20 bytes + its ledger id 32 bytes, end to
//                    end), p payee (20 bytes), t asset (20 bytes), x price per piece (decimal)
//   y  byte string   optional, a leecher's payer address, 20 raw bytes
//
// Unknown keys are ignored (room for later optional fields). The receiver parses the bytes itself, strictly; it
// also accepts the same dictionary already decoded in place (a client whose library nests it instead of wrapping).
import { getAddress } from "ethers";
import { WireError } from "./errors.js";
import { type HubRoute, MAX_MESSAGE_BYTES, MAX_OFFER_HUBS, type PaidHandshake, PROTOCOL_VERSION } from "./messages.js";

/**
 * The longest `piecepay` handshake value we parse, in bytes (a full one, with an offer and a payer, is under 300).
 * @example if (value.length > MAX_HANDSHAKE_BYTES) dropPeer()
 */
export const MAX_HANDSHAKE_BYTES = MAX_MESSAGE_BYTES;

const MAX_DEPTH = 8;
const MAX_UINT256_DIGITS = 78; // 2^256 - 1 has 78 decimal digits
const UINT256_LIMIT = 1n << 256n;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const ascii = new TextEncoder();

// The TypedArray toStringTag getter reads an internal slot, so an object merely inheriting from a Uint8Array (what
// bencode makes of a `__proto__` key) is not taken for one; `instanceof` would be fooled, and `.length` would throw.
const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag)
  ?.get as (this: unknown) => string | undefined;
function isBytes(value: unknown): value is Uint8Array {
  return typedArrayTag.call(value) === "Uint8Array";
}

function malformed(shortMessage: string, cause?: unknown): WireError {
  return new WireError("MALFORMED", shortMessage, { cause });
}

// ---- encoding -------------------------------------------------------------------------------------------------

function bstring(bytes: Uint8Array): Uint8Array[] {
  return [ascii.encode(`${bytes.length}:`), bytes];
}

function addressBytes(value: unknown, what: string): Uint8Array {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(value)) throw malformed(`${what} is not an address`);
  try {
    getAddress(value); // checks the checksum of a mixed-case address
  } catch (error) {
    throw malformed(`${what} has a bad checksum`, error);
  }
  const out = new Uint8Array(20);
  for (let i = 0; i < 20; i++) out[i] = Number.parseInt(value.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
}

function decimalBytes(value: unknown, what: string): Uint8Array {
  if (typeof value !== "bigint" || value < 0n || value >= UINT256_LIMIT) throw malformed(`${what} is not a uint256`);
  return ascii.encode(value.toString(10));
}

/**
 * Encodes what we advertise, to be set as `wire.extendedHandshake.piecepay` (a byte string holding a bencoded
 * dictionary; see the top of this file and PROTOCOL.md).
 * @throws WireError MALFORMED when a field does not fit (version not 1..255, an address that is not one, a chain id
 *   or price outside uint256)
 * @example wire.extendedHandshake.piecepay = encodeHandshake({ version: PROTOCOL_VERSION, chainId: 1n, adjudicator, payer })
 */
export function encodeHandshake(h: PaidHandshake): Uint8Array {
  if (typeof h !== "object" || h === null) throw malformed("the handshake is not an object");
  if (!Number.isInteger(h.version) || h.version < 1 || h.version > 255) throw malformed("version is not 1..255");
  const parts: Uint8Array[] = [ascii.encode("d")];
  // keys in sorted order: a, c, o, v, y
  parts.push(ascii.encode("1:a"), ...bstring(addressBytes(h.adjudicator, "adjudicator")));
  parts.push(ascii.encode("1:c"), ...bstring(decimalBytes(h.chainId, "chainId")));
  if (h.offer !== undefined) {
    const offer = h.offer;
    if (typeof offer !== "object" || offer === null) throw malformed("offer is not an object");
    parts.push(ascii.encode("1:od"));
    if (offer.payTo !== undefined)
      parts.push(ascii.encode("1:d"), ...bstring(addressBytes(offer.payTo, "offer.payTo")));
    if (offer.hubs !== undefined) parts.push(ascii.encode("1:h"), ...bstring(hubBytes(offer.hubs)));
    parts.push(ascii.encode("1:p"), ...bstring(addressBytes(offer.payee, "offer.payee")));
    parts.push(ascii.encode("1:t"), ...bstring(addressBytes(offer.asset, "offer.asset")));
    parts.push(ascii.encode("1:x"), ...bstring(decimalBytes(offer.pricePerPiece, "offer.pricePerPiece")));
    parts.push(ascii.encode("e"));
  }
  parts.push(ascii.encode(`1:vi${h.version}e`));
  if (h.payer !== undefined) parts.push(ascii.encode("1:y"), ...bstring(addressBytes(h.payer, "payer")));
  parts.push(ascii.encode("e"));
  return concat(parts);
}

/** An offer's hubs, each its address and the seeder's ledger id with it, end to end. */
function hubBytes(hubs: unknown): Uint8Array {
  if (!Array.isArray(hubs) || hubs.length === 0 || hubs.length > MAX_OFFER_HUBS) {
    throw malformed(`offer.hubs is not 1 to ${MAX_OFFER_HUBS} hubs`);
  }
  return concat(
    hubs.flatMap((route: HubRoute, i) => {
      if (typeof route !== "object" || route === null) throw malformed(`offer.hubs[${i}] is not an object`);
      if (typeof route.ledger !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(route.ledger)) {
        throw malformed(`offer.hubs[${i}].ledger is not a 32-byte id`);
      }
      const ledger = new Uint8Array(32);
      for (let j = 0; j < 32; j++) ledger[j] = Number.parseInt(route.ledger.slice(2 + 2 * j, 4 + 2 * j), 16);
      return [addressBytes(route.hub, `offer.hubs[${i}].hub`), ledger];
    }),
  );
}

/** `parts` end to end in one array (what Buffer.concat does, in browsers too). */
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

// ---- strict bencode ---------------------------------------------------------------------------------------------

type Bencoded = bigint | Uint8Array | Bencoded[] | { [key: string]: Bencoded };

/** A strict bencode parser for at most MAX_HANDSHAKE_BYTES: canonical integers and lengths, sorted unique keys. */
class Parser {
  private at = 0;

  constructor(private readonly bytes: Uint8Array) {}

  parseAll(): Bencoded {
    const value = this.value(0);
    if (this.at !== this.bytes.length) throw malformed(`${this.bytes.length - this.at} bytes after the value`);
    return value;
  }

  private peek(): number {
    if (this.at >= this.bytes.length) throw malformed("the value ends early");
    return this.bytes[this.at];
  }

  private value(depth: number): Bencoded {
    if (depth > MAX_DEPTH) throw malformed(`nested deeper than ${MAX_DEPTH}`);
    const c = this.peek();
    if (c === 0x69 /* i */) return this.integer();
    if (c === 0x6c /* l */) {
      this.at++;
      const list: Bencoded[] = [];
      while (this.peek() !== 0x65 /* e */) list.push(this.value(depth + 1));
      this.at++;
      return list;
    }
    if (c === 0x64 /* d */) {
      this.at++;
      const dict: { [key: string]: Bencoded } = Object.create(null);
      let previous: Uint8Array | undefined;
      while (this.peek() !== 0x65 /* e */) {
        const key = this.string();
        if (previous !== undefined && compareBytes(previous, key) >= 0) {
          throw malformed("dictionary keys are not sorted and unique");
        }
        previous = key;
        dict[latin1(key)] = this.value(depth + 1);
      }
      this.at++;
      return dict;
    }
    return this.string();
  }

  /** Digits without a leading zero (but "0"), as a bigint; stops at `end`. */
  private digits(end: number): bigint {
    const start = this.at;
    while (this.peek() !== end) {
      const c = this.bytes[this.at];
      if (c < 0x30 || c > 0x39) throw malformed(`byte ${c} in a number`);
      this.at++;
    }
    const length = this.at - start;
    if (length === 0) throw malformed("a number without digits");
    if (length > 1 && this.bytes[start] === 0x30) throw malformed("a number with a leading zero");
    let value = 0n;
    for (let i = start; i < this.at; i++) value = value * 10n + BigInt(this.bytes[i] - 0x30);
    this.at++; // the terminator
    return value;
  }

  private integer(): bigint {
    this.at++; // i
    const negative = this.peek() === 0x2d; /* - */
    if (negative) this.at++;
    const value = this.digits(0x65 /* e */);
    if (negative && value === 0n) throw malformed("i-0e");
    return negative ? -value : value;
  }

  private string(): Uint8Array {
    const c = this.peek();
    if (c < 0x30 || c > 0x39) throw malformed(`byte ${c} where a value starts`);
    const length = this.digits(0x3a /* : */);
    if (length > BigInt(this.bytes.length - this.at)) throw malformed("a string longer than the rest");
    const out = this.bytes.slice(this.at, this.at + Number(length));
    this.at += Number(length);
    return out;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function latin1(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

// ---- decoding -----------------------------------------------------------------------------------------------------

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

function field(dict: Dict, key: string): unknown {
  return Object.hasOwn(dict, key) ? dict[key] : undefined;
}

function readAddress(value: unknown, what: string): string {
  if (!isBytes(value) || value.length !== 20) throw malformed(`${what} is not a 20-byte address`);
  let hex = "0x";
  for (const b of value) hex += HEX[b];
  return getAddress(hex);
}

function readDecimal(value: unknown, what: string): bigint {
  if (!isBytes(value) || value.length === 0 || value.length > MAX_UINT256_DIGITS) {
    throw malformed(`${what} is not a decimal uint256`);
  }
  for (const b of value) if (b < 0x30 || b > 0x39) throw malformed(`${what} is not a decimal uint256`);
  if (value.length > 1 && value[0] === 0x30) throw malformed(`${what} has a leading zero`);
  const n = BigInt(latin1(value));
  if (n >= UINT256_LIMIT) throw malformed(`${what} is above uint256`);
  return n;
}

function readHubs(value: unknown): HubRoute[] {
  const entry = 20 + 32;
  if (!isBytes(value) || value.length === 0 || value.length % entry !== 0 || value.length > MAX_OFFER_HUBS * entry) {
    throw malformed(`the offer's hubs are not 1 to ${MAX_OFFER_HUBS} entries of ${entry} bytes`);
  }
  const hubs: HubRoute[] = [];
  for (let at = 0; at < value.length; at += entry) {
    let ledger = "0x";
    for (const b of value.subarray(at + 20, at + entry)) ledger += HEX[b];
    hubs.push({ hub: readAddress(value.subarray(at, at + 20), "an offer's hub"), ledger });
  }
  return hubs;
}

/**
 * Reads a peer's `piecepay` handshake value: the byte string we send (parsed as strict bencode), or the same
 * dictionary already decoded (Uint8Array values, integers as number or bigint). Checks every field; ignores keys
 * it does not know. Addresses come back checksummed.
 * @throws WireError TOO_LONG (bytes over MAX_HANDSHAKE_BYTES), UNSUPPORTED_VERSION (v is not PROTOCOL_VERSION) or
 *   MALFORMED (anything else), and nothing else
 * @example const theirs = decodeHandshake(handshake.piecepay) // in the extension's onExtendedHandshake
 */
export function decodeHandshake(value: unknown): PaidHandshake {
  let dict: unknown = value;
  if (isBytes(value)) {
    if (value.length > MAX_HANDSHAKE_BYTES) {
      throw new WireError("TOO_LONG", `a handshake of ${value.length} bytes is longer than ${MAX_HANDSHAKE_BYTES}`);
    }
    dict = new Parser(value).parseAll();
  }
  if (!isDict(dict)) throw malformed("the handshake is not a dictionary");
  const v = field(dict, "v");
  if (!(typeof v === "bigint" || (typeof v === "number" && Number.isSafeInteger(v)))) {
    throw malformed("the handshake's version is not an integer");
  }
  if (BigInt(v) !== BigInt(PROTOCOL_VERSION)) {
    throw new WireError("UNSUPPORTED_VERSION", `handshake version ${v}, we speak ${PROTOCOL_VERSION}`);
  }
  const handshake: PaidHandshake = {
    version: PROTOCOL_VERSION,
    chainId: readDecimal(field(dict, "c"), "the chain id"),
    adjudicator: readAddress(field(dict, "a"), "the adjudicator"),
  };
  const offer = field(dict, "o");
  if (offer !== undefined) {
    if (!isDict(offer)) throw malformed("the offer is not a dictionary");
    const payTo = field(offer, "d");
    const hubs = field(offer, "h");
    handshake.offer = {
      payee: readAddress(field(offer, "p"), "the offer's payee"),
      ...(payTo === undefined ? {} : { payTo: readAddress(payTo, "the offer's payout address") }),
      ...(hubs === undefined ? {} : { hubs: readHubs(hubs) }),
      asset: readAddress(field(offer, "t"), "the offer's asset"),
      pricePerPiece: readDecimal(field(offer, "x"), "the offer's price"),
    };
  }
  const payer = field(dict, "y");
  if (payer !== undefined) handshake.payer = readAddress(payer, "the payer");
  return handshake;
}
