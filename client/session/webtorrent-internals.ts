// Every place piecepay reaches into webtorrent 3.0.21 or bittorrent-protocol 5.0.9 beyond their documented API:
// private members (a leading underscore), fields their docs do not list, methods of theirs we wrap so that their
// own code calls our version, and the text of one warning. One named function per touch, with what we rely on, so
// that an upgrade is checked here and in test/ts/client/webtorrent-internals.test.ts, which fails when one of
// them is gone or changed. webtorrent is pinned to exactly 3.0.21 in package.json for this reason.
//
// Behaviour that comes from OUR patches (patches/webtorrent+3.0.21.patch, applied by patch-package on install),
// not from webtorrent itself:
// - the client option `inboundFilter` (index.js and lib/peer.js): a stage between a peer's socket and its wire
//   (`createWithInboundFilter` below);
// - lib/rarity-map.js ignores a `have` for a piece past the end (nothing here relies on it; the guard also drops it).
import type { Wire } from "bittorrent-protocol";
import WebTorrent, { type Torrent } from "webtorrent";

/** The parts of a BitField that bittorrent-protocol and webtorrent use on `wire.peerPieces`. */
export interface BitFieldLike {
  get(index: number): boolean;
  set(index: number, value?: boolean): void;
  buffer: Uint8Array;
  setAll?: unknown;
}

/** BitTorrent's block: webtorrent requests pieces in blocks of 16 KiB (its Piece.BLOCK_LENGTH). */
export const BLOCK_LENGTH = 16 * 1024;

/** webtorrent's PIPELINE_MIN_DURATION (lib/torrent.js): it keeps at least this many seconds of blocks in flight. */
const PIPELINE_MIN_DURATION = 0.5;

// ---------------------------------------------------------------------------------------------------------------
// Torrent (webtorrent lib/torrent.js)
// ---------------------------------------------------------------------------------------------------------------

/** webtorrent's Piece objects in `torrent.pieces` (undocumented): null once verified, else one with a `length`. */
type PieceSlot = { length: number } | null;

/**
 * The number of pieces, 0 before the metadata. Relies on `torrent.pieces` (undocumented): an array with one slot
 * per piece once the metadata is in, `[]` before.
 */
export function pieceCount(torrent: Torrent | undefined): number {
  return (torrent?.pieces as PieceSlot[] | undefined)?.length ?? 0;
}

/** The length of piece `index` (the last one is shorter): the documented pieceLength and lastPieceLength. */
export function pieceLengthOf(torrent: Torrent, index: number): number {
  return index === pieceCount(torrent) - 1 ? torrent.lastPieceLength : torrent.pieceLength;
}

/**
 * Whether we hold piece `index`, verified (on disk at start or downloaded). Relies on `torrent.bitfield`
 * (undocumented), a BitField set by `_markVerified` and by the check of the files on disk.
 */
export function holdsPiece(torrent: Torrent, index: number): boolean {
  return (torrent as unknown as { bitfield?: { get(index: number): boolean } }).bitfield?.get(index) ?? false;
}

/**
 * Calls `listener` with each piece that passes its hash. Relies on the torrent's 'verified' event (emitted by
 * `_markVerified(index)`, not in the docs).
 */
export function onPieceVerified(torrent: Torrent, listener: (index: number) => void): void {
  torrent.on("verified" as never, listener as never);
}

/**
 * Calls `listener` with each piece that fails its hash. Webtorrent says so only in a 'warning' whose text is
 * `Piece ${index} failed verification` (lib/torrent.js, `_request`'s hash check); we rely on that text. It has already thrown the piece's blocks away (a fresh Piece in `torrent.pieces`).
 */
export function onPieceFailed(torrent: Torrent, listener: (index: number) => void): void {
  torrent.on("warning", (warning: Error) => {
    const failed = /Piece (\d+) failed verification/.exec(String(warning?.message));
    if (failed) listener(Number(failed[1]));
  });
}

/**
 * Whether webtorrent selects every piece: `false` keeps a torrent from asking anyone for a piece (a leecher on hold),
 * `true` selects them all, now or, before the metadata, once it is in. Relies on `torrent._startAsDeselected` (the
 * `deselect` option of `client.add`), which webtorrent reads when the metadata arrives (and in its check of the
 * pieces already on disk), and on `torrent.select`/`deselect` of a whole range.
 */
