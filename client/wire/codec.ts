// Bytes <-> messages of the paid extension. Every message is: version (1 byte), type id (1 byte), then a payload
// whose layout and length are fixed by the type (big-endian integers, raw addresses, ids and signatures); only
// `notice` carries a variable-length part, and its length byte fixes the total length. PROTOCOL.md has the tables.
// A decoder that accepts exactly one encoding per value: decodeMessage(b) either throws WireError or returns m
// with encodeMessage(m) equal to b, byte for byte.
import { getAddress } from "ethers";
import { WireError } from "./errors.js";
import {
  type AcceptMessage,
  type CloseMessage,
  MAX_MESSAGE_BYTES,
  type NoticeCode,
  type NoticeMessage,
  type PaidMessage,
  PROTOCOL_VERSION,
  type ProposeMessage,
  type ReceiptMessage,
  type ResumedMessage,
  type ResumeMessage,
  type VirtualAcceptMessage,
  type VirtualClosedMessage,
  type VirtualCloseMessage,
  type VirtualProposeMessage,
  type VirtualReadyMessage,
  type VoucherMessage,
} from "./messages.js";

/**
 * The type id (byte 1) of each message.
 * @example MESSAGE_TYPE_IDS.voucher // 3
 */
export const MESSAGE_TYPE_IDS = {
  propose: 1,
  accept: 2,
  voucher: 3,
  receipt: 4,
  close: 5,
  notice: 6,
  resume: 7,
  resumed: 8,
  vpropose: 9,
  vaccept: 10,
  vready: 11,
  vclose: 12,
  vclosed: 13,
} as const satisfies Record<PaidMessage["type"], number>;

/**
 * The code byte of each notice.
 * @example NOTICE_CODE_IDS.bye // 3
 */
export const NOTICE_CODE_IDS = { refused: 1, closed: 2, bye: 3 } as const satisfies Record<NoticeCode, number>;

/**
 * The longest notice reason, in UTF-8 bytes.
 * @example if (new TextEncoder().encode(reason).length > NOTICE_MAX_REASON_BYTES) reason = truncateReason(reason)
 */
export const NOTICE_MAX_REASON_BYTES = 200;

const HEADER = 2;
const ADDRESS = 20;
const ID = 32;
const UINT256 = 32;
const UINT64 = 8;
const UINT48 = 6;
const SIGNATURE = 65;

/**
 * The exact length in bytes of each fixed-length message, header included (`notice`: its shortest, empty reason).
 * @example MESSAGE_LENGTHS.voucher // 131
 */
export const MESSAGE_LENGTHS = {
  // chainId, adjudicator, payer, payee, channelNonce, appDefinition, challengeDuration, asset, deposit,
  // payerDestination, payeeDestination, payerSignature
  propose:
    HEADER + UINT256 + ADDRESS + 2 * ADDRESS + UINT64 + ADDRESS + UINT48 + ADDRESS + UINT256 + 2 * ADDRESS + SIGNATURE,
  // channelId, payeeSignature
  accept: HEADER + ID + SIGNATURE,
  // channelId, amount, signature
  voucher: HEADER + ID + UINT256 + SIGNATURE,
  // channelId, amount
  receipt: HEADER + ID + UINT256,
  // channelId, turnNum, paid, hasVoucher, voucherAmount, voucherSignature, signature
  close: HEADER + ID + UINT48 + UINT256 + 1 + UINT256 + SIGNATURE + SIGNATURE,
  // code, reason length, reason (0..200 bytes)
  notice: HEADER + 2,
  resume: HEADER + ID + UINT256 + SIGNATURE,
  resumed: HEADER + ID + UINT256 + UINT64,
  // payer, hub, payee, channelNonce, appDefinition, challengeDuration, asset, amount, payerLedger, payeeLedger,
  // payerSignature, hubSignature
  vpropose: HEADER + 3 * ADDRESS + UINT64 + ADDRESS + UINT48 + ADDRESS + UINT256 + 2 * ID + 2 * SIGNATURE,
  // channelId, payeeSignature
  vaccept: HEADER + ID + SIGNATURE,
  vready: HEADER + ID,
  // channelId, paid, signature
  vclose: HEADER + ID + UINT256 + SIGNATURE,
  vclosed: HEADER + ID + SIGNATURE,
} as const satisfies Record<PaidMessage["type"], number>;

