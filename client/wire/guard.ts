// The wire guard: it frames a peer's inbound bytes itself and lets through only whole, valid messages, before
// bittorrent-protocol, webtorrent, ut_metadata, ut_pex or bencode see any of them. Those libraries crash, freeze or
// exhaust memory on inputs a peer chooses (client/wire/GUARD.md lists each case and its upstream note): a ut_metadata
// request from a peer that never advertised the extension, an empty ut_metadata message, a negative bencode length,
// a deep nesting, a length prefix of 4 GiB, a `have` for piece 419 million. Here each message is checked against
// its type's exact length or cap from its first 5 bytes, against the torrent (piece indexes, block bounds) and,
// for extension messages, with a bounded bencode reader. A peer whose bytes fail is dropped; nothing it sent is
// parsed further.
import { WireError } from "./errors.js";
import { BENCODE_LIMITS, MESSAGE_CAPS, type WireLimits } from "./limits.js";
import { integerAt, type PeerBencoded, readPeerBencode } from "./peer-bencode.js";

/** What the guard needs to know of the torrent a connection is for; `undefined` until the handshake names it. */
export interface GuardedTorrent {
  /** Pieces in the torrent; 0 while a magnet's metadata is missing. */
  pieceCount(): number;
  pieceLength(index: number): number;
}

/** What the guard reads from the bittorrent-protocol wire it protects. */
export interface GuardedWire {
  /** Our own extension ids: the id a peer's extended message carries, to the extension's name. */
  extendedMapping: Record<number, string>;
  /** Requests from the peer we have not served yet. */
  peerRequests: unknown[];
}

/** Where the guard finds the torrent, the wire and the limits. */
export interface GuardContext {
  limits: WireLimits;
  /** The torrent with this info hash (hex), if we have it. */
  torrentFor(infoHash: string): GuardedTorrent | undefined;
  wire(): GuardedWire | undefined;
  /** Charges `bytes` of an incomplete message to the budget shared by all connections; false when it is spent. */
  reserve(bytes: number): boolean;
  release(bytes: number): void;
}

/** A peer's bytes that the guard refuses: the connection is dropped. */
export class GuardError extends WireError {}

const HANDSHAKE_LENGTH = 68;
const PROTOCOL = "BitTorrent protocol";
const EXTENDED = 20;
const UT_METADATA_PIECE = 16 * 1024;

function refuse(message: string): GuardError {
  return new GuardError("MALFORMED", message);
}

function uint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/**
 * One connection's inbound framing and checks. `write` takes bytes as they arrive and returns the bytes to pass on:
 * only whole messages that passed (slices of the input where possible, copied only when a message spans chunks).
 * At most one incomplete message is held, and never more than its type's cap.
 * @example const out = guard.write(chunk) // throws GuardError: drop the peer
 */
export class WireGuard {
  readonly #context: GuardContext;
  #torrent: GuardedTorrent | undefined;
  #handshakeDone = false;
  /** Whether a message is in progress across chunks: its bytes so far are in #held (or #header). */
  #holding = false;
  /** The whole length of the message in progress, once its first 5 bytes (or the handshake) are in. */
  #total = 0;
  #held: Uint8Array | undefined;
  #heldLength = 0;
  readonly #header = new Uint8Array(5);
  /** The peer's extension ids, merged over its extended handshakes as bittorrent-protocol merges them. */
  readonly #peerExtensions = new Map<string, bigint>();
  /** The metadata size the peer announced (ut_metadata). */
  #peerMetadataSize: bigint | undefined;
  /** When the message in progress started (for the message timeout), or undefined. */
  partialSince: number | undefined;
  /** When the last whole message arrived (for the idle timeout). */
  lastMessageAt = Date.now();
  /** Messages passed on so far. */
  messages = 0;

  constructor(context: GuardContext) {
    this.#context = context;
  }

  /** Bytes held for an incomplete message (charged to the shared budget). */
  get buffered(): number {
    return this.#held?.length ?? 0;
  }

