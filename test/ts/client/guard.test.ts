// The wire guard on its own: it frames the bytes of a connection however they are split, passes every valid
// message unchanged, and refuses each input that crashes, freezes or exhausts the libraries behind it, from the
// message's first bytes where its length alone is wrong. Processes under attack are in wire-crash.test.ts.
import { expect } from "chai";
import { GuardError, type GuardedTorrent, WireGuard } from "../../../client/wire/guard.js";
import { DEFAULT_WIRE_LIMITS } from "../../../client/wire/limits.js";
import { readPeerBencode } from "../../../client/wire/peer-bencode.js";
import { Random } from "../helpers/random.js";

const INFO_HASH = "ab".repeat(20);
const PIECES = 10;
const PIECE_LENGTH = 64 * 1024;
const ascii = (text: string) => new TextEncoder().encode(text);

function handshake(infoHash = INFO_HASH): Uint8Array {
  const bytes = new Uint8Array(68);
  bytes[0] = 19;
  bytes.set(ascii("BitTorrent protocol"), 1);
  bytes[25] = 0x10; // extended
  for (let i = 0; i < 20; i++) bytes[28 + i] = Number.parseInt(infoHash.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function message(id: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const bytes = new Uint8Array(5 + payload.length);
  new DataView(bytes.buffer).setUint32(0, 1 + payload.length);
  bytes[4] = id;
  bytes.set(payload, 5);
  return bytes;
}

function u32(...values: number[]): Uint8Array {
  const bytes = new Uint8Array(4 * values.length);
  values.forEach((v, i) => {
    new DataView(bytes.buffer).setUint32(4 * i, v >>> 0);
  });
  return bytes;
}

function extended(ext: number, body: Uint8Array | string): Uint8Array {
  const b = typeof body === "string" ? ascii(body) : body;
  return message(20, concat(new Uint8Array([ext]), b));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Our extension ids, as bittorrent-protocol numbers them in order of `wire.use`. */
const OUR_EXTENSIONS: Record<number, string> = { 1: "ut_metadata", 2: "ut_pex", 3: "lt_donthave", 4: "piecepay" };

function newGuard(options: { pieces?: number; budget?: number } = {}) {
  const pieces = options.pieces ?? PIECES;
  const torrent: GuardedTorrent = { pieceCount: () => pieces, pieceLength: () => PIECE_LENGTH };
  let buffered = 0;
  const guard = new WireGuard({
    limits: DEFAULT_WIRE_LIMITS,
    torrentFor: (infoHash) => (infoHash === INFO_HASH ? torrent : undefined),
    wire: () => ({ extendedMapping: OUR_EXTENSIONS, peerRequests: [] }),
    reserve: (bytes) => {
      if (buffered + bytes > (options.budget ?? Number.MAX_SAFE_INTEGER)) return false;
      buffered += bytes;
      return true;
    },
    release: (bytes) => {
      buffered -= bytes;
    },
  });
  return { guard, buffered: () => buffered };
}

/** Feeds `chunks` in order; returns what passed, joined, or the GuardError that stopped it. */
function feed(guard: WireGuard, chunks: Uint8Array[]): Uint8Array | GuardError {
  const out: Uint8Array[] = [];
  try {
    for (const chunk of chunks) out.push(...guard.write(chunk));
  } catch (error) {
    if (error instanceof GuardError) return error;
    throw error;
  }
  return concat(...out);
}

function refusedWith(result: Uint8Array | GuardError, pattern: RegExp): void {
  expect(result, "refused").to.be.instanceOf(GuardError);
  expect((result as GuardError).message).to.match(pattern);
}

/** A valid stream: handshake, extended handshake, bitfield, have, request, piece, ut_metadata, keep-alives. */
function validStream(): Uint8Array {
  return concat(
    handshake(),
    extended(0, "d1:md11:ut_metadatai3e6:ut_pexi1ee13:metadata_sizei40000ee"),
    message(5, new Uint8Array([0xff, 0xc0])),
    u32(0), // keep-alive
    message(4, u32(9)),
    message(2),
    message(6, u32(1, 16384, 16384)),
    message(7, concat(u32(2, 0), new Uint8Array(16384).fill(7))),
    extended(1, "d8:msg_typei0e5:piecei1ee"),
    extended(1, concat(ascii("d8:msg_typei1e5:piecei2e10:total_sizei40000ee"), new Uint8Array(40000 - 32768))),
    extended(2, "d5:added6:abcdefe"),
    extended(3, u32(4)),
    u32(0),
    message(14),
  );
}

describe("wire guard: framing", () => {
  it("passes a valid stream unchanged, whole or split at every byte", () => {
    const stream = validStream();
    expect(feed(newGuard().guard, [stream])).to.deep.equal(stream);
    for (let cut = 1; cut < stream.length; cut += cut < 200 ? 1 : 97) {
      const { guard, buffered } = newGuard();
      const out = feed(guard, [stream.subarray(0, cut), stream.subarray(cut)]);
      expect(out, `split at ${cut}`).to.deep.equal(stream);
      expect(buffered(), "nothing held after a whole stream").to.equal(0);
    }
  });

  it("passes a valid stream fed in random small chunks (seeded)", () => {
    const stream = validStream();
    const random = new Random(11);
    for (let run = 0; run < 50; run++) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < stream.length; ) {
        const n = 1 + random.int(run % 2 === 0 ? 7 : 5000);
        chunks.push(stream.subarray(at, at + n));
        at += n;
      }
      expect(feed(newGuard().guard, chunks)).to.deep.equal(stream);
    }
  });

  it("refuses a length prefix above its type's cap from the first 5 bytes, holding nothing", () => {
    for (const [id, length] of [
      [7, 0xffffffff],
      [7, 9 + 16384 + 1],
      [20, 16 * 1024 * 1024],
      [5, 4], // a bitfield for 10 pieces has 2 bytes after its id
      [99, 0x7fffffff],
    ]) {
      const { guard, buffered } = newGuard();
      const header = new Uint8Array(5);
      new DataView(header.buffer).setUint32(0, length);
      header[4] = id;
      refusedWith(feed(guard, [handshake(), header]), /message \d+ of \d+ bytes/);
      expect(buffered()).to.equal(0);
    }
  });

  it("refuses a wrong length for each fixed-length message, including a have of 1 to 3 bytes", () => {
    for (const [id, good] of [
      [0, 1],
      [4, 5],
      [6, 13],
      [9, 3],
      [13, 5],
      [16, 13],
      [17, 5],
    ]) {
      for (const length of [good - 1, good + 1, 2, 4]) {
        if (length === good || length < 1) continue;
        const bytes = concat(u32(length), new Uint8Array([id]), new Uint8Array(length - 1));
        refusedWith(feed(newGuard().guard, [handshake(), bytes]), /it has/);
      }
    }
  });

  it("never holds more than the message in progress, and charges it to the shared budget", () => {
    const { guard, buffered } = newGuard({ budget: 20_000 });
    const piece = message(7, concat(u32(0, 0), new Uint8Array(16384)));
    expect(feed(guard, [handshake(), piece.subarray(0, 100)])).to.be.instanceOf(Uint8Array);
    expect(buffered()).to.equal(piece.length);
    expect(feed(guard, [piece.subarray(100)])).to.deep.equal(piece);
    expect(buffered()).to.equal(0);
    const tight = newGuard({ budget: 1000 });
    refusedWith(feed(tight.guard, [handshake(), piece.subarray(0, 100)]), /no buffer left/);
  });

  it("refuses what is not a plain BitTorrent handshake, or one for a torrent we do not have", () => {
    const encrypted = new Uint8Array(96).fill(0x42);
    refusedWith(feed(newGuard().guard, [encrypted]), /not a BitTorrent handshake/);
    refusedWith(feed(newGuard().guard, [handshake("cd".repeat(20))]), /no torrent/);
  });
});

describe("wire guard: pieces and blocks", () => {
  it("refuses a have, suggest or allowed-fast past the last piece (webtorrent's rarity map)", () => {
    for (const id of [4, 13, 17]) {
      refusedWith(feed(newGuard().guard, [handshake(), message(id, u32(PIECES))]), /piece 10 of a torrent of 10/);
      refusedWith(feed(newGuard().guard, [handshake(), message(id, u32(419_000_000))]), /piece 419000000/);
    }
    expect(feed(newGuard().guard, [handshake(), message(4, u32(PIECES - 1))])).to.be.instanceOf(Uint8Array);
  });

  it("refuses a bitfield of another size or with spare bits set", () => {
    refusedWith(feed(newGuard().guard, [handshake(), message(5, new Uint8Array(1))]), /bitfield of 1 bytes/);
    refusedWith(feed(newGuard().guard, [handshake(), message(5, new Uint8Array([0, 0x20]))]), /spare bits/);
  });

  it("refuses requests, cancels, rejects and pieces outside the torrent or past a piece's end", () => {
    const g = () => newGuard().guard;
    refusedWith(feed(g(), [handshake(), message(6, u32(PIECES, 0, 16384))]), /piece 10/);
    refusedWith(feed(g(), [handshake(), message(6, u32(0, PIECE_LENGTH - 100, 16384))]), /past the end/);
    refusedWith(feed(g(), [handshake(), message(8, u32(0, 0, 0))]), /a block of 0 bytes/);
    refusedWith(feed(g(), [handshake(), message(16, u32(0, 0, 256 * 1024))]), /a block of/);
    refusedWith(feed(g(), [handshake(), message(7, concat(u32(3, PIECE_LENGTH - 8), new Uint8Array(16)))]), /past/);
  });

  it("before a magnet's metadata: bounds have and bitfield by maxPieces, refuses blocks", () => {
    const { guard } = newGuard({ pieces: 0 });
    expect(feed(guard, [handshake(), message(4, u32(1000)), message(5, new Uint8Array(300))])).to.be.instanceOf(
      Uint8Array,
    );
    refusedWith(feed(newGuard({ pieces: 0 }).guard, [handshake(), message(4, u32(1 << 20))]), /piece/);
    refusedWith(feed(newGuard({ pieces: 0 }).guard, [handshake(), message(6, u32(0, 0, 16384))]), /metadata/);
  });
});

describe("wire guard: extensions and bencode", () => {
  const withUtMetadata = extended(0, "d1:md11:ut_metadatai3ee13:metadata_sizei100ee");

  it("refuses a ut_metadata message from a peer that did not advertise ut_metadata, or sent no handshake", () => {
    refusedWith(feed(newGuard().guard, [handshake(), extended(1, "d8:msg_typei0e5:piecei0ee")]), /did not advertise/);
    const without = extended(0, "d1:md6:ut_pexi1eee");
    refusedWith(
      feed(newGuard().guard, [handshake(), without, extended(1, "d8:msg_typei0e5:piecei0ee")]),
      /did not advertise/,
    );
    // Advertised, then withdrawn with id 0 (bittorrent-protocol then has no id to answer through).
    const withdrawn = extended(0, "d1:md11:ut_metadatai0eee");
    refusedWith(
      feed(newGuard().guard, [handshake(), withUtMetadata, withdrawn, extended(1, "d8:msg_typei0e5:piecei0ee")]),
      /did not advertise/,
    );
  });

  it("refuses an empty or malformed ut_metadata message, and data past the announced size", () => {
    const g = () => newGuard().guard;
    refusedWith(feed(g(), [handshake(), withUtMetadata, extended(1, "")]), /ut_metadata/);
    refusedWith(feed(g(), [handshake(), withUtMetadata, extended(1, "le")]), /not a dictionary/);
    refusedWith(feed(g(), [handshake(), withUtMetadata, extended(1, "d8:msg_typei7e5:piecei0ee")]), /msg_type 7/);
    refusedWith(feed(g(), [handshake(), withUtMetadata, extended(1, "d8:msg_typei0e5:piecei-1ee")]), /piece -1/);
    refusedWith(feed(g(), [handshake(), withUtMetadata, extended(1, "d1:x2:ee8:msg_typei0ee")]), /cut elsewhere/);
    const data = concat(ascii("d8:msg_typei1e5:piecei0ee"), new Uint8Array(101));
    refusedWith(feed(g(), [handshake(), withUtMetadata, extended(1, data)]), /past the announced size/);
  });

  it("refuses negative lengths, deep nesting and duplicate or __proto__ keys in any extension", () => {
    const g = () => newGuard().guard;
    refusedWith(feed(g(), [handshake(), extended(0, "d1:m-3:abce")]), /not a decimal number/);
    refusedWith(feed(g(), [handshake(), extended(0, `d1:m${"d1:a".repeat(3000)}i1e${"e".repeat(3000)}e`)]), /./);
    refusedWith(feed(g(), [handshake(), extended(0, `d1:m${"d1:a".repeat(5)}i1e${"e".repeat(6)}`)]), /deeper/);
    refusedWith(feed(g(), [handshake(), extended(0, "d1:mde1:mdee")]), /duplicate/);
    refusedWith(feed(g(), [handshake(), extended(0, "d9:__proto__dee")]), /__proto__/);
    refusedWith(feed(g(), [handshake(), withUtMetadata, extended(2, "d5:added-3:abce")]), /ut_pex/);
    refusedWith(feed(g(), [handshake(), withUtMetadata, extended(3, new Uint8Array(3))]), /lt_donthave/);
    refusedWith(feed(g(), [handshake(), withUtMetadata, extended(3, u32(PIECES))]), /piece 10/);
    refusedWith(feed(g(), [handshake(), extended(9, "de")]), /never gave out/);
  });

  it("accepts unsorted keys and large integers where a library would read them the same", () => {
    const unsorted = extended(0, "d4:reqqi250e1:md6:ut_pexi2eee");
    expect(feed(newGuard().guard, [handshake(), unsorted])).to.be.instanceOf(Uint8Array);
    expect(readPeerBencode(ascii("i12345678901234567890e"), { maxDepth: 1, maxItems: 1 }).value).to.equal(
      12345678901234567890n,
    );
    expect(() => readPeerBencode(ascii("i123456789012345678901e"), { maxDepth: 1, maxItems: 1 })).to.throw(/20 digits/);
    expect(() => readPeerBencode(ascii("i-0e"), { maxDepth: 1, maxItems: 1 })).to.throw(/-0/);
    expect(() => readPeerBencode(ascii("03:abc"), { maxDepth: 1, maxItems: 1 })).to.throw(/leading zero/);
  });

  it("only ever throws GuardError on random and mutated input (seeded), and holds at most one message", () => {
    const random = new Random(7);
    const stream = validStream();
    for (let run = 0; run < 3000; run++) {
      const bytes = stream.slice();
      for (let i = 0; i < 1 + random.int(8); i++) bytes[68 + random.int(bytes.length - 68)] = random.int(256);
      const { guard, buffered } = newGuard();
      const result = feed(guard, [bytes.subarray(0, 68 + random.int(bytes.length - 68)), bytes]);
      if (result instanceof Uint8Array) expect(buffered()).to.be.at.most(2 + 16 * 1024 + 512 + 5);
    }
  });
});