const TYPE_BY_ID: readonly (PaidMessage["type"] | undefined)[] = [
  undefined,
  "propose",
  "accept",
  "voucher",
  "receipt",
  "close",
  "notice",
  "resume",
  "resumed",
  "vpropose",
  "vaccept",
  "vready",
  "vclose",
  "vclosed",
];
const NOTICE_CODE_BY_ID: readonly (NoticeCode | undefined)[] = [undefined, "refused", "closed", "bye"];

/** The signature field of a `resume` that carries no voucher (amount 0). */
export const NO_SIGNATURE = `0x${"00".repeat(SIGNATURE)}`;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const utf8Encoder = new TextEncoder();
// fatal: invalid UTF-8 throws; ignoreBOM: a leading U+FEFF stays in the string, so it re-encodes to the same bytes.
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /\p{Cs}/u;

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

/** Writes fields in order into a buffer of the message's exact length; every writer validates its value. */
class Writer {
  readonly bytes: Uint8Array;
  private at = 0;

  constructor(length: number) {
    this.bytes = new Uint8Array(length);
  }

  byte(value: number): void {
    this.bytes[this.at++] = value;
  }

  uint(value: unknown, size: number, what: string): void {
    if (typeof value !== "bigint" || value < 0n || value >> BigInt(8 * size) !== 0n) {
      throw malformed(`${what} is not a uint${8 * size}`);
    }
    let rest = value;
    for (let i = this.at + size - 1; i >= this.at; i--) {
      this.bytes[i] = Number(rest & 0xffn);
      rest >>= 8n;
    }
    this.at += size;
  }

  hex(value: unknown, size: number, what: string): void {
    if (typeof value !== "string" || value.length !== 2 + 2 * size || !/^0x[0-9a-fA-F]*$/.test(value)) {
      throw malformed(`${what} is not ${size} bytes of 0x-prefixed hex`);
    }
    for (let i = 0; i < size; i++) this.bytes[this.at + i] = Number.parseInt(value.slice(2 + 2 * i, 4 + 2 * i), 16);
    this.at += size;
  }

  address(value: unknown, what: string): void {
    let address: string;
    try {
      if (typeof value !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(value)) throw new Error("not 20 bytes of hex");
      address = getAddress(value); // checks the checksum of a mixed-case address
    } catch (error) {
      throw malformed(`${what} is not an address`, error);
    }
    this.hex(address, ADDRESS, what);
  }

  /** The bytes written so far; throws if a field was left out (a bug of ours, not the caller's). */
  done(): Uint8Array {
    if (this.at !== this.bytes.length) throw new Error(`wrote ${this.at} of ${this.bytes.length} bytes`);
    return this.bytes;
  }
}

/** Reads fields in order from a message whose length has already been checked. */
class Reader {
  private at = HEADER;

  constructor(private readonly bytes: Uint8Array) {}

  byte(): number {
    return this.bytes[this.at++];
  }

  hex(size: number): string {
    let out = "0x";
    for (let i = this.at; i < this.at + size; i++) out += HEX[this.bytes[i]];
    this.at += size;
    return out;
  }

  uint(size: number): bigint {
    return BigInt(this.hex(size));
  }

  address(): string {
    return getAddress(this.hex(ADDRESS));
  }

  isZero(size: number): boolean {
    for (let i = this.at; i < this.at + size; i++) if (this.bytes[i] !== 0) return false;
    return true;
  }
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null) throw malformed(`${what} is not an object`);
  return value as Record<string, unknown>;
}

/**
 * Encodes one message of the paid extension (the payload of a BEP 10 `piecepay` extended message).
 * @throws WireError MALFORMED when a field does not fit its layout (an address that is not one, an id that is not
 *   32 bytes, an integer out of its range, a reason over 200 UTF-8 bytes or not well-formed, an unknown type)
 * @example wire.extended("piecepay", encodeMessage({ type: "receipt", channelId, amount: 1_000n }))
 */