export function selectEverything(torrent: Torrent, selected: boolean): void {
  (torrent as unknown as { _startAsDeselected: boolean })._startAsDeselected = !selected;
  const count = pieceCount(torrent);
  if (count === 0) return;
  if (selected) torrent.select(0, count - 1, 0);
  else torrent.deselect(0, count - 1);
}

/**
 * Throws away the blocks of piece `index` received so far, as webtorrent does when a piece fails its hash: a fresh
 * Piece of the same class and length in `torrent.pieces[index]`. Relies on webtorrent keeping a piece's partial
 * blocks in that slot (null once verified, which is left alone) and reading it anew for every block.
 */
export function resetPiece(torrent: Torrent, index: number): void {
  const pieces = torrent.pieces as PieceSlot[] | undefined;
  const piece = pieces?.[index];
  if (!pieces || !piece) return;
  pieces[index] = new (piece.constructor as new (length: number) => { length: number })(piece.length);
}

/**
 * The pieces webtorrent's scheduler wants before the rest, most urgent first, lazily: those marked critical (a
 * stream waiting for piece i marks i..i+2: lib/file-iterator.js calls `torrent.critical`), then those of every
 * selection with a priority above 0 (a stream's byte range is selected at priority 1, the file's own selection at
 * 0), in the order of the scheduler's list (sorted by priority), each from `from + offset` to `to`. Held pieces
 * are left out; a piece may come twice. Relies on `torrent._critical` (an array of flags by piece, set and never
 * cleared) and `torrent._selections` (lib/selections.js: `length`, `get(i)` -> { from, to, offset, priority }).
 */
export function* urgentPieces(torrent: Torrent): Generator<number> {
  type Selection = { from: number; to: number; offset: number; priority?: number };
  const internals = torrent as unknown as {
    _critical?: boolean[];
    _selections?: { length: number; get(i: number): Selection };
  };
  const count = pieceCount(torrent);
  const critical = internals._critical ?? [];
  for (let index = 0; index < Math.min(critical.length, count); index++) {
    if (critical[index] && !holdsPiece(torrent, index)) yield index;
  }
  const selections = internals._selections;
  for (let i = 0; i < (selections?.length ?? 0); i++) {
    const selection = selections?.get(i);
    if (!selection || !((selection.priority ?? 0) > 0)) continue;
    for (let index = selection.from + selection.offset; index <= Math.min(selection.to, count - 1); index++) {
      if (!holdsPiece(torrent, index)) yield index;
    }
  }
}

/**
 * Calls `listener` after webtorrent marks pieces critical: a stream (a media element's range request, a read of the
 * file) waits for a piece it does not have. Relies on `torrent.critical(start, end)` (documented up to webtorrent
 * 1.x, still public) being what lib/file-iterator.js calls, through the torrent object.
 */
export function onCriticalPieces(torrent: Torrent, listener: () => void): void {
  const target = torrent as unknown as { critical?: (start: number, end: number) => void };
  const critical = target.critical?.bind(torrent);
  if (!critical) return;
  target.critical = (start, end) => {
    critical(start, end);
    listener();
  };
}

/**
 * Asks webtorrent's scheduler to top up every wire's requests now (after a grant, or pieces freed). Relies on
 * `torrent._update()`: it calls `_updateWire` for each wire.
 */
export function rescheduleRequests(torrent: Torrent | undefined): void {
  (torrent as unknown as { _update?: () => void } | undefined)?._update?.();
}

/**
 * Puts `around` in front of webtorrent's per-wire scheduler: `around(wire, original)` decides whether and when the
 * original runs. Relies on `torrent._updateWire(wire)`, called after every block, every unchoke and every
 * `_update`, and on webtorrent calling it through `this` (so that an own property replaces it). No-op if absent.
 */
export function wrapScheduler(
  torrent: Torrent,
  around: (wire: Wire, original: (wire: Wire) => unknown) => unknown,
): void {
  const target = torrent as unknown as { _updateWire?: (wire: Wire) => unknown };
  const original = target._updateWire?.bind(torrent);
  if (!original) return;
  target._updateWire = (wire: Wire) => around(wire, original);
}

/**
 * How many requests webtorrent wants in flight on `wire` at least, as its `getBlockPipelineLength(wire,
 * PIPELINE_MIN_DURATION)` computes it: half a second of blocks at the wire's download speed, plus 2, capped by
 * the peer's `reqq`. Relies on `wire.peerExtendedHandshake` (undocumented: the peer's decoded extended handshake).
 */
