// Every webtorrent / bittorrent-protocol internal that client/session/webtorrent-internals.ts relies on, checked on
// real clients: that it exists with the shape we use, and that each function of ours still has its effect on a real
// loopback transfer (two in-process webtorrent clients, no chain). An upgrade of either library that removes or
// changes one of them fails here; re-check the function named in the failing test, then the pinned versions.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Wire } from "bittorrent-protocol";
import { expect } from "chai";
import { Transform } from "streamx";
import type WebTorrent from "webtorrent";
import type { Torrent } from "webtorrent";
import { LOOPBACK_ONLY } from "../../../client/session/extension.js";
import { createTorrentClient } from "../../../client/session/guarded-client.js";
import {
  advertiseInHandshake,
  aroundChoke,
  BLOCK_LENGTH,
  beforeEachBlockSent,
  beforeSchedulerOnUnchoke,
  createWithInboundFilter,
  filterRequests,
  gatePeerPieces,
  gateUnchoke,
  holdsPiece,
  minimumPipeline,
  onCriticalPieces,
  onPieceFailed,
  onPieceVerified,
  peerAddress,
  peerIp,
  pendingPeerRequests,
  pieceCount,
  pieceLengthOf,
  piecesInFlight,
  rescheduleRequests,
  resetPiece,
  selectEverything,
  sendRejectRequest,
  setNoDelay,
  urgentPieces,
  type WebTorrentPeer,
  wrapScheduler,
} from "../../../client/session/webtorrent-internals.js";

const PIECE = 64 * 1024;
const PIECES = 8;
const BLOCKS_PER_PIECE = PIECE / BLOCK_LENGTH;