export function encodeMessage(m: PaidMessage): Uint8Array {
  const message = record(m, "the message");
  const type = message.type;
  if (typeof type !== "string" || !Object.hasOwn(MESSAGE_TYPE_IDS, type)) {
    throw malformed(`unknown message type ${String(type)}`);
  }
  const key = type as PaidMessage["type"];
  if (key === "notice") return encodeNotice(message as unknown as NoticeMessage);
  const w = new Writer(MESSAGE_LENGTHS[key]);
  w.byte(PROTOCOL_VERSION);
  w.byte(MESSAGE_TYPE_IDS[key]);
  switch (key) {
    case "propose": {
      const p = message as unknown as ProposeMessage;
      const fixedPart = record(p.fixedPart, "fixedPart");
      const participants = fixedPart.participants;
      if (!Array.isArray(participants) || participants.length !== 2) {
        throw malformed("a proposal has exactly two participants (payer, payee)");
      }
      w.uint(p.chainId, UINT256, "chainId");
      w.address(p.adjudicator, "adjudicator");
      w.address(participants[0], "the payer (participant 0)");
      w.address(participants[1], "the payee (participant 1)");
      w.uint(fixedPart.channelNonce, UINT64, "channelNonce");
      w.address(fixedPart.appDefinition, "appDefinition");
      w.uint(fixedPart.challengeDuration, UINT48, "challengeDuration");
      w.address(p.asset, "asset");
      w.uint(p.deposit, UINT256, "deposit");
      w.address(p.payerDestination, "payerDestination");
      w.address(p.payeeDestination, "payeeDestination");
      w.hex(p.payerSignature, SIGNATURE, "payerSignature");
      break;
    }
    case "accept": {
      const a = message as unknown as AcceptMessage;
      w.hex(a.channelId, ID, "channelId");
      w.hex(a.payeeSignature, SIGNATURE, "payeeSignature");
      break;
    }
    case "voucher": {
      const voucher = record((message as unknown as VoucherMessage).voucher, "voucher");
      w.hex(voucher.channelId, ID, "voucher.channelId");
      w.uint(voucher.amount, UINT256, "voucher.amount");
      w.hex(voucher.signature, SIGNATURE, "voucher.signature");
      break;
    }
    case "resume": {
      const voucher = record((message as unknown as ResumeMessage).voucher, "voucher");
      w.hex(voucher.channelId, ID, "voucher.channelId");
      w.uint(voucher.amount, UINT256, "voucher.amount");
      if (voucher.amount === 0n && voucher.signature !== NO_SIGNATURE) {
        throw malformed("a resume without a voucher (amount 0) has an all-zero signature");
      }
      w.hex(voucher.signature, SIGNATURE, "voucher.signature");
      break;
    }
    case "resumed": {
      const r = message as unknown as ResumedMessage;
      w.hex(r.channelId, ID, "channelId");
      w.uint(r.amount, UINT256, "amount");
      w.uint(r.served, UINT64, "served");
      break;
    }
    case "receipt": {
      const r = message as unknown as ReceiptMessage;
      w.hex(r.channelId, ID, "channelId");
      w.uint(r.amount, UINT256, "amount");
      break;
    }
    case "vpropose": {
      const p = message as unknown as VirtualProposeMessage;
      const fixedPart = record(p.fixedPart, "fixedPart");
      const participants = fixedPart.participants;
      if (!Array.isArray(participants) || participants.length !== 3) {
        throw malformed("a virtual channel has exactly three participants (payer, hub, payee)");
      }
      w.address(participants[0], "the payer (participant 0)");
      w.address(participants[1], "the hub (participant 1)");
      w.address(participants[2], "the payee (participant 2)");
      w.uint(fixedPart.channelNonce, UINT64, "channelNonce");
      w.address(fixedPart.appDefinition, "appDefinition");
      w.uint(fixedPart.challengeDuration, UINT48, "challengeDuration");
      w.address(p.asset, "asset");
      w.uint(p.amount, UINT256, "amount");
      w.hex(p.payerLedger, ID, "payerLedger");
      w.hex(p.payeeLedger, ID, "payeeLedger");
      w.hex(p.payerSignature, SIGNATURE, "payerSignature");
      w.hex(p.hubSignature, SIGNATURE, "hubSignature");
      break;
    }
    case "vaccept":
    case "vclosed": {
      const a = message as unknown as VirtualAcceptMessage | VirtualClosedMessage;
      w.hex(a.channelId, ID, "channelId");
      w.hex(a.payeeSignature, SIGNATURE, "payeeSignature");
      break;
    }
    case "vready":
      w.hex((message as unknown as VirtualReadyMessage).channelId, ID, "channelId");
      break;
    case "vclose": {
      const c = message as unknown as VirtualCloseMessage;
      w.hex(c.channelId, ID, "channelId");
      w.uint(c.paid, UINT256, "paid");
      w.hex(c.signature, SIGNATURE, "signature");
      break;
    }
    case "close": {
      const c = message as unknown as CloseMessage;
      w.hex(c.channelId, ID, "channelId");
      w.uint(c.turnNum, UINT48, "turnNum");
      w.uint(c.paid, UINT256, "paid");
      if (c.voucher === undefined) {
        w.byte(0);
        w.uint(0n, UINT256, "");
        w.hex(`0x${"00".repeat(SIGNATURE)}`, SIGNATURE, "");
      } else {
        const voucher = record(c.voucher, "close.voucher");
        w.byte(1);
        w.uint(voucher.amount, UINT256, "close.voucher.amount");
        w.hex(voucher.signature, SIGNATURE, "close.voucher.signature");
      }
      w.hex(c.signature, SIGNATURE, "signature");
      break;
    }
  }
  return w.done();
}