  write(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.#holding) {
        at = this.#append(chunk, at, out);
        continue;
      }
      // Whole messages inside the chunk pass as one slice of it, uncopied.
      const start = at;
      let total = this.#frameLength(chunk, at);
      while (total > 0 && at + total <= chunk.length) {
        this.#check(chunk.subarray(at, at + total));
        at += total;
        total = this.#frameLength(chunk, at);
      }
      if (at > start) out.push(chunk.subarray(start, at));
      if (at < chunk.length) this.#startHolding(total);
    }
    return out;
  }

  /**
   * The whole length of the message at `at` of `bytes`, checked against its type; -1 when its first 5 bytes (4 for
   * a keep-alive) are not all there yet.
   */
  #frameLength(bytes: Uint8Array, at: number): number {
    if (!this.#handshakeDone) return HANDSHAKE_LENGTH;
    const available = bytes.length - at;
    if (available < 4) return -1;
    const length = uint32(bytes, at);
    if (length === 0) return 4;
    if (available < 5) return -1;
    return 4 + this.#allowedLength(bytes[at + 4], length);
  }

  #startHolding(total: number): void {
    this.#holding = true;
    this.#heldLength = 0;
    this.partialSince = Date.now();
    this.#total = 0;
    if (total > 0) this.#allocate(total);
  }

  #allocate(total: number): void {
    if (!this.#context.reserve(total)) throw refuse(`no buffer left for a message of ${total} bytes`);
    this.#total = total;
    this.#held = new Uint8Array(total);
  }

  /** Copies what `chunk` has of the held message; passes it on once whole. Returns where the rest starts. */
  #append(chunk: Uint8Array, at: number, out: Uint8Array[]): number {
    if (this.#total === 0) {
      // Only part of the 5-byte header so far: take no more than the header needs (a keep-alive has 4).
      const want = this.#heldLength < 4 ? 4 : 5;
      const n = Math.min(want - this.#heldLength, chunk.length - at);
      this.#header.set(chunk.subarray(at, at + n), this.#heldLength);
      this.#heldLength += n;
      at += n;
      if (this.#heldLength < want) return at;
      const total = this.#frameLength(this.#header.subarray(0, this.#heldLength), 0);
      if (total < 0) return at;
      this.#allocate(total);
      (this.#held as Uint8Array).set(this.#header.subarray(0, this.#heldLength));
    }
    const held = this.#held as Uint8Array;
    const n = Math.min(held.length - this.#heldLength, chunk.length - at);
    held.set(chunk.subarray(at, at + n), this.#heldLength);
    this.#heldLength += n;
    at += n;
    if (this.#heldLength < held.length) return at;
    this.#release();
    this.#check(held);
    out.push(held);
    return at;
  }

  /** Gives back the held message's buffer (it is passed on, or the connection is gone). */
  #release(): void {
    if (this.#held) this.#context.release(this.#held.length);
    this.#held = undefined;
    this.#holding = false;
    this.#total = 0;
    this.#heldLength = 0;
    this.partialSince = undefined;
  }

  /** The connection closed: its held bytes leave the shared budget. */
  close(): void {
    this.#release();
  }

  #passed(): void {
    this.messages++;
    this.lastMessageAt = Date.now();
  }

  /** The payload length `length` of a message with id `id`, if its type allows it. */
  #allowedLength(id: number, length: number): number {
    const exact = EXACT_LENGTHS[id];
    if (exact !== undefined) {
      if (length !== exact) throw refuse(`message ${id} of ${length} bytes (it has ${exact})`);
      return length;
    }
    const cap = this.#cap(id);
    if (length > cap) throw refuse(`message ${id} of ${length} bytes (at most ${cap})`);
    return length;
  }

  #cap(id: number): number {
    switch (id) {
      case 5: {
        const count = this.#torrent?.pieceCount() ?? 0;
        return 1 + Math.ceil((count > 0 ? count : this.#context.limits.maxPieces) / 8);
      }
      case 7:
        return 9 + MESSAGE_CAPS.block;
      case EXTENDED:
        return 2 + Math.max(MESSAGE_CAPS.extendedHandshake, MESSAGE_CAPS.utMetadata, MESSAGE_CAPS.other);
      default:
        return MESSAGE_CAPS.other;
    }
  }

  /** Checks one whole message (or the handshake); throws GuardError when it must not pass. */
  #check(message: Uint8Array): void {
    if (!this.#handshakeDone) {
      this.#checkHandshake(message);
      this.#handshakeDone = true;
      this.#passed();
      return;
    }
    if (message.length > 4) this.#checkMessage(message[4], message.subarray(5));
    this.#passed();
  }

  #checkHandshake(bytes: Uint8Array): void {
    if (bytes[0] !== PROTOCOL.length || String.fromCharCode(...bytes.subarray(1, 20)) !== PROTOCOL) {
      throw refuse("not a BitTorrent handshake (or an encrypted one, which we do not accept)");
    }
    let infoHash = "";
    for (const b of bytes.subarray(28, 48)) infoHash += b.toString(16).padStart(2, "0");
    this.#torrent = this.#context.torrentFor(infoHash);
    if (!this.#torrent) throw refuse(`no torrent with info hash ${infoHash}`);
  }

  #checkMessage(id: number, payload: Uint8Array): void {
    switch (id) {
      case 4: // have
      case 13: // suggest
      case 17: // allowed-fast
        this.#checkIndex(uint32(payload, 0));
        return;
      case 5:
        this.#checkBitfield(payload);
        return;
      case 6: // request
      case 8: // cancel
      case 16: // reject
        this.#checkBlock(uint32(payload, 0), uint32(payload, 4), uint32(payload, 8), MESSAGE_CAPS.request);
        if (id === 6 && (this.#context.wire()?.peerRequests.length ?? 0) >= this.#context.limits.maxPeerRequests) {
          throw refuse(`more than ${this.#context.limits.maxPeerRequests} requests outstanding`);
        }
        return;
      case 7:
        this.#checkBlock(uint32(payload, 0), uint32(payload, 4), payload.length - 8, MESSAGE_CAPS.block);
        return;
      case EXTENDED:
        this.#checkExtended(payload[0], payload.subarray(1));
        return;
      default:
        return; // fixed-length (checked) or unknown ids, which bittorrent-protocol ignores
    }
  }

  /** A piece index: below the torrent's count, or below maxPieces while the metadata is missing. */
  #checkIndex(index: number): void {
    const count = this.#pieceCount();
    if (index >= count) throw refuse(`piece ${index} of a torrent of ${count} pieces`);
  }

  #pieceCount(): number {
    const count = this.#torrent?.pieceCount() ?? 0;
    return count > 0 ? count : this.#context.limits.maxPieces;
  }

  #checkBitfield(bits: Uint8Array): void {
    const count = this.#torrent?.pieceCount() ?? 0;
    if (count === 0) return; // no metadata yet: only the cap applies (bittorrent-protocol's bitfield is bounded)
    if (bits.length !== Math.ceil(count / 8)) throw refuse(`a bitfield of ${bits.length} bytes for ${count} pieces`);
    const spare = bits.length * 8 - count;
    // BEP 3: spare bits must be zero; a peer that sets them claims pieces past the end.
    if (spare > 0 && (bits[bits.length - 1] & ((1 << spare) - 1)) !== 0) throw refuse("a bitfield with spare bits set");
  }

  #checkBlock(index: number, offset: number, length: number, cap: number): void {
    const count = this.#torrent?.pieceCount() ?? 0;
    if (count === 0) throw refuse("a block message before the torrent's metadata");
    if (index >= count) throw refuse(`piece ${index} of a torrent of ${count} pieces`);
    if (length === 0 || length > cap) throw refuse(`a block of ${length} bytes`);
    const size = this.#torrent?.pieceLength(index) ?? 0;
    if (offset + length > size)
      throw refuse(`a block past the end of piece ${index} (${offset} + ${length} > ${size})`);
  }

  #checkExtended(ext: number, body: Uint8Array): void {
    if (ext === 0) {
      this.#checkExtendedHandshake(body);
      return;
    }
    const name = this.#context.wire()?.extendedMapping[ext];
    switch (name) {
      case "ut_metadata":
        this.#checkUtMetadata(body);
        return;
      case "ut_pex":
        if (body.length > MESSAGE_CAPS.other) throw refuse(`a ut_pex message of ${body.length} bytes`);
        this.#whole(body, BENCODE_LIMITS.utPex, "ut_pex");
        return;
      case "lt_donthave":
        if (body.length !== 4) throw refuse(`an lt_donthave message of ${body.length} bytes`);
        this.#checkIndex(uint32(body, 0));
        return;
      case undefined:
        // A peer uses the ids of our extended handshake, which we send only once the wire has its extensions: an
        // id we never gave out is not a peer's mistake to forgive, and it would pass the checks above unchecked.
        throw refuse(`extension message ${ext}, an id we never gave out`);
      default:
        // Ours (the piecepay codec checks it), or one we use and need not check.
        if (body.length > MESSAGE_CAPS.other) throw refuse(`an extension message of ${body.length} bytes`);
    }
  }

  #checkExtendedHandshake(body: Uint8Array): void {
    if (body.length > MESSAGE_CAPS.extendedHandshake) throw refuse(`an extended handshake of ${body.length} bytes`);
    const handshake = this.#whole(body, BENCODE_LIMITS.extendedHandshake, "the extended handshake");
    if (!(handshake instanceof Map)) throw refuse("an extended handshake that is not a dictionary");
    const m = handshake.get("m");
    if (m !== undefined) {
      if (!(m instanceof Map)) throw refuse("an extended handshake whose m is not a dictionary");
      for (const [name, id] of m) {
        if (typeof id !== "bigint" || id < 0n || id > 255n) throw refuse(`extension ${name} with id ${id}`);
        this.#peerExtensions.set(name, id);
      }
    }
    const size = handshake.get("metadata_size");
    if (size !== undefined) {
      if (typeof size !== "bigint" || size < 0n) throw refuse("a metadata_size that is not a size");
      this.#peerMetadataSize = size;
    }
  }

  /**
   * ut_metadata: a flat dictionary, then (for data) at most 16 KiB. ut_metadata itself ends the dictionary at the
   * first "ee", answers a request through an extension id the peer must have advertised, and writes data at
   * piece x 16 KiB into a buffer of the announced size: each of those is checked here.
   */
  #checkUtMetadata(body: Uint8Array): void {
    if (body.length > MESSAGE_CAPS.utMetadata) throw refuse(`a ut_metadata message of ${body.length} bytes`);
    if (!this.#peerExtensions.get("ut_metadata")) throw refuse("ut_metadata from a peer that did not advertise it");
    let read: { value: PeerBencoded; end: number };
    try {
      read = readPeerBencode(body, BENCODE_LIMITS.utMetadata);
    } catch (error) {
      throw refuse(`ut_metadata: ${(error as Error).message}`);
    }
    const dict = read.value;
    if (!(dict instanceof Map)) throw refuse("a ut_metadata message that is not a dictionary");
    if (firstEe(body) !== read.end) throw refuse("a ut_metadata dictionary that ut_metadata would cut elsewhere");
    for (let i = 0; i < read.end; i++) if (body[i] >= 0x80) throw refuse("a ut_metadata dictionary that is not ASCII");
    const type = integerAt(dict, "msg_type");
    const piece = integerAt(dict, "piece");
    if (type === undefined || type < 0n || type > 2n) throw refuse(`ut_metadata msg_type ${type}`);
    if (piece === undefined || piece < 0n || piece >= 1n << 20n) throw refuse(`ut_metadata piece ${piece}`);
    const data = body.length - read.end;
    if (type !== 1n) {
      if (data !== 0) throw refuse("data after a ut_metadata request or reject");
      return;
    }
    const size = this.#peerMetadataSize ?? 0n;
    if (data > UT_METADATA_PIECE || piece * BigInt(UT_METADATA_PIECE) + BigInt(data) > size) {
      throw refuse(`ut_metadata data past the announced size ${size}`);
    }
  }

  #whole(body: Uint8Array, limits: { maxDepth: number; maxItems: number }, what: string): PeerBencoded {
    try {
      const { value, end } = readPeerBencode(body, limits);
      if (end !== body.length) throw refuse(`${body.length - end} bytes after ${what}`);
      return value;
    } catch (error) {
      if (error instanceof GuardError) throw error;
      throw refuse(`${what}: ${(error as Error).message}`);
    }
  }
}

/** Payload lengths (id byte included) of the messages that have exactly one. */
const EXACT_LENGTHS: Record<number, number> = {
  0: 1, // choke
  1: 1, // unchoke
  2: 1, // interested
  3: 1, // not interested
  4: 5, // have
  6: 13, // request
  8: 13, // cancel
  9: 3, // port
  13: 5, // suggest
  14: 1, // have-all
  15: 1, // have-none
  16: 13, // reject
  17: 5, // allowed-fast
};

/** Where ut_metadata ends the dictionary: just past the first "ee" (or 1 when there is none). */
function firstEe(bytes: Uint8Array): number {
  for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] === 0x65 && bytes[i + 1] === 0x65) return i + 2;
  return 1;
}