/** Polls `condition` every 10 ms; rejects with `what` after `ms`. */
async function eventually(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits `ms`: only to show that something does NOT happen in that time. */
const quiet = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A file of an installed package, read as text (the packages' `exports` hide their package.json and sources). */
function source(path: string): string {
  return readFileSync(fileURLToPath(new URL(`../../../node_modules/${path}`, import.meta.url)), "utf8");
}

interface Hooks {
  seederWire?(wire: Wire, torrent: Torrent): void;
  leecherTorrent?(torrent: Torrent): void;
  leecherWire?(wire: Wire, torrent: Torrent): void;
  leecherClient?(): WebTorrent;
}

describe("webtorrent internals we rely on (client/session/webtorrent-internals.ts)", function () {
  this.timeout(30_000);
  const clients: WebTorrent[] = [];
  const dirs: string[] = [];

  afterEach(async function () {
    await Promise.all(clients.splice(0).map((c) => new Promise((resolve) => c.destroy(() => resolve(undefined)))));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** A seeder and a leecher of PIECES random pieces, connected by address over loopback. */
  async function transfer(hooks: Hooks = {}) {
    const data = randomBytes(PIECES * PIECE);
    const seederClient = createTorrentClient(LOOPBACK_ONLY);
    clients.push(seederClient);
    const seeded = await new Promise<Torrent>((resolve) =>
      seederClient.seed(
        data,
        {
          name: "file.bin",
          announce: [],
          pieceLength: PIECE,
          path: mkdtempSync(join(tmpdir(), "piecepay-seed-")),
        } as never,
        resolve,
      ),
    );
    seeded.on("wire", (wire: Wire) => hooks.seederWire?.(wire, seeded));
    await eventually(() => Boolean(seederClient.address()?.port), "the seeder to listen");
    const port = seederClient.address()?.port as number;
    const leecherClient = hooks.leecherClient?.() ?? createTorrentClient(LOOPBACK_ONLY);
    clients.push(leecherClient);
    const dir = mkdtempSync(join(tmpdir(), "piecepay-internals-"));
    dirs.push(dir);
    const torrent = leecherClient.add(seeded.torrentFile, { path: dir });
    hooks.leecherTorrent?.(torrent);
    let leecherWire: Wire | undefined;
    torrent.on("wire", (wire: Wire) => {
      leecherWire = wire;
      hooks.leecherWire?.(wire, torrent);
    });
    torrent.on("infoHash", () => torrent.addPeer(`127.0.0.1:${port}`));
    const finished = new Promise<void>((resolve) => torrent.once("done", () => resolve()));
    return {
      data,
      seeded,
      torrent,
      wire: async () => {
        await eventually(() => leecherWire !== undefined, "the leecher's wire");
        return leecherWire as Wire;
      },
      done: async () => {
        await finished;
        expect(readFileSync(join(dir, "file.bin")).equals(data), "the file arrived intact").to.equal(true);
      },
    };
  }

  it("are the versions this module was checked against: webtorrent 3.0.21 (pinned), bittorrent-protocol 5.0.9", function () {
    const version = (name: string) => JSON.parse(source(`${name}/package.json`)).version;
    expect(version("webtorrent"), "re-check webtorrent-internals.ts, then update this test").to.equal("3.0.21");
    expect(version("bittorrent-protocol"), "re-check webtorrent-internals.ts, then update this test").to.equal("5.0.9");
  });

  it("each private exists with the shape we use, on a real torrent and wire", async function () {
    let seederWire: Wire | undefined;
    const t = await transfer({ seederWire: (wire) => (seederWire = wire) });
    const wire = await t.wire();
    await t.done();
    const torrent = t.torrent as unknown as Record<string, unknown>;
    expect(torrent._updateWire, "torrent._updateWire(wire)").to.be.a("function").with.lengthOf(1);
    expect(torrent._update, "torrent._update()").to.be.a("function").with.lengthOf(0);
    expect(torrent._peers, "torrent._peers").to.be.instanceOf(Map);
    const peers = [...(torrent._peers as Map<string, { wire?: Wire; conn?: { setNoDelay?: unknown } }>).values()];
    const peer = peers.find((p) => p.wire === wire);
    expect(peer?.conn?.setNoDelay, "a Peer's conn.setNoDelay").to.be.a("function");
    expect(torrent.pieces, "torrent.pieces").to.be.an("array").with.lengthOf(PIECES);
    expect(pieceCount(t.torrent)).to.equal(PIECES);
    expect(pieceLengthOf(t.torrent, PIECES - 1)).to.equal(PIECE);
    expect((torrent.bitfield as { get?: unknown })?.get, "torrent.bitfield.get").to.be.a("function");
    for (const w of [wire, seederWire as Wire]) {
      const raw = w as unknown as Record<string, unknown>;
      expect(raw._onRequest, "wire._onRequest(index, offset, length)").to.be.a("function").with.lengthOf(3);
      expect(raw._message, "wire._message(id, numbers, data)").to.be.a("function").with.lengthOf(3);
      expect(raw.peerRequests, "wire.peerRequests").to.be.an("array");
      expect(pendingPeerRequests(w)).to.equal(raw.peerRequests);
      expect(w.piece, "wire.piece(index, offset, buffer)").to.be.a("function").with.lengthOf(3);
      expect(raw.peerExtendedHandshake, "wire.peerExtendedHandshake").to.be.an("object");
      expect(w.hasFast, "BEP 6 on between two webtorrent peers").to.equal(true);
      const pieces = w.peerPieces as unknown as Record<string, unknown>;
      expect(pieces.get).to.be.a("function");
      expect(pieces.set).to.be.a("function");
    }
    expect(minimumPipeline(wire)).to.be.at.least(2);
    // Constants and texts of webtorrent that we mirror.
    const torrentJs = source("webtorrent/lib/torrent.js");
    expect(torrentJs, "PIPELINE_MIN_DURATION").to.include("const PIPELINE_MIN_DURATION = 0.5\n");
    expect(torrentJs, "getBlockPipelineLength").to.include(
      "let length = 2 + Math.ceil(duration * wire.downloadSpeed() / Piece.BLOCK_LENGTH)",
    );
    expect(torrentJs, "the reqq cap").to.include("const reqq = wire.peerExtendedHandshake.reqq");
    expect(torrentJs, "the text onPieceFailed matches").to.include(
      ["`Piece $", "{index} failed verification`"].join(""),
    );
    expect(torrentJs, "'verified'").to.include("this.emit('verified', index)");
    const { default: Piece } = await import("torrent-piece" as string);
    expect(Piece.BLOCK_LENGTH, "webtorrent's block").to.equal(BLOCK_LENGTH);
    // Our patch (patches/webtorrent+3.0.21.patch) is applied.
    expect(source("webtorrent/lib/peer.js"), "the inboundFilter patch").to.include("inboundFilter");
  });

  it("wrapScheduler: webtorrent asks for nothing while our wrapper withholds its scheduler; rescheduleRequests restarts it", async function () {
    let blocked = true;
    let calls = 0;
    const t = await transfer({
      leecherTorrent: (torrent) =>
        wrapScheduler(torrent, (wire, original) => {
          calls++;
          return blocked ? undefined : original(wire);
        }),
    });
    const wire = await t.wire();
    await eventually(() => calls > 0 && !wire.peerChoking, "the scheduler to be called on an unchoked wire");
    await quiet(200);
    expect(wire.requests, "no request while withheld").to.have.lengthOf(0);
    expect(t.torrent.downloaded).to.equal(0);
    blocked = false;
    rescheduleRequests(t.torrent);
    await t.done();
  });

  it("selectEverything: deselected, webtorrent asks for nothing once ready; selected after the metadata or before it, it downloads everything", async function () {
    const held = await transfer({ leecherTorrent: (torrent) => selectEverything(torrent, false) });
    const wire = await held.wire();
    await eventually(() => held.torrent.ready, "the leecher's metadata");
    await quiet(300);
    const internal = held.torrent as unknown as { _selections: { length: number } };
    expect(internal._selections.length, "no selection").to.equal(0);
    expect(wire.requests, "no request while deselected").to.have.lengthOf(0);
    expect(held.torrent.downloaded).to.equal(0);
    selectEverything(held.torrent, true);
    await held.done();
    // Deselected and selected again before the metadata: webtorrent's own selection on ready happens.
    const early = await transfer({
      leecherTorrent: (torrent) => {
        selectEverything(torrent, false);
        selectEverything(torrent, true);
      },
    });
    await early.done();
  });

  it("urgentPieces, onCriticalPieces, piecesInFlight: a stream's critical pieces, then its range (priority 1); our listener hears the critical mark; the requests go out for them", async function () {
    let blocked = true;
    let criticals = 0;
    const t = await transfer({
      leecherTorrent: (torrent) => {
        wrapScheduler(torrent, (wire, original) => (blocked ? undefined : original(wire)));
        onCriticalPieces(torrent, () => criticals++);
      },
    });
    const wire = await t.wire();
    await eventually(() => t.torrent.ready && !wire.peerChoking, "the leecher's torrent ready, its wire unchoked");
    expect([...urgentPieces(t.torrent)], "the whole file is selected at priority 0 only").to.deep.equal([]);
    // A read from piece 5 on, as the streaming server makes for a range request: it selects 5..7 at priority 1 and,
    // waiting for piece 5, marks 5..7 critical (lib/file-iterator.js: two pieces after it for pieces below 1 MiB).
    const file = t.torrent.files[0] as unknown as {
      [Symbol.asyncIterator](range: { start: number }): AsyncIterator<Uint8Array>;
    };
    const reading = file[Symbol.asyncIterator]({ start: 5 * PIECE });
    const first = reading.next();
    expect(criticals, "heard at once").to.equal(1);
    expect([...urgentPieces(t.torrent)]).to.deep.equal([5, 6, 7, 5, 6, 7]);
    blocked = false;
    rescheduleRequests(t.torrent);
    // A wire that sent nothing yet is first asked for one block of the stream's range (webtorrent's validateWire).
    const inFlight = [...piecesInFlight(wire)];
    expect(inFlight, "requests out, each with its piece").to.have.length.above(0);
    expect(
      inFlight.every((piece) => piece >= 5 && piece <= 7),
      `pieces of the stream's range: ${inFlight}`,
    ).to.equal(true);
    expect((await first).value, "piece 5, once verified").to.have.lengthOf(PIECE);
    await reading.return?.();
    await t.done();
    expect([...urgentPieces(t.torrent)], "nothing once every piece is held").to.deep.equal([]);
  });

  it("gatePeerPieces: the scheduler asks only for the pieces of our view; the peer's bitfield still reaches us", async function () {
    let gated = true;
    let changes = 0;
    let real: (() => { get(index: number): boolean }) | undefined;
    const verified: number[] = [];
    const t = await transfer({
      leecherTorrent: (torrent) => onPieceVerified(torrent, (index) => verified.push(index)),
      leecherWire: (wire) => {
        real = gatePeerPieces(
          wire,
          (index) => index < 2,
          () => gated,
          () => changes++,
        );
      },
    });
    await eventually(() => verified.length === 2, "pieces 0 and 1");
    await quiet(200);
    expect(verified.sort(), "only the pieces of the view").to.deep.equal([0, 1]);
    expect([...Array(PIECES).keys()].map((i) => holdsPiece(t.torrent, i))).to.deep.equal([
      true,
      true,
      ...Array(PIECES - 2).fill(false),
    ]);
    expect(changes, "the seeder's bitfield went through our setter").to.be.at.least(1);
    expect(real?.().get(PIECES - 1), "the seeder's real pieces").to.equal(true);
    gated = false;
    rescheduleRequests(t.torrent);
    await t.done();
    expect(verified.sort(), "'verified' for every piece").to.deep.equal([...Array(PIECES).keys()]);
  });

  it("setNoDelay reaches the socket under the wire through torrent._peers", async function () {
    const t = await transfer();
    const wire = await t.wire();
    const peers = (
      t.torrent as unknown as { _peers: Map<string, { wire?: Wire; conn: { setNoDelay(on: boolean): void } }> }
    )._peers;
    const peer = [...peers.values()].find((p) => p.wire === wire);
    const calls: boolean[] = [];
    const original = peer?.conn.setNoDelay.bind(peer.conn);
    if (peer) {
      peer.conn.setNoDelay = (on: boolean) => {
        calls.push(on);
        original?.(on);
      };
    }
    setNoDelay(t.torrent, wire);
    expect(calls).to.deep.equal([true]);
    await t.done();
  });

  it("advertiseInHandshake, beforeSchedulerOnUnchoke, peerAddress: our handshake entry arrives; our unchoke listener runs before webtorrent asks", async function () {
    let seederWire: Wire | undefined;
    const requestsAtUnchoke: number[] = [];
    const t = await transfer({
      seederWire: (wire) => (seederWire = wire),
      leecherWire: (wire) => {
        advertiseInHandshake(wire, "piecepay_test", 7);
        beforeSchedulerOnUnchoke(wire, () => requestsAtUnchoke.push(wire.requests.length));
      },
    });
    const wire = await t.wire();
    await t.done();
    const theirs = (seederWire as unknown as { peerExtendedHandshake: Record<string, unknown> }).peerExtendedHandshake;
    expect(theirs.piecepay_test, "our entry in the extended handshake").to.equal(7);
    expect(requestsAtUnchoke[0], "webtorrent had asked for nothing yet").to.equal(0);
    expect(wire.requests.length + t.torrent.downloaded, "and asked after our listener").to.be.greaterThan(0);
    expect(peerAddress(wire)).to.match(/^127\.0\.0\.1:\d+$/);
    expect(peerIp(seederWire as Wire)).to.match(/127\.0\.0\.1$/);
  });

  it("filterRequests, sendRejectRequest and beforeEachBlockSent: the seeder sees each request first, rejects one, counts each block", async function () {
    const rejects: number[] = [];
    const sent = new Set<number>();
    let blocks = 0;
    let rejected = false;
    const t = await transfer({
      seederWire: (wire) => {
        filterRequests(wire, (index, offset, length) => {
          if (index === 0 && !rejected) {
            rejected = true;
            sendRejectRequest(wire, index, offset, length);
            return false;
          }
          return true;
        });
        beforeEachBlockSent(wire, (index) => {
          sent.add(index);
          blocks++;
        });
      },
      leecherWire: (wire) => wire.on("reject", (index: number) => rejects.push(index)),
    });
    await t.done();
    expect(rejects, "the leecher got our BEP 6 reject").to.deep.equal([0]);
    expect([...sent].sort(), "every block went through wire.piece").to.deep.equal([...Array(PIECES).keys()]);
    expect(blocks).to.be.at.least(PIECES * BLOCKS_PER_PIECE);
  });

  it("gateUnchoke and aroundChoke: webtorrent's unchoke passes our gate; a choke drops the queued requests", async function () {
    let may = false;
    let seederWire: Wire | undefined;
    const dropped: { piece: number; length: number }[] = [];
    const left: number[] = [];
    let choked = false;
    const t = await transfer({
      seederWire: (wire) => {
        seederWire = wire;
        gateUnchoke(wire, () => may);
        aroundChoke(
          wire,
          (requests) => dropped.push(...requests.map(({ piece, length }) => ({ piece, length }))),
          () => left.push(pendingPeerRequests(wire).length),
        );
        wire.on("request", () => {
          if (choked) return;
          choked = true;
          wire.choke(); // the request is queued in peerRequests right now
          wire.unchoke();
        });
      },
    });
    const wire = await t.wire();
    await eventually(
      () => (seederWire as unknown as { peerInterested?: boolean })?.peerInterested === true,
      "the leecher to be interested",
    );
    await quiet(200);
    expect(wire.peerChoking, "webtorrent's own unchoke was held by the gate").to.equal(true);
    may = true;
    seederWire?.unchoke();
    await t.done();
    expect(dropped.length, "the choke dropped the queued request").to.be.at.least(1);
    expect(dropped[0].length).to.equal(BLOCK_LENGTH);
    expect(left.length, "our choke, and webtorrent's own once we are done").to.be.at.least(1);
    expect(
      left.every((n) => n === 0),
      "peerRequests empty after each choke",
    ).to.equal(true);
  });

  it("resetPiece: the blocks received of a piece are thrown away and webtorrent asks for them again", async function () {
    let reset = false;
    let blocksOfPiece0 = 0;
    const t = await transfer({
      leecherWire: (wire, torrent) =>
        wire.on("piece", (index: number) => {
          if (index !== 0) return;
          blocksOfPiece0++;
          if (reset) return;
          reset = true;
          const before = (torrent.pieces as unknown[])[0];
          resetPiece(torrent, 0);
          const after = (torrent.pieces as { length: number }[])[0];
          expect(after).to.not.equal(before);
          expect(after.constructor).to.equal((before as object).constructor);
          expect(after.length).to.equal(PIECE);
        }),
    });
    await t.done();
    expect(reset).to.equal(true);
    expect(blocksOfPiece0, "the thrown-away block was asked for again").to.be.greaterThan(BLOCKS_PER_PIECE);
  });

  it("onPieceFailed hears webtorrent's warning for a piece that fails its hash", async function () {
    const failed: number[] = [];
    let corrupted = false;
    const t = await transfer({
      seederWire: (wire) => {
        const piece = wire.piece.bind(wire);
        wire.piece = (index: number, offset: number, buffer: Uint8Array) => {
          const bad = index === 3 && !corrupted;
          if (bad) corrupted = true;
          piece(index, offset, bad ? new Uint8Array(buffer.length) : buffer);
        };
      },
      leecherTorrent: (torrent) => onPieceFailed(torrent, (index) => failed.push(index)),
    });
    await t.done();
    expect(failed).to.deep.equal([3]);
  });

  it("createWithInboundFilter: our stage sees every byte a peer sends before the wire (our patch)", async function () {
    let bytes = 0;
    const seen: WebTorrentPeer[] = [];
    const t = await transfer({
      leecherClient: () =>
        createWithInboundFilter({ ...LOOPBACK_ONLY, secure: 0 }, (peer) => {
          seen.push(peer);
          return new Transform({
            transform(chunk: Uint8Array, callback: (error: Error | null, data?: unknown) => void) {
              bytes += chunk.length;
              callback(null, chunk);
            },
          });
        }),
    });
    await t.done();
    expect(seen.map((p) => p.type)).to.include("tcpOutgoing");
    expect(bytes, "every block came through the stage").to.be.greaterThan(t.data.length);
  });
});