function encodeNotice(n: NoticeMessage): Uint8Array {
  if (typeof n.code !== "string" || !Object.hasOwn(NOTICE_CODE_IDS, n.code)) {
    throw malformed(`unknown notice code ${String(n.code)}`);
  }
  if (typeof n.reason !== "string" || LONE_SURROGATE.test(n.reason)) {
    throw malformed("a notice's reason is not a well-formed string");
  }
  const reason = utf8Encoder.encode(n.reason);
  if (reason.length > NOTICE_MAX_REASON_BYTES) {
    throw malformed(`a notice's reason has ${reason.length} UTF-8 bytes, more than ${NOTICE_MAX_REASON_BYTES}`);
  }
  const out = new Uint8Array(MESSAGE_LENGTHS.notice + reason.length);
  out[0] = PROTOCOL_VERSION;
  out[1] = MESSAGE_TYPE_IDS.notice;
  out[2] = NOTICE_CODE_IDS[n.code];
  out[3] = reason.length;
  out.set(reason, 4);
  return out;
}

/**
 * Decodes one message from a peer. Checks, in order: a Uint8Array; at most MAX_MESSAGE_BYTES (before reading any
 * byte); at least the 2 header bytes; the version; the type id; the exact length of that type; then every field
 * (close: flag 0 or 1 and zeros when there is no voucher; notice: a known code, reason length, valid UTF-8).
 * Addresses come back checksummed, ids and signatures as lowercase 0x hex, integers as bigint. Signatures are not
 * checked here: that is the session's job, through the SDK.
 * @throws WireError MALFORMED, TOO_LONG, UNKNOWN_TYPE or UNSUPPORTED_VERSION, and nothing else
 * @example const m = decodeMessage(buf); if (m.type === "voucher") session.onVoucher(m.voucher)
 */