export function minimumPipeline(wire: Wire): number {
  const reqq = (wire as unknown as { peerExtendedHandshake?: { reqq?: unknown } }).peerExtendedHandshake?.reqq;
  const pipeline = 2 + Math.ceil((PIPELINE_MIN_DURATION * wire.downloadSpeed()) / BLOCK_LENGTH);
  return typeof reqq === "number" && reqq > 0 ? Math.min(pipeline, reqq) : pipeline;
}

/**
 * The pieces of our requests in flight on `wire`. Relies on `wire.requests` holding bittorrent-protocol's Request
 * objects, each with its `piece`.
 */
export function piecesInFlight(wire: Wire): Set<number> {
  return new Set((wire.requests as { piece?: number }[]).map((request) => request.piece as number));
}

/**
 * Turns off Nagle's algorithm on the TCP socket under `wire`. Relies on `torrent._peers` (a Map of webtorrent Peer
 * objects, each with its `wire` and its socket `conn`). A wire over another transport has no `setNoDelay`.
 */
export function setNoDelay(torrent: Torrent, wire: Wire): void {
  type PeerLike = { wire?: Wire; conn?: { setNoDelay?: (on: boolean) => void } };
  const peers = (torrent as unknown as { _peers?: Map<string, PeerLike> })._peers;
  for (const peer of peers?.values() ?? []) {
    if (peer.wire === wire) peer.conn?.setNoDelay?.(true);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Wire (bittorrent-protocol index.js)
// ---------------------------------------------------------------------------------------------------------------

/**
 * The peer's address and port as webtorrent saw them, `address:port` (a label for logs and stats). Relies on
 * `wire.remoteAddress` and `wire.remotePort`, which webtorrent sets in `Torrent#_onWire` (bittorrent-protocol has
 * no such fields); undefined before then.
 */
export function peerAddress(wire: Wire): string {
  return `${wire.remoteAddress}:${wire.remotePort}`;
}

/** The peer's IP address as webtorrent saw it (see peerAddress), or "unknown". */
export function peerIp(wire: Wire): string {
  return wire.remoteAddress ?? "unknown";
}

/**
 * Runs `listener` on each `unchoke` from the peer before webtorrent's own listener, which asks the scheduler
 * (`_updateWire`) for requests at once. Relies on webtorrent's listener being an ordinary one added in
 * `_onWireWithMetadata`.
 */
export function beforeSchedulerOnUnchoke(wire: Wire, listener: () => void): void {
  wire.prependListener("unchoke", listener);
}

/**
 * Adds `name: value` to the extended handshake (BEP 10) we send on `wire`. Relies on bittorrent-protocol sending
 * `wire.extendedHandshake` (undocumented; ut_metadata and ut_pex set it the same way) once every extension's
 * constructor ran.
 */
export function advertiseInHandshake(wire: Wire, name: string, value: unknown): void {
  (wire as unknown as { extendedHandshake: Record<string, unknown> }).extendedHandshake[name] = value;
}

/**
 * Replaces what webtorrent's scheduler sees as the peer's pieces with `view` while `gated()` holds, and tells
 * `onPeerPieces` whenever the peer's real pieces change. Relies on: webtorrent reading `wire.peerPieces.get(i)`
 * (and `.buffer`, `.setAll`) to choose requests; bittorrent-protocol assigning `wire.peerPieces` anew on a
 * `bitfield` or `have-all` (`_onBitField`, `_onHaveAll`) and calling `wire.peerPieces.set(i)` on a `have`.
 * Returns the peer's real pieces, read live.
 */
export function gatePeerPieces(
  wire: Wire,
  view: (index: number) => boolean,
  gated: () => boolean,
  onPeerPieces: () => void,
): () => BitFieldLike {
  let pieces = wire.peerPieces as unknown as BitFieldLike;
  const granted: BitFieldLike = {
    get: view,
    set: (index: number, value?: boolean) => {
      pieces.set(index, value); // a `have` from the peer
      onPeerPieces();
    },
    get buffer() {
      return pieces.buffer;
    },
    get setAll() {
      return pieces.setAll;
    },
  };
  Object.defineProperty(wire, "peerPieces", {
    configurable: true,
    get: () => (gated() ? granted : pieces),
    set: (value) => {
      pieces = value; // a `bitfield` or `have-all` from the peer
      onPeerPieces();
    },
  });
  return () => pieces;
}

/**
 * Lets `decide(index, offset, length, serve)` see each request from the peer before bittorrent-protocol queues it:
 * the original runs only if it returns true, or later when `decide` keeps `serve` and calls it. Relies on
 * `wire._onRequest(index, offset, length)`, called through `this` for every `request` message, before webtorrent's
 * 'request' listener reads the store (it checks the choke itself, so a request served late to a peer we choked
 * meanwhile is refused there).
 */
export function filterRequests(
  wire: Wire,
  decide: (index: number, offset: number, length: number, serve: () => void) => boolean,
): void {
  const target = wire as unknown as { _onRequest(index: number, offset: number, length: number): void };
  const original = target._onRequest.bind(wire);
  target._onRequest = (index, offset, length) => {
    const serve = () => {
      if (!wire.destroyed) original(index, offset, length);
    };
    if (decide(index, offset, length, serve)) original(index, offset, length);
  };
}

/**
 * Sends a BEP 6 `reject request` (id 0x10) for a request that was never queued. Relies on `wire._message(id,
 * numbers, data)`, which frames and sends one message as is; `wire.reject` would also drop a queued duplicate.
 */
export function sendRejectRequest(wire: Wire, index: number, offset: number, length: number): void {
  (wire as unknown as { _message(id: number, numbers: number[], data: Uint8Array | null): void })._message(
    0x10,
    [index, offset, length],
    null,
  );
}

/**
 * The requests from the peer not answered yet. Relies on `wire.peerRequests` (undocumented), which `choke()`
 * clears: read it before the choke to know what the choke dropped.
 */
export function pendingPeerRequests(wire: Wire): { piece: number; length: number }[] {
  return (wire as unknown as { peerRequests?: { piece: number; length: number }[] }).peerRequests ?? [];
}

/**
 * Runs `before(index)` for each block we send. Relies on webtorrent sending every block through `wire.piece(index,
 * offset, buffer)` (its 'request' listener), called through the wire object so that an own property replaces it.
 */
export function beforeEachBlockSent(wire: Wire, before: (index: number) => void): void {
  const piece = wire.piece.bind(wire);
  wire.piece = (index: number, offset: number, buffer: Uint8Array) => {
    before(index);
    piece(index, offset, buffer);
  };
}

/**
 * Makes webtorrent's choke algorithm ask `mayUnchoke()` first. Relies on webtorrent unchoking a peer only through
 * `wire.unchoke()` (on 'interested' and in its rechoke), called through the wire object.
 */
export function gateUnchoke(wire: Wire, mayUnchoke: () => boolean): void {
  const unchoke = wire.unchoke.bind(wire);
  wire.unchoke = () => {
    if (mayUnchoke()) unchoke();
  };
}

/**
 * Runs `before(dropped)` then `after()` around each `wire.choke()`, with the peer's requests the choke drops.
 * Relies on `choke()` clearing `wire.peerRequests` (bittorrent-protocol 5: `this.peerRequests = []`) and on
 * webtorrent choking only through `wire.choke()`.
 */
export function aroundChoke(
  wire: Wire,
  before: (dropped: { piece: number; length: number }[]) => void,
  after: () => void,
): void {
  const choke = wire.choke.bind(wire);
  wire.choke = () => {
    before(pendingPeerRequests(wire));
    choke();
    after();
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Client (webtorrent index.js and lib/peer.js, with our patch)
// ---------------------------------------------------------------------------------------------------------------

/** The parts of a webtorrent Peer (lib/peer.js, not exported or documented) that the inbound filter reads. */
export interface WebTorrentPeer {
  type: string;
  addr?: string | null;
  conn?: { remoteAddress?: string } | null;
  wire?: Wire | null;
}

/**
 * A webtorrent client whose every peer's inbound bytes pass through `filterFor(peer)` (a stream, or null for
 * none) before the wire. The `inboundFilter` option is OUR patch (patches/webtorrent+3.0.21.patch): webtorrent
 * carries it in `throttleGroups` and `Peer#setThrottlePipes` pipes the stage before `this.wire`.
 */
export function createWithInboundFilter<Stage>(
  options: Record<string, unknown>,
  filterFor: (peer: WebTorrentPeer) => Stage | null,
): WebTorrent {
  return new WebTorrent({ ...options, inboundFilter: filterFor } as never);
}