export function decodeMessage(bytes: Uint8Array): PaidMessage {
  if (!isBytes(bytes)) throw malformed("a message is a byte array");
  if (bytes.length > MAX_MESSAGE_BYTES) {
    throw new WireError("TOO_LONG", `a message of ${bytes.length} bytes is longer than ${MAX_MESSAGE_BYTES}`);
  }
  if (bytes.length < HEADER) throw malformed(`a message of ${bytes.length} bytes has no header`);
  if (bytes[0] !== PROTOCOL_VERSION) {
    throw new WireError("UNSUPPORTED_VERSION", `protocol version ${bytes[0]}, we speak ${PROTOCOL_VERSION}`);
  }
  const type = TYPE_BY_ID[bytes[1]];
  if (type === undefined) throw new WireError("UNKNOWN_TYPE", `unknown message type id ${bytes[1]}`);
  if (type === "notice") return decodeNotice(bytes);
  if (bytes.length !== MESSAGE_LENGTHS[type]) {
    throw malformed(`a ${type} message has ${MESSAGE_LENGTHS[type]} bytes, not ${bytes.length}`);
  }
  const r = new Reader(bytes);
  switch (type) {
    case "propose": {
      const chainId = r.uint(UINT256);
      const adjudicator = r.address();
      const payer = r.address();
      const payee = r.address();
      const channelNonce = r.uint(UINT64);
      const appDefinition = r.address();
      const challengeDuration = r.uint(UINT48);
      const asset = r.address();
      const deposit = r.uint(UINT256);
      const payerDestination = r.address();
      const payeeDestination = r.address();
      const payerSignature = r.hex(SIGNATURE);
      return {
        type,
        chainId,
        adjudicator,
        fixedPart: { participants: [payer, payee], channelNonce, appDefinition, challengeDuration },
        asset,
        deposit,
        payerDestination,
        payeeDestination,
        payerSignature,
      };
    }
    case "accept":
      return { type, channelId: r.hex(ID), payeeSignature: r.hex(SIGNATURE) };
    case "voucher":
      return { type, voucher: { channelId: r.hex(ID), amount: r.uint(UINT256), signature: r.hex(SIGNATURE) } };
    case "receipt":
      return { type, channelId: r.hex(ID), amount: r.uint(UINT256) };
    case "resume": {
      const voucher = { channelId: r.hex(ID), amount: r.uint(UINT256), signature: r.hex(SIGNATURE) };
      if (voucher.amount === 0n && voucher.signature !== NO_SIGNATURE) {
        throw malformed("a resume without a voucher (amount 0) has a non-zero signature");
      }
      return { type, voucher };
    }
    case "resumed":
      return { type, channelId: r.hex(ID), amount: r.uint(UINT256), served: r.uint(UINT64) };
    case "vpropose": {
      const payer = r.address();
      const hub = r.address();
      const payee = r.address();
      const channelNonce = r.uint(UINT64);
      const appDefinition = r.address();
      const challengeDuration = r.uint(UINT48);
      return {
        type,
        fixedPart: { participants: [payer, hub, payee], channelNonce, appDefinition, challengeDuration },
        asset: r.address(),
        amount: r.uint(UINT256),
        payerLedger: r.hex(ID),
        payeeLedger: r.hex(ID),
        payerSignature: r.hex(SIGNATURE),
        hubSignature: r.hex(SIGNATURE),
      };
    }
    case "vaccept":
    case "vclosed":
      return { type, channelId: r.hex(ID), payeeSignature: r.hex(SIGNATURE) };
    case "vready":
      return { type, channelId: r.hex(ID) };
    case "vclose":
      return { type, channelId: r.hex(ID), paid: r.uint(UINT256), signature: r.hex(SIGNATURE) };
    case "close": {
      const channelId = r.hex(ID);
      const turnNum = r.uint(UINT48);
      const paid = r.uint(UINT256);
      const flag = r.byte();
      if (flag === 0) {
        if (!r.isZero(UINT256 + SIGNATURE)) throw malformed("a close without a voucher has non-zero voucher bytes");
        r.hex(UINT256 + SIGNATURE);
        return { type, channelId, turnNum, paid, signature: r.hex(SIGNATURE) };
      }
      if (flag !== 1) throw malformed(`a close's voucher flag is ${flag}, not 0 or 1`);
      const voucher = { amount: r.uint(UINT256), signature: r.hex(SIGNATURE) };
      return { type, channelId, turnNum, paid, voucher, signature: r.hex(SIGNATURE) };
    }
  }
}

function decodeNotice(bytes: Uint8Array): NoticeMessage {
  if (bytes.length < MESSAGE_LENGTHS.notice) throw malformed(`a notice of ${bytes.length} bytes is too short`);
  const code = NOTICE_CODE_BY_ID[bytes[2]];
  if (code === undefined) throw malformed(`unknown notice code ${bytes[2]}`);
  const length = bytes[3];
  if (length > NOTICE_MAX_REASON_BYTES) throw malformed(`a notice's reason of ${length} bytes is too long`);
  if (bytes.length !== MESSAGE_LENGTHS.notice + length) {
    throw malformed(
      `a notice with a ${length}-byte reason has ${MESSAGE_LENGTHS.notice + length} bytes, not ${bytes.length}`,
    );
  }
  let reason: string;
  try {
    reason = utf8Decoder.decode(bytes.subarray(4));
  } catch (error) {
    throw malformed("a notice's reason is not valid UTF-8", error);
  }
  return { type: "notice", code, reason };
}

/**
 * Cuts a reason to at most NOTICE_MAX_REASON_BYTES of UTF-8 on a character boundary (lone surrogates become U+FFFD),
 * so that any text can go into a notice.
 * @example encodeMessage({ type: "notice", code: "refused", reason: truncateReason(error.message) })
 */
export function truncateReason(reason: string): string {
  const bytes = utf8Encoder.encode(reason.replace(/\p{Cs}/gu, "\uFFFD"));
  if (bytes.length <= NOTICE_MAX_REASON_BYTES) return utf8Decoder.decode(bytes);
  let end = NOTICE_MAX_REASON_BYTES;
  while ((bytes[end] & 0xc0) === 0x80) end--; // back to the first byte of the character that does not fit
  return utf8Decoder.decode(bytes.subarray(0, end));
}
