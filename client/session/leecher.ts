// The paying leecher: for each seeder whose price it accepts, it opens a voucher channel (a deposit bounded by its
// budget) and pays ahead of its requests inside a credit window that starts small and grows while pieces from that
// seeder keep arriving verified. A piece counts as delivered only once its hash verifies; a seeder whose piece
// fails verification is not paid for it and is dropped. At the end each channel closes cooperatively at what the
// seeder delivered (counted once the blocks still on their way have arrived), and the rest of the deposit comes
// back. One channel per payee, however many connections lead to it.
// This file is the session state machine; the figures are kept by leecher-ledger.ts (budget, credit window,
// vouchers, close offer), who owns and sent which piece by piece-ownership.ts, and every reach into webtorrent's
// internals is in webtorrent-internals.ts.
import type { Wire } from "bittorrent-protocol";
import { getAddress, ZeroAddress } from "ethers";
import type { Torrent } from "webtorrent";
import { hubFee, maxVirtualVoucher, type VirtualProposal } from "../../sdk/hub/index.js";
import {
  type ChannelProposal,
  type ChannelRecord,
  channelId,
  type PiecepayClient,
  recoverPersonalSigner,
  splitOutcome,
  stateHash,
} from "../../sdk/index.js";
import { EXTENSION_NAME, type PaidHandshake, type PaidMessage } from "../wire/messages.js";
import { findChannelToResume, refuseResumed, resumeVoucher, tagChannel } from "./channel-reuse.js";
import { Emitter } from "./emitter.js";
import { handshakeFor, type PeerLink, type PeerSession, paidExtension, sendWithoutDelay } from "./extension.js";
import { type HubAccount, pricePlusFee, routeThrough, virtualAmountFor } from "./hub-route.js";
import { Budget, type Reservation, SeederLedger } from "./leecher-ledger.js";
import { DEFAULT_BAN_AFTER_FAILURES, GrantedPieces, PieceOwnership } from "./piece-ownership.js";
import { PaidSeeder, type PaidSeederOptions } from "./seeder.js";
import { roleLinks, TradingSession } from "./trading-session.js";
import {
  type BitFieldLike,
  beforeSchedulerOnUnchoke,
  gatePeerPieces,
  gateUnchoke,
  holdsPiece,
  minimumPipeline,
  onCriticalPieces,
  onPieceFailed,
  onPieceVerified,
  peerAddress,
  pieceCount,
  piecesInFlight,
  rescheduleRequests,
  resetPiece,
  selectEverything,
  urgentPieces,
  wrapScheduler,
} from "./webtorrent-internals.js";

export { DEFAULT_MAX_WINDOW } from "./leecher-ledger.js";

/**
 * With several paid sellers that have the same piece, a seller is granted such a piece only while fewer than this many
 * of the pieces granted to it have not verified yet; and never while a cheaper one with an open channel has it and is
 * under that many (see LeecherPeer.grant). Without it, the first seller whose credit window grew (it doubles with
 * each verified piece) was granted everything it had, whatever its price: in the swarm simulation the origin served
 * up to 56% of all bytes although resellers at a lower price had the pieces.
 */
export const CONTESTED_AHEAD = 4;
export { DEFAULT_BAN_AFTER_FAILURES } from "./piece-ownership.js";

/** Settings of a paying leecher. */
export interface PaidLeecherOptions {
  client: PiecepayClient;
  /** The most we pay per piece; dearer seeders are neither paid nor used. */
  maxPricePerPiece: bigint;
  /** The most we deposit in all channels together. */
  budget: bigint;
  /** The asset we pay in (zero address: ETH). */
  asset: string;
  /**
   * Pieces paid ahead at first (default 2) and at most (default 256): the most ever at risk per seeder is
   * maxWindow x price. The window doubles with each verified piece; it must cover what webtorrent keeps in flight
   * or payment, not the network, sets the pace: with pieces of 256 KiB on loopback, 16 gave 0.92x unpaid
   * throughput, 64 gave 1.03x to 1.11x and 256 gave 1.15x (npm run bench:client -- --max-window N).
   */
  initialWindow?: number;
  maxWindow?: number;
  /** How long to wait for a seeder's close before giving up on it (default 60 s). */
  closeTimeoutMs?: number;
  /**
   * A seeder that sent a block of a piece that fails its hash is dropped at once (not paid for the piece, its
   * channel closed at what it delivered); after this many such pieces (default 2) it is banned: never paid or
   * used again. One failure can be a seeder's passing disk error; a second is a pattern, and each reconnection
   * costs us a new channel and up to one credit window.
   */
  banAfterFailures?: number;
  /**
   * The challenge duration of the channels we open, in seconds (default: the SDK's, twice the client's
   * minChallengeDuration). A seeder refuses one shorter than its own client's minimum.
   */
  challengeDuration?: bigint;
  /**
   * Connects and learns the seeders' offers ('offer' event, `offers()`), but pays nobody until `start(terms)`: what
   * a page shows for a link before the person sets a price and a budget. Meanwhile the torrent asks nobody for a
   * piece (`attach` deselects every piece, `start` selects them), free peers included.
   */
  hold?: boolean;
  /**
   * How pieces are shared between paid seeders and free peers (plain BitTorrent peers) when both have them:
   * - "fast" (default): each piece granted to a paid seeder (within its credit window) is asked of it alone, so paid
   *   seeders and free peers download side by side. Free peers take the granted pieces too only at the end, when
   *   every missing piece is granted to someone, so that a paid seeder that stalls cannot hold the download up.
   * - "free": a paid seeder is granted only pieces that no free peer unchoking us has: we pay for what free peers
   *   cannot give us now. Its channel is opened (and its deposit made) only once it has such a piece, and not in the
   *   first FREE_GRACE_MS (3 s) while free peers connect; none at all if free peers give everything. A free peer
   *   that unchokes us and then sends nothing is dropped by webtorrent after 30 s without a block, and the paid
   *   seeders take over.
   */
  prefer?: "fast" | "free";
  /**
   * Sell what we have verified, at this seller's terms (`pricePerPiece` at least): every peer that pays is served
   * the pieces we hold, during the download and after it for as long as the torrent runs, on the same connection
   * we may buy on. Off by default: a downloader that does not sell shares nothing.
   */
  sell?: Omit<PaidSeederOptions, "client" | "asset">;
  /**
   * Pay through this hub (ADR 0021): a seeder whose offer names it is paid over a virtual channel that our ledger with
   * the hub guarantees (no deposit, no transaction), if its price plus the hub's fee is within maxPricePerPiece and
   * our ledger's free balance pays one piece; any other seeder over a direct channel, as without a hub. The budget
   * counts what each virtual channel holds, the hub's fee included.
   */
  hub?: HubAccount;
}

/** What we paid one peer and what it paid us, when we both buy and sell (PaidLeecher.trades). */
export interface PeerTrade {
  peer: string;
  /** What buying from it costs us so far (LeecherPeerStats.spent, summed over its channels). */
  paid: bigint;
  /** What it owes us for what we sold it (the largest vouchers we hold from it). */
  earned: bigint;
  /** earned - paid. */
  net: bigint;
  /** Pieces it delivered to us, and pieces we sent it. */
  bought: number;
  sold: number;
}

/** With prefer "free": how long free peers get to connect and unchoke us before any seeder's channel is opened. */
export const FREE_GRACE_MS = 3_000;

/** A paid seeder's offer, as a held leecher saw it (see PaidLeecherOptions.hold). */
export interface SeenOffer {
  peer: string;
  offer: NonNullable<PaidHandshake["offer"]>;
  /** Why no channel could be opened with it whatever the terms (another chain or adjudicator), if so. */
  unusable?: string;
}
export interface LeecherPeerStats {
  channelId?: string;
  peer: string;
  pricePerPiece: bigint;
  deposited: bigint;
  /** Wei promised in vouchers so far. */
  paid: bigint;
  /** Wei the seeder acknowledged (receipts). */
  acknowledged: bigint;
  /** Pieces from this seeder that verified. */
  delivered: number;
  /**
   * What this channel costs us: once closed, the amount it closed at; until then the largest voucher we signed,
   * which is what its seeder can take on chain without us.
   */
  spent: bigint;
  window: number;
  closed: boolean;
  /** The hub the channel goes through (a virtual channel), if it does. */
  hub?: string;
  /** What the hub takes on top of `spent` (0 for a direct channel). */
  fee: bigint;
}

/** A paid seeder we will not use ('refused' event): why, and what it offered (e.g. a price above our maximum). */
export interface LeecherRefusal {
  peer: string;
  reason: string;
  offer: NonNullable<PaidHandshake["offer"]>;
}

/** The events of a PaidLeecher and their arguments (see PaidLeecher). */
export type PaidLeecherEvents = {
  channel: [stats: LeecherPeerStats];
  paid: [stats: LeecherPeerStats];
  closed: [stats: LeecherPeerStats, txHash: string];
  warning: [error: Error];
  "fund-failed": [error: unknown];
  refused: [refusal: LeecherRefusal];
  offer: [offer: SeenOffer];
};

/**
 * Makes a webtorrent torrent a paying one on the downloading side: call `attach(torrent)` before peers connect,
 * and `settle()` once the download is done.
 * Events: 'channel' (stats), 'paid' (stats), 'closed' (stats, tx hash), 'warning' (Error), 'fund-failed' (Error: a
 * deposit that could not be sent, e.g. PiecepayError INSUFFICIENT_FUNDS; its proposal is forgotten), 'refused'
 * (LeecherRefusal: a paid seeder we dropped unpaid, e.g. priced above maxPricePerPiece).
 * @example const leecher = new PaidLeecher({ client, maxPricePerPiece, budget, asset: ZeroAddress }); leecher.attach(torrent)
 */
export class PaidLeecher extends Emitter<PaidLeecherEvents> {
  readonly options: PaidLeecherOptions;
  /** The peers connected now; a peer that leaves is forgotten, wire and all. */
  readonly peers = new Set<LeecherPeer>();
  /** What each channel whose seeder left did, for `stats()` and `settle()`: a few numbers, no wire. */
  readonly #departed = new Map<string, LeecherPeerStats>();
  /** What all our deposits may add up to (set again by `start`). */
  budget: Budget;
  /** Who each piece was given to, who sent it, which verified; failed pieces and bans. */
  readonly pieces: PieceOwnership<Wire>;
  /**
   * The one connection per payee that may hold a channel to it. A seeder we reach on two connections (we dialed it
   * and it dialed us) would otherwise get two channels, the budget deposited twice; the other connections to the
   * same payee wait, unpaid and asked for nothing, and one of them takes over if the holder leaves.
   */
  readonly #payees = new Map<string, LeecherPeer>();

  /**
   * Channels whose deposit may be on chain although `fund` failed (the RPC gave up after the deposit was sent), by
   * payee: such a payee gets no second channel from us, whatever connection it comes back on. Never two deposits to
   * one seeder for one torrent; `piecepay withdraw` finds the first on chain and settles it.
   */
  readonly #uncertainDeposits = new Map<string, string>();

  /** Channels a seeder refused to continue: not offered again in this run (a reconnect would only be refused again). */
  readonly #resumeRefused = new Set<string>();

  resumeRefused(id: string): void {
    this.#resumeRefused.add(id.toLowerCase());
  }

  wasResumeRefused(id: string): boolean {
    return this.#resumeRefused.has(id.toLowerCase());
  }

  /** The channel to `payee` whose deposit may be on chain without our knowing, if any. */
  uncertainDepositTo(payee: string): string | undefined {
    return this.#uncertainDeposits.get(payee.toLowerCase());
  }

  /** `fund` failed after the deposit to `payee` may have been sent (its row stays `funding`). */
  depositUncertain(payee: string, id: string): void {
    this.#uncertainDeposits.set(payee.toLowerCase(), id);
  }

  /** Whether `peer` may open the channel to `payee`: no other connection holds it. */
  claimPayee(payee: string, peer: LeecherPeer): boolean {
    const key = payee.toLowerCase();
    const holder = this.#payees.get(key);
    if (holder !== undefined && holder !== peer) return false;
    this.#payees.set(key, peer);
    return true;
  }

  /** Banned: the seeder (address:port or peer id) sent banAfterFailures failed pieces; never paid or used again. */
  isBanned(key: string): boolean {
    return this.pieces.isBanned(key);
  }

  /** The paid seeder each piece was given to (see PieceOwnership.owners). */
  get owners(): ReadonlyMap<number, Wire> {
    return this.pieces.owners;
  }

  /** The connections that sent blocks of each piece (see PieceOwnership.contributors). */
  get contributors(): ReadonlyMap<number, ReadonlySet<Wire>> {
    return this.pieces.contributors;
  }

  torrent: Torrent | undefined;

  #held: boolean;

  constructor(options: PaidLeecherOptions) {
    super();
    this.options = options;
    this.#held = options.hold ?? false;
    this.budget = new Budget(options.budget);
    this.pieces = new PieceOwnership<Wire>(options.banAfterFailures ?? DEFAULT_BAN_AFTER_FAILURES);
    if (options.sell) {
      if (options.sell.pricePerPiece <= 0n) throw new Error("a price to sell at must be above 0");
      this.seller = new PaidSeeder({ ...options.sell, client: options.client, asset: options.asset });
    }
  }

  /** Our seller role when we sell what we have (PaidLeecherOptions.sell): its events say what we earned. */
  readonly seller: PaidSeeder | undefined;

  /**
   * Per peer, what we paid it and what it paid us, over every channel either way: the figures of a downloader that
   * sells (vouchers; what the chain paid is read from each channel's payout events once they close).
   */
  trades(): PeerTrade[] {
    const byPeer = new Map<string, PeerTrade>();
    const entry = (peer: string) => {
      let trade = byPeer.get(peer);
      if (!trade) {
        trade = { peer, paid: 0n, earned: 0n, net: 0n, bought: 0, sold: 0 };
        byPeer.set(peer, trade);
      }
      return trade;
    };
    for (const s of this.stats()) {
      if (!s.channelId) continue;
      const trade = entry(s.peer);
      trade.paid += s.spent;
      trade.bought += s.delivered;
    }
    for (const s of this.seller?.stats().peers ?? []) {
      if (!s.channelId) continue;
      const trade = entry(s.peer);
      trade.earned += s.paid;
      trade.sold += s.served;
    }
    for (const trade of byPeer.values()) trade.net = trade.earned - trade.paid;
    return [...byPeer.values()];
  }

  /** On hold: offers are heard, nobody is paid (see PaidLeecherOptions.hold). */
  get held(): boolean {
    return this.#held;
  }

  /** The offers of the paid seeders connected now, as heard (on hold or not). */
  offers(): SeenOffer[] {
    return [...this.peers].flatMap((peer) => peer.seen ?? []);
  }

  /**
   * Ends the hold: from now on seeders are paid on `terms`, and those already connected are judged by them as if
   * they had just said hello (dearer ones refused, the others get a channel).
   */
  start(terms: Pick<PaidLeecherOptions, "maxPricePerPiece" | "budget" | "asset">): void {
    if (!this.#held) throw new Error("this leecher has started already");
    Object.assign(this.options, terms);
    this.budget = new Budget(terms.budget);
    this.#held = false;
    if (this.torrent) selectEverything(this.torrent, true);
    for (const peer of [...this.peers]) peer.release();
  }

  attach(torrent: Torrent): void {
    this.torrent = torrent;
    if (this.#held) selectEverything(torrent, false);
    if (this.options.prefer === "free") {
      // Free peers get a few seconds to connect and unchoke us before any seeder is paid (the first peer to answer is
      // often paid).
      this.freeGraceUntil = Date.now() + FREE_GRACE_MS;
      // The grace ends here, whatever Date.now() says: a timer may fire a millisecond before the clock reads its due
      // time, and a seeder still judged "in grace" then would wait for an event that may never come.
      setTimeout(() => {
        this.freeGraceUntil = 0;
        this.regrantAll();
      }, FREE_GRACE_MS).unref?.();
    }
    this.#skipFutileScans(torrent);
    // A stream waits for pieces (a seek ahead of the download): each paid seeder trades pieces nobody asked it for
    // yet for those, rather than waiting for its next voucher to grant more.
    onCriticalPieces(torrent, () => {
      for (const peer of this.peers) peer.grantUrgent();
    });
    // From a magnet, a channel that waits for what the seller has that we lack (prefer "free", or a seller that is
    // downloading too) waits for the piece count.
    torrent.once("metadata", () => this.regrantAll());
    const seller = this.seller;
    seller?.host(torrent);
    const ours = handshakeFor(this.options.client, {
      payer: this.options.client.address,
      ...(seller ? { offer: seller.offer() } : {}),
    });
    torrent.on("wire", (wire: Wire) => {
      sendWithoutDelay(torrent, wire);
      // A downloader shares nothing free: the pieces it bought are the paid seeders' to sell, and sharing them free
      // (what webtorrent does) undercuts the seeder just paid. Requests while choked are refused; no piece is allowed
      // fast. One that sells lets its seller role decide, by what each peer paid (PaidSeeder's gate).
      if (!seller) gateUnchoke(wire, () => false);
      wire.on("piece", (index: number) => this.#onBlock(index, wire));
      wire.use(
        paidExtension(ours, (link) => {
          if (!seller) return this.#buyerFor(link);
          let trading: TradingSession | undefined;
          let buyer: LeecherPeer | undefined;
          const links = roleLinks(link, {
            peerBuys: () => trading?.peerBuys ?? false,
            weBuy: () => buyer?.channelId !== undefined && !buyer.stats().closed,
          });
          buyer = this.#buyerFor(links.buyer);
          trading = new TradingSession(buyer, seller.session(links.seller));
          return trading;
        }),
      );
    });
    // A seeder is owed for each piece of which it sent us at least one block, once the piece verifies (the seeder
    // counts the same way, on its side). Each piece is given to one paid seeder, and only that seeder's blocks
    // count (see PieceOwnership.block), so each is paid exactly for what it served and no piece is paid twice.
    onPieceVerified(torrent, (index) => {
      this.grantsChanged();
      const { senders, idleOwner } = this.pieces.verified(index);
      for (const wire of senders) this.#peerOf(wire)?.onDelivered();
      // Given to a paid seeder but delivered by others (free peers): that seeder's credit goes to another piece.
      if (idleOwner) this.#peerOf(idleOwner)?.ungrant(index);
      // A seller is one piece less ahead: the pieces a grant skipped for it (or for another) may be granted now.
      for (const peer of this.peers) peer.retryPassedOver();
    });
    onPieceFailed(torrent, (index) => {
      const senders = this.pieces.failed(index);
      // Webtorrent already threw the piece's blocks away. Its sender is known when only one paid seeder sent
      // blocks of it (the rule: see PieceOwnership.block and discardUnverified); otherwise nobody is blamed.
      if (senders.length === 1) this.#peerOf(senders[0])?.onBadPiece(index);
      else if (senders.length > 1) {
        this.emit(
          "warning",
          new Error(`piece ${index} failed verification; ${senders.length} seeders sent it: none blamed`),
        );
      }
    });
  }

  #buyerFor(link: PeerLink): LeecherPeer {
    const peer = new LeecherPeer(this, link);
    this.peers.add(peer);
    this.#byWire.set(link.wire, peer);
    return peer;
  }

  /** A block arrived: it counts toward its sender's deliveries (see PieceOwnership.block). */
  #onBlock(index: number, wire: Wire): void {
    if (this.pieces.block(index, wire)) this.#peerOf(wire)?.onDelivered();
  }

  /** Each paid seeder's session, by wire: the scheduler looks it up for every block that arrives. */
  readonly #byWire = new WeakMap<Wire, LeecherPeer>();

  /**
   * Webtorrent tops up a wire's requests after every block, and while fewer than half a second of data is in
   * flight it scans every remaining piece for one the wire may be asked for. A paid wire may only be asked for the
   * pieces granted to it, which it already has in flight once granted, so that scan (twice over all remaining
   * pieces, for every 16 KiB block) found nothing, again and again: skipping it took a paid download from 0.85x
   * to about 1.15x unpaid throughput with the default window (npm run bench). So a paid wire's scan is skipped while its last one found
   * nothing more to ask and nothing changed since (a new grant, an unchoke); with no request in flight it always
   * runs, so nothing can stall.
   */
  #skipFutileScans(torrent: Torrent): void {
    wrapScheduler(torrent, (wire, updateWire) => {
      const peer = this.#byWire.get(wire);
      if (!peer?.paid) return updateWire(wire);
      if (peer.scanIsFutile && wire.requests.length > 0 && !wire.peerChoking) return undefined;
      const result = updateWire(wire);
      // Fewer requests in flight than webtorrent wants after a scan means the scan found nothing more to ask for.
      peer.scanIsFutile = !wire.peerChoking && wire.requests.length < minimumPipeline(wire);
      return result;
    });
  }

  /**
   * A peer left: forget it and every reference to its wire (the pieces it owned go to the others, verified or not);
   * keep its channel's figures if it had one.
   */
  forget(peer: LeecherPeer): void {
    this.peers.delete(peer);
    const payee = peer.payee;
    if (payee !== undefined && this.#payees.get(payee) === peer) {
      this.#payees.delete(payee);
      // Another connection to the same payee, waiting: it may open a channel now.
      for (const other of this.peers) {
        if (other.payee === payee && other.waiting && this.claimPayee(payee, other)) {
          other.takeOver();
          break;
        }
      }
    }
    this.pieces.forget(peer.wire);
    const stats = peer.stats();
    if (stats.channelId) this.#departed.set(stats.channelId, stats);
  }

  /** After a paid seeder left: its unfinished pieces may go to the others. */
  regrantAll(): void {
    this.#endgame = undefined;
    for (const peer of this.peers) peer.regrant();
    rescheduleRequests(this.torrent);
  }

  /** `seller`'s channel opened or continued: dearer sellers give back what it can take (LeecherPeer.yieldTo). */
  sellerOpened(seller: LeecherPeer): void {
    for (const peer of this.peers) peer.yieldTo(seller);
    this.regrantAll();
  }

  /** With prefer "free": what free peers can give changed (a have, a choke, an unchoke); grants once, soon. */
  freePeersChanged(): void {
    if (this.options.prefer !== "free" || this.#regrantQueued) return;
    this.#regrantQueued = true;
    queueMicrotask(() => {
      this.#regrantQueued = false;
      this.regrantAll();
    });
  }
  #regrantQueued = false;

  /**
   * Whether a free peer may be asked for piece `index`: with prefer "fast", not while a paid seeder was granted it,
   * unless every missing piece is granted (the end of the download: then anyone may finish it).
   */
  freeMayAsk(index: number): boolean {
    if (this.options.prefer === "free") return true;
    return !this.pieces.owners.has(index) || this.#atEnd();
  }

  /** The pieces that free peers are sending us now (our requests in flight on their wires). */
  freePiecesInFlight(): Set<number> {
    const busy = new Set<number>();
    for (const peer of this.peers) {
      if (peer.plain) for (const index of piecesInFlight(peer.wire)) busy.add(index);
    }
    return busy;
  }

  /** With prefer "free": until when no seeder's channel is opened, while free peers connect and unchoke us. */
  freeGraceUntil = 0;

  /** Whether a free peer unchoking us has piece `index` (prefer "free": a paid seeder is not granted it). */
  freePeerHas(index: number): boolean {
    for (const peer of this.peers) if (peer.freelyHas(index)) return true;
    return false;
  }

  /** Every missing piece is granted to a paid seeder. Cached until a piece verifies or grants change. */
  #atEnd(): boolean {
    if (this.#endgame !== undefined) return this.#endgame;
    const torrent = this.torrent;
    if (!torrent) return false;
    const count = pieceCount(torrent);
    let end = count > 0;
    for (let index = 0; end && index < count; index++) {
      if (!holdsPiece(torrent, index) && !this.pieces.owners.has(index)) end = false;
    }
    this.#endgame = end;
    return end;
  }
  #endgame: boolean | undefined;

  /** Grants changed: whether the download is at its end is computed again when next asked. */
  grantsChanged(): void {
    this.#endgame = undefined;
  }

  #peerOf(wire: Wire): LeecherPeer | undefined {
    return this.#byWire.get(wire);
  }

  /**
   * Throws away the blocks a paid seeder that left sent of pieces that have not verified, so that the seeder
   * that finishes such a piece is neither blamed for the other's data if it fails nor paid alongside it.
   */
  discardUnverified(wire: Wire): void {
    const torrent = this.torrent;
    if (!torrent) return;
    for (const index of this.pieces.discardUnverified(wire)) resetPiece(torrent, index);
  }

  /** Deposits being sent (from an acceptance to `fund`'s end), whoever's peer is still connected. */
  readonly #fundings = new Set<Promise<void>>();

  /** Keeps `funding` until it settles: `idle()` waits for it. */
  track(funding: Promise<void>): void {
    this.#fundings.add(funding);
    const done = () => this.#fundings.delete(funding);
    funding.then(done, done);
  }

  /**
   * Resolves once no deposit is being sent (or after `ms`): before the store closes, so that each `fund` can record
   * what it sent, or forget a proposal it never funded.
   */
  async idle(ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.#fundings.size > 0 && Date.now() < deadline) {
      await Promise.race([
        Promise.allSettled([...this.#fundings]),
        new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref?.()),
      ]);
    }
  }

  /**
   * A channel funded by an earlier run or connection continues on a new connection: its deposit counts against the
   * budget (once: a channel continued again in this run was counted already), and its figures are the live peer's.
   */
  continued(id: string, deposit: bigint): void {
    if (!this.#departed.delete(id)) this.budget.count(deposit);
  }

  /** Our hub ledger's free balance held for virtual channels proposed and not guaranteed yet. */
  #hubHeld = 0n;

  /** What proposals not yet guaranteed hold of our hub ledger's free balance (it drops once each is guaranteed). */
  hubReserved(): bigint {
    return this.#hubHeld;
  }

  /** Holds `amount` of our hub ledger's free balance for a virtual channel until its guarantee is in, or it is given up. */
  holdInLedger(amount: bigint): Reservation {
    this.#hubHeld += amount;
    let held = true;
    return {
      amount,
      release: () => {
        if (!held) return;
        held = false;
        this.#hubHeld -= amount;
      },
    };
  }

  /** What is left of the budget. */
  budgetLeft(): bigint {
    return this.budget.left;
  }

  /**
   * Closes every channel at what its seeder delivered; resolves when all are closed or timed out. A seeder that
   * already left cannot be asked: its channel is left to `piecepay withdraw`.
   */
  async settle(): Promise<LeecherPeerStats[]> {
    this.#settling = true;
    for (const gone of this.#departed.values()) {
      if (gone.closed) continue;
      this.emit("warning", new Error(`seeder ${gone.peer} is gone: channel ${gone.channelId} left to withdraw`));
    }
    await Promise.all([...this.peers].map((p) => p.close()));
    return this.stats().filter((s) => s.channelId);
  }

  #settling = false;

  /** settle() was called: no channel opens, no voucher goes out from now on. */
  get settling(): boolean {
    return this.#settling;
  }

  /**
   * Pieces we may still need from someone: the torrent's pieces less those verified here (pieces on disk before
   * count as missing, so this is never too low). Credit ahead beyond it buys nothing.
   */
  piecesLeft(): number {
    const torrent = this.torrent;
    if (!torrent || torrent.done) return 0;
    return pieceCount(torrent) - this.pieces.verifiedCount;
  }

  /** Every peer connected now, then every channel whose seeder left. */
  stats(): LeecherPeerStats[] {
    return [...[...this.peers].map((p) => p.stats()), ...this.#departed.values()];
  }
}

class LeecherPeer implements PeerSession {
  readonly #leecher: PaidLeecher;
  readonly #link: PeerLink;
  #offer: PaidHandshake["offer"];
  #proposal: ChannelProposal | undefined;
  #channelId: string | undefined;
  /** Its deposit, vouchers, receipts, deliveries and credit window. */
  readonly #ledger: SeederLedger;
  /** The budget held for our deposit, from the proposal until it is funded or given back. */
  #reservation: Reservation | undefined;
  #paying: Promise<void> = Promise.resolve();
  /** The acceptance being funded, if one is: a close waits for it, so that a channel funded meanwhile is closed. */
  #funding: Promise<void> = Promise.resolve();
  /** We stopped paying and asking, and are closing (or will never open). */
  #closing = false;
  /** Our close began (once per channel). */
  #closeStarted = false;
  /** Another connection holds the channel to this seeder's payee: this one waits, unpaid (see PaidLeecher.#payees). */
  #waiting = false;
  /** The seeder closed the channel on chain. */
  #closed = false;
  #onClosed: ((hash: string) => void) | undefined;
  /** An acceptance arrived: set before the deposit is sent, so a second one finds it set. */
  #accepted = false;
  /** The close we offered (its turn and amount), once sent: a seeder's countersignature must match it. */
  #closeSent: { turnNum: bigint; paid: bigint } | undefined;
  /** The seeder countersigned our close: one only. */
  #countersigned = false;
  /** Our proposal of a virtual channel through our hub, once made. */
  #virtual: VirtualProposal | undefined;
  /** Resolves when the seeder says its side of the virtual channel is guaranteed (`vready`). */
  #virtualReady: { channelId: string; ready: () => void } | undefined;
  /** Resolves with the seeder's signature of our virtual close (`vclosed`). */
  #virtualClosed: ((payeeSignature: string) => void) | undefined;
  /** The scheduler's last scan of this wire found nothing more to ask for, and no grant or unchoke came since. */
  scanIsFutile = false;

  /** A paid seeder: its wire shows the scheduler only the pieces granted to it. */
  get paid(): boolean {
    return this.#offer !== undefined;
  }

  /** The payee of this seeder's offer (lower case), if it made one we accept. */
  get payee(): string | undefined {
    return this.#offer?.payee.toLowerCase();
  }

  get waiting(): boolean {
    return this.#waiting;
  }

  /** The connection that held our channel to this payee left: this one opens the channel now. */
  takeOver(): void {
    this.#waiting = false;
    this.#openWhenNeeded();
  }

  constructor(leecher: PaidLeecher, link: PeerLink) {
    this.#leecher = leecher;
    this.#link = link;
    const { initialWindow, maxWindow } = leecher.options;
    this.#ledger = new SeederLedger({ initialWindow, maxWindow });
    this.#gate(link.wire);
    // A plain peer: its extended handshake (BEP 10) lists no piecepay extension, or it speaks no BEP 10 at all. The
    // extension's onHandshake never hears of it (bittorrent-protocol calls only the extensions both sides list).
    const wire = link.wire as Wire & { peerExtensions?: { extended?: boolean } };
    if (wire.peerExtensions?.extended === false) this.#markPlain();
    wire.once("extended", (ext: string, info: { m?: Record<string, unknown> } | undefined) => {
      if (ext === "handshake" && info?.m?.[EXTENSION_NAME] === undefined) this.#markPlain();
    });
    beforeSchedulerOnUnchoke(link.wire, () => {
      this.scanIsFutile = false;
    });
  }

  /**
   * Keeps webtorrent from asking a paid seeder for more pieces than we paid for (the seeder would refuse them, and
   * webtorrent would ask again at once) or for a piece another paid seeder was given. Webtorrent's scheduler only
   * asks a wire for pieces the peer has, so a paid wire shows it the pieces *granted* to it: as many as the credit
   * covers, each given to one paid seeder only. The view is a bit array, so the scheduler's per-piece checks on
   * every update stay as cheap as with a plain peer. The seeder's own gate stays the authority.
   */
  #gate(wire: Wire): void {
    wire.once("close", () => {
      if (this.#offer) this.#leecher.discardUnverified(wire);
      this.#abandonProposal();
      // Forgotten with every reference to its wire (a long download in a public swarm meets many peers); the
      // pieces it did not finish may be given to others now.
      this.#leecher.forget(this);
      this.#leecher.regrantAll();
    });
    // A free peer (no paid offer) sees the pieces it has that no paid seeder was granted (PaidLeecherOptions.prefer).
    this.#peerPieces = gatePeerPieces(
      wire,
      (index) =>
        this.#offer !== undefined
          ? this.#granted.has(index)
          : this.#peerPieces().get(index) && this.#leecher.freeMayAsk(index),
      () => this.#offer !== undefined || (this.plain && this.#leecher.options.prefer !== "free"),
      () => {
        this.regrant();
        if (this.plain) this.#leecher.freePeersChanged();
      },
    );
    for (const event of ["choke", "unchoke"]) {
      wire.on(event, () => {
        if (this.plain) this.#leecher.freePeersChanged();
      });
    }
  }

  /** A free peer: a plain BitTorrent peer, or one whose piecepay handshake offers nothing for sale. */
  plain = false;

  #markPlain(): void {
    if (this.plain) return;
    this.plain = true;
    // What it has counts against paid grants with prefer "free"; with "fast", it now sees no granted piece.
    this.#leecher.freePeersChanged();
  }

  /** Whether this is a free peer that unchokes us and has piece `index`. */
  freelyHas(index: number): boolean {
    return this.plain && !this.wire.destroyed && !this.wire.peerChoking && this.#peerPieces().get(index);
  }

  /** The pieces given to this seeder. */
  readonly #granted = new GrantedPieces();
  #peerPieces: () => BitFieldLike = () => ({ get: () => false, set: () => undefined, buffer: new Uint8Array(0) });

  /**
   * Gives this seeder more pieces while the credit allows, of those it has, we lack and nobody else owns: first the
   * ones webtorrent wants before the rest (a stream's range, from a seek: urgentPieces), then the lowest. Without the
   * first, a seek further ahead than the window would wait for the download to get there.
   */
  grant(): void {
    const torrent = this.#leecher.torrent;
    // A wire that is gone gets nothing: what it owned was just freed for the others.
    if (!this.#offer || !torrent || this.wire.destroyed || this.#closing) return;
    const pieces = this.#peerPieces();
    const ownership = this.#leecher.pieces;
    const freeFirst = this.#leecher.options.prefer === "free";
    // Not a piece a free peer is sending already: webtorrent would not ask a second wire for it, and a grant that
    // free peers keep finishing first would starve this seeder (the lowest pieces are everyone's first choice).
    const busy = this.#leecher.freePiecesInFlight();
    // Other sellers with an open channel: a piece one of them has too goes to the cheapest with room (CONTESTED_AHEAD).
    const rivals = [...this.#leecher.peers].filter((peer) => peer !== this && peer.#sellsNow());
    const price = this.#offer.pricePerPiece;
    let ahead = rivals.length > 0 ? this.#ahead() : 0;
    const roomy = new Map(rivals.map((rival) => [rival, rival.#hasRoom()]));
    const contested = (index: number): boolean => {
      let shared = false;
      for (const rival of rivals) {
        if (!rival.#peerPieces().get(index)) continue;
        if (rival.#price() < price && roomy.get(rival)) return true;
        shared = true;
      }
      return shared && ahead >= CONTESTED_AHEAD;
    };
    const added = this.#granted.fill(
      this.#ledger.grantable,
      pieceCount(torrent),
      (index) => {
        if (!pieces.get(index) || holdsPiece(torrent, index) || busy.has(index)) return false;
        if (freeFirst && this.#leecher.freePeerHas(index)) return false;
        if (rivals.length > 0 && contested(index)) {
          this.#passedOver = true; // looked at again after the next verified piece (PaidLeecher: onPieceVerified)
          return false;
        }
        return true;
      },
      (index) => {
        if (!ownership.claim(index, this.wire)) return false;
        ahead++;
        return true;
      },
      urgentPieces(torrent),
    );
    if (added > 0) {
      this.#leecher.grantsChanged();
      this.scanIsFutile = false;
      rescheduleRequests(torrent);
    }
  }

  /**
   * A cheaper seller opened its channel: the pieces granted to this one that nobody has asked it for yet and that the
   * cheaper one has go back, but for CONTESTED_AHEAD on their way. Without this, a window grown before the cheaper
   * seller arrived (it doubles with each piece) stayed this seller's: 36 of 64 pieces at the origin's price in a test.
   * Credit paid ahead is not lost: it pays for other pieces, or comes back at the close (which pays what was delivered).
   */
  yieldTo(cheaper: LeecherPeer): void {
    if (cheaper === this || !this.#sellsNow() || cheaper.#price() >= this.#price()) return;
    const ownership = this.#leecher.pieces;
    const inFlight = piecesInFlight(this.wire);
    const theirs = cheaper.#peerPieces();
    let kept = 0;
    for (const index of [...this.#granted.indexes()]) {
      if (ownership.isVerified(index)) continue;
      const started = inFlight.has(index) || ownership.startedBy(index, this.wire);
      if (started || !theirs.get(index) || kept < CONTESTED_AHEAD) {
        kept++;
        continue;
      }
      this.#granted.remove(index);
      ownership.release(index, this.wire);
    }
  }

  /** A grant skipped a piece for another seller (cheaper, or this one was far enough ahead): look again later. */
  #passedOver = false;

  /** After a piece verified: if a grant skipped pieces for other sellers, they are looked at again now. */
  retryPassedOver(): void {
    if (!this.#passedOver) return;
    this.#passedOver = false;
    this.regrant();
  }

  /** A paid seller with an open, funded channel that is not closing. */
  #sellsNow(): boolean {
    const open = this.#channelId !== undefined && (this.#virtual === undefined || this.#virtualOpen);
    return this.#offer !== undefined && open && !this.#closing && !this.wire.destroyed;
  }

  #price(): bigint {
    return this.#offer?.pricePerPiece ?? 0n;
  }

  /**
   * Whether this seller can take another contested piece soon: fewer than CONTESTED_AHEAD pieces on their way, and
   * credit for one more now or a deposit that can still pay for one (a seller whose deposit is spent must not hold
   * back the pieces it has from dearer ones).
   */
  #hasRoom(): boolean {
    if (this.#ahead() >= CONTESTED_AHEAD) return false;
    const ledger = this.#ledger;
    return ledger.grantable > this.#granted.count || ledger.deposit - ledger.paid >= this.#price();
  }

  /** Pieces granted to this seller that have not verified yet. */
  #ahead(): number {
    let ahead = 0;
    for (const index of this.#granted.indexes()) if (!this.#leecher.pieces.isVerified(index)) ahead++;
    return ahead;
  }

  /**
   * A stream waits for pieces that are not granted to this seeder (a seek beyond the window): gives it those, within
   * the same credit, in place of granted pieces that nobody has asked it for yet, the highest first (the furthest
   * from what plays). Without this, the seek's pieces would wait for the next voucher, half a window of pieces later.
   */
  grantUrgent(): void {
    const torrent = this.#leecher.torrent;
    if (!this.#offer || !torrent || this.wire.destroyed || this.#closing) return;
    const ownership = this.#leecher.pieces;
    const peerHas = this.#peerPieces();
    const urgent = new Set<number>();
    const wanted: number[] = [];
    for (const index of urgentPieces(torrent)) {
      if (urgent.size >= this.#ledger.grantable) break;
      if (urgent.has(index)) continue;
      urgent.add(index);
      const owner = ownership.owners.get(index);
      if (!this.#granted.has(index) && peerHas.get(index) && (owner === undefined || owner === this.wire)) {
        wanted.push(index);
      }
    }
    // Credit not granted yet pays for some; granted pieces nobody asked for make room for the rest.
    const trade = wanted.length - Math.max(0, this.#ledger.grantable - this.#granted.count);
    const inFlight = piecesInFlight(this.wire);
    const spare =
      trade <= 0
        ? []
        : [...this.#granted.indexes()]
            .filter((i) => !urgent.has(i) && !holdsPiece(torrent, i) && !inFlight.has(i))
            .filter((i) => !ownership.startedBy(i, this.wire))
            .slice(-trade);
    if (wanted.length === 0 || (trade > 0 && spare.length === 0)) return;
    for (const index of spare) {
      this.#granted.remove(index);
      ownership.release(index, this.wire);
    }
    this.#leecher.grantsChanged();
    // The traded pieces are granted again later, from the lowest on.
    this.#granted.rewind();
    this.#granted.fill(
      this.#ledger.grantable,
      pieceCount(torrent),
      (index) => peerHas.get(index) && !holdsPiece(torrent, index),
      (index) => ownership.claim(index, this.wire),
      wanted,
    );
    this.scanIsFutile = false;
    rescheduleRequests(torrent);
  }

  /** Looks at every piece again (some were freed or the peer got new ones), then grants. */
  regrant(): void {
    this.scanIsFutile = false;
    if (this.#deferred && this.#neededNow()) this.#openWhenNeeded();
    this.#granted.rewind();
    this.grant();
  }

  /** A piece given to this seeder arrived from elsewhere: its credit goes to another piece. */
  ungrant(index: number): void {
    if (!this.#granted.remove(index)) return;
    this.grant();
  }

  get wire(): Wire {
    return this.#link.wire;
  }

  /** The channel we pay this seeder on, once accepted or continued. */
  get channelId(): string | undefined {
    return this.#channelId;
  }

  /** We will not buy from this peer: the connection stays if it buys from us (see roleLinks). */
  #decline(reason: string): void {
    if (this.#link.decline) this.#link.decline(reason);
    else this.#link.drop(reason);
  }

  stats(): LeecherPeerStats {
    return {
      channelId: this.#channelId,
      peer: peerAddress(this.wire),
      pricePerPiece: this.#offer?.pricePerPiece ?? 0n,
      deposited: this.#ledger.deposit,
      paid: this.#ledger.paid,
      acknowledged: this.#ledger.acknowledged,
      delivered: this.#ledger.deliveredCount,
      spent: this.#ledger.spent,
      window: this.#ledger.window,
      closed: this.#closed,
      ...(this.#virtual ? { hub: this.#leecher.options.hub?.connection.info.hub } : {}),
      fee: this.#virtual ? this.#hubFeeOn(this.#ledger.spent) : 0n,
    };
  }

  /** This peer's offer as heard, whether or not we pay it. */
  seen: SeenOffer | undefined;
  /** Its hello, kept while the leecher is on hold. */
  #heldHandshake: PaidHandshake | undefined;

  /** The leecher's hold ended: this peer's hello is judged now. */
  release(): void {
    const handshake = this.#heldHandshake;
    this.#heldHandshake = undefined;
    if (handshake) this.onHandshake(handshake);
  }

  onHandshake(handshake: PaidHandshake | undefined): void {
    if (this.#leecher.isBanned(this.stats().peer) || this.#leecher.isBanned(this.wire.peerId ?? "")) {
      this.#link.drop("this peer is banned: it sent pieces that failed verification");
      return;
    }
    if (!handshake?.offer) {
      this.#markPlain(); // it speaks piecepay but sells nothing: a free peer
      return;
    }
    if (this.seen === undefined) {
      const unusable = this.#unusable(handshake);
      this.seen = {
        peer: this.stats().peer,
        offer: handshake.offer,
        ...(unusable === undefined ? {} : { unusable }),
      };
      this.#leecher.emit("offer", this.seen);
    }
    if (this.#leecher.held) {
      this.#heldHandshake = handshake;
      return;
    }
    const refusal = this.#refusal(handshake, handshake.offer);
    if (refusal) {
      const refused: LeecherRefusal = { peer: this.stats().peer, reason: refusal, offer: handshake.offer };
      this.#leecher.emit("refused", refused);
      this.#decline(refusal);
      return;
    }
    this.#offer = handshake.offer;
    this.#sellsWhatItHas = handshake.payer !== undefined;
    this.#ledger.priceAt(handshake.offer.pricePerPiece);
    // One channel per payee: a second connection to a seeder we already pay (or are opening a channel to) waits.
    if (!this.#leecher.claimPayee(handshake.offer.payee, this)) {
      this.#waiting = true;
      return;
    }
    this.#openWhenNeeded();
  }

  /**
   * Opens the channel, unless prefer "free" and free peers can give every piece this seeder could be granted now:
   * then no deposit is made until that changes (regrant looks again), and none at all if free peers finish.
   */
  #openWhenNeeded(): void {
    if ((this.#leecher.options.prefer === "free" || this.#sellsWhatItHas) && !this.#neededNow()) {
      this.#deferred = true;
      return;
    }
    this.#deferred = false;
    this.#funding = this.#open().catch((error) => this.onProtocolError(error));
  }
  #deferred = false;
  /**
   * The seller is downloading too (its handshake names a payer): it sells what it has verified so far, which may be
   * nothing we lack yet, so its channel waits until it has a piece for us, and its deposit covers at most the pieces
   * we still miss.
   */
  #sellsWhatItHas = false;

  /** Whether this seeder has a piece we lack that no free peer unchoking us has (and no paid seeder was given). */
  #neededNow(): boolean {
    const torrent = this.#leecher.torrent;
    const count = pieceCount(torrent);
    if (!torrent || !count) return false; // no metadata yet: looked at again when the peers' pieces change
    const freeFirst = this.#leecher.options.prefer === "free";
    if (freeFirst && Date.now() < this.#leecher.freeGraceUntil) return false; // looked at again when the grace ends
    const theirs = this.#peerPieces();
    for (let index = 0; index < count; index++) {
      if (!theirs.get(index) || holdsPiece(torrent, index)) continue;
      // With prefer "free", a piece granted to another seller is not a reason to pay this one too. A seller that is
      // downloading too opens even so: granted pieces go to the cheapest seller with room (CONTESTED_AHEAD), so a
      // cheaper one must not wait until a dearer one's window has been granted everything.
      if (freeFirst && this.#leecher.pieces.owners.has(index)) continue;
      if (!freeFirst || !this.#leecher.freePeerHas(index)) return true;
    }
    return false;
  }

  /** Why we will not pay this seeder, if we will not. */
  #refusal(handshake: PaidHandshake, offer: NonNullable<PaidHandshake["offer"]>): string | undefined {
    const { maxPricePerPiece, asset } = this.#leecher.options;
    const unusable = this.#unusable(handshake);
    if (unusable) return unusable;
    if (offer.asset.toLowerCase() !== asset.toLowerCase()) return "seeder wants another asset";
    // Through a hub a piece costs its price plus the hub's fee; that must be within the maximum too, or the seeder
    // is paid over a direct channel (#open), which it always accepts.
    if (offer.pricePerPiece > maxPricePerPiece || offer.pricePerPiece <= 0n) {
      return `price ${offer.pricePerPiece} per piece is above our maximum ${maxPricePerPiece}`;
    }
    return undefined;
  }

  /** Why no terms of ours could make this seeder's offer usable, if none can. */
  #unusable(handshake: PaidHandshake): string | undefined {
    const { client } = this.#leecher.options;
    if (handshake.chainId !== client.chainId) return `seeder is on chain ${handshake.chainId}`;
    if (handshake.adjudicator.toLowerCase() !== (client.adjudicator.target as string).toLowerCase()) {
      return "seeder uses another adjudicator";
    }
    return undefined;
  }

  async #open(): Promise<void> {
    const offer = this.#offer;
    const torrent = this.#leecher.torrent;
    // Nothing left to buy: a seeder met after the download (e.g. webtorrent reconnecting) gets no channel.
    if (!offer || !torrent || torrent.done || this.#closing || this.#leecher.settling) return;
    // From a magnet link there is no piece count yet to size the deposit. Metadata is free (ut_metadata is never
    // gated by payment): fetch it from this seeder or any other peer first, then open the channel.
    if (!pieceCount(torrent) && !(await this.#metadata(torrent))) return;
    // Our check of the files already on disk comes first: what we have is not bought again, and a seeder that
    // continues our channel counts the pieces we have against its bitfield of ours.
    if (!torrent.ready && !(await this.#ready(torrent))) return;
    if (torrent.done || this.#closing || this.#leecher.settling) return;
    // One channel per payee per torrent across runs and reconnects: one still open on chain is continued.
    const client = this.#leecher.options.client;
    const open = await findChannelToResume(client, {
      payee: offer.payee,
      torrent: torrent.infoHash,
      asset: offer.asset,
    });
    if (this.wire.destroyed || this.#closing || this.#leecher.settling) return;
    if (open && this.#leecher.wasResumeRefused(open.id)) {
      this.onProtocolError(
        new Error(`our deposit in channel ${open.id} to this seeder may be on chain: no second deposit (run withdraw)`),
      );
      return;
    }
    if (open) {
      await this.#resume(open, offer.pricePerPiece);
      return;
    }
    const pieces = this.#sellsWhatItHas ? this.#leecher.piecesLeft() : pieceCount(torrent);
    if (await this.#openVirtual(offer, BigInt(pieces))) return;
    if (this.wire.destroyed || this.#closing || this.#leecher.settling) return;
    const needed = BigInt(pieces) * offer.pricePerPiece;
    const deposit = needed < this.#leecher.budget.left ? needed : this.#leecher.budget.left;
    const uncertain = this.#leecher.uncertainDepositTo(offer.payee);
    if (uncertain) {
      this.onProtocolError(
        new Error(
          `our deposit in channel ${uncertain} to this seeder may be on chain: no second deposit (run withdraw)`,
        ),
      );
      return;
    }
    this.#reservation = deposit < offer.pricePerPiece ? undefined : this.#leecher.budget.reserve(deposit);
    if (!this.#reservation) {
      this.#decline("our budget cannot pay this seeder for one piece");
      return;
    }
    this.#ledger.depositOf(deposit);
    const payeeDestination = offer.payTo ?? offer.payee;
    this.#proposal = await this.#leecher.options.client.propose({
      payee: offer.payee,
      payeeDestination,
      deposit,
      asset: offer.asset,
      challengeDuration: this.#leecher.options.challengeDuration,
      peer: peerAddress(this.wire),
    });
    const { chainId: chain, adjudicator: contract, fixedPart: fixed } = this.#proposal;
    await tagChannel(client, channelId(chain, contract, fixed), {
      torrent: torrent.infoHash,
      pricePerPiece: offer.pricePerPiece,
    });
    if (this.wire.destroyed) {
      this.#abandonProposal(); // the seeder left while we signed
      return;
    }
    const { fixedPart, payerSignature, chainId, adjudicator } = this.#proposal;
    this.#link.send({
      type: "propose",
      chainId,
      adjudicator,
      fixedPart,
      asset: offer.asset,
      deposit,
      payerDestination: client.walletAddress,
      payeeDestination,
      payerSignature,
    });
  }

  /**
   * Through our hub, when the seeder names it, its price plus the hub's fee is within our maximum, and our ledger's
   * free balance and our budget pay at least one piece with its fee: proposes a virtual channel that holds what the
   * pieces cost with the fee (at most the free balance and the budget left) and sends it to the seeder (`vpropose`).
   * Returns false when the seeder is to be paid directly instead, having sent nothing.
   */
  async #openVirtual(offer: NonNullable<PaidHandshake["offer"]>, pieces: bigint): Promise<boolean> {
    const hub = this.#leecher.options.hub;
    const route = routeThrough(offer, hub);
    if (!hub || !route) return false;
    const { connection, ledgerId } = hub;
    const feeBps = connection.info.feeBps;
    if (pricePlusFee(offer.pricePerPiece, feeBps) > this.#leecher.options.maxPricePerPiece) return false;
    const free = (await connection.balances(ledgerId)).user - this.#leecher.hubReserved();
    const wanted = virtualAmountFor(pieces * offer.pricePerPiece, feeBps);
    const budget = this.#leecher.budget.left;
    let amount = wanted < budget ? wanted : budget;
    if (free < amount) amount = free;
    if (maxVirtualVoucher(amount, feeBps) < offer.pricePerPiece) {
      this.#leecher.emit(
        "warning",
        new Error(
          `our ledger with hub ${connection.info.hub} cannot pay ${this.stats().peer} one piece: paying directly`,
        ),
      );
      return false;
    }
    this.#reservation = this.#leecher.budget.reserve(amount);
    if (!this.#reservation) return false;
    const held = this.#leecher.holdInLedger(amount);
    this.#ledger.depositOf(maxVirtualVoucher(amount, feeBps));
    try {
      this.#virtual = await connection.proposeVirtual({
        payee: offer.payee,
        payerLedger: ledgerId,
        payeeLedger: route.ledger,
        amount,
      });
    } catch (error) {
      // The hub refused (the seeder's ledger lacks capacity, the hub is gone): nothing is guaranteed, so nothing is
      // held; the seeder is paid directly.
      held.release();
      this.#reservation.release();
      this.#reservation = undefined;
      this.#ledger.depositOf(0n);
      this.#leecher.emit(
        "warning",
        new Error(`hub refused a virtual channel: ${(error as Error).message}; paying directly`),
      );
      return false;
    }
    this.#virtualHold = held;
    if (this.wire.destroyed) {
      this.#abandonProposal();
      return true;
    }
    const { fixedPart, v0, payerSignature, hubSignature, payerLedger, payeeLedger } = this.#virtual;
    this.#link.send({
      type: "vpropose",
      fixedPart,
      asset: v0.outcome[0].asset,
      amount,
      payerLedger,
      payeeLedger,
      payerSignature,
      hubSignature,
    });
    return true;
  }

  /** The seeder said its side of our virtual channel is guaranteed (`vready`): vouchers may go out. */
  #virtualOpen = false;

  /** Our ledger's free balance held for this peer's virtual channel until it is guaranteed or given up. */
  #virtualHold: Reservation | undefined;

  /** The hub's fee on a voucher amount of this peer's virtual channel. */
  #hubFeeOn(amount: bigint): bigint {
    return hubFee(amount, this.#leecher.options.hub?.connection.info.feeBps ?? 0n);
  }

  /**
   * The seeder countersigned V0: the hub funds our guarantee (we check and countersign it) and then the seeder's;
   * vouchers start once the seeder says its side is guaranteed too (`vready`).
   */
  async #onVirtualAccept(message: Extract<PaidMessage, { type: "vaccept" }>): Promise<void> {
    const proposal = this.#virtual;
    const hub = this.#leecher.options.hub;
    if (!proposal || !hub) throw new Error("an acceptance we did not ask for");
    const id = channelId(hub.connection.context.chainId, hub.connection.info.adjudicator, proposal.fixedPart);
    // Checked before anything reaches the hub: an acceptance refused here funds nothing, so the peer's close gives
    // its hold on our ledger and its budget back (#abandonProposal). Otherwise each seeder that answers with a bad
    // vaccept would keep a virtual channel's worth of both for as long as we run.
    const payee = getAddress(proposal.fixedPart.participants[2]);
    if (message.channelId !== id.toLowerCase()) {
      this.#accepted = false;
      throw new Error("an acceptance of another virtual channel");
    }
    if (recoverPersonalSigner(stateHash(id, proposal.v0), message.payeeSignature) !== payee) {
      this.#accepted = false;
      throw new Error("an acceptance not signed by the payee");
    }
    if (this.#closing || this.#leecher.settling || this.#leecher.torrent?.done) {
      this.#accepted = false;
      this.#abandonProposal();
      this.#decline("nothing left to buy: the download finished before the channel opened");
      return;
    }
    const ready = new Promise<boolean>((resolve) => {
      this.#virtualReady = { channelId: id.toLowerCase(), ready: () => resolve(true) };
      this.wire.once("close", () => resolve(false));
    });
    await hub.connection.fundVirtual(proposal, message.payeeSignature);
    await hub.connection.waitForLedger(id, "guaranteed", { timeoutMs: this.#leecher.options.closeTimeoutMs ?? 60_000 });
    // Our guarantee is in: whatever happens now, the ledger settles it (a close, the seeder's voucher, or on chain).
    this.#virtualHold?.release();
    this.#virtualHold = undefined;
    // Ours to close from now on, ready or not: a close at what the seeder delivered (0 if nothing) settles the
    // guarantee back into our ledger.
    this.#channelId = id.toLowerCase();
    if (!(await ready)) return;
    this.#virtualOpen = true;
    this.#leecher.emit("channel", this.stats());
    this.#leecher.sellerOpened(this);
    if (!this.#leecher.torrent?.done) this.#payAhead();
  }

  /**
   * The seeder left before accepting: no deposit was or will be sent for this proposal, so its budget reservation
   * and its row go. Otherwise every fake seeder that advertises an offer and never accepts would keep a deposit's
   * worth of our budget, and a few would leave nothing to pay honest seeders with. Once accepted, `fund` may have
   * sent the deposit: then both stay.
   */
  #abandonProposal(): void {
    if (this.#accepted) return;
    this.#reservation?.release();
    this.#virtualHold?.release();
    this.#virtualHold = undefined;
    const proposal = this.#proposal ?? this.#virtual;
    const client = this.#leecher.options.client;
    if (proposal) {
      const id = channelId(client.chainId, client.adjudicator.target as string, proposal.fixedPart);
      void client.store.forgetUnfunded(id).catch((error) => this.#leecher.emit("warning", error));
    }
  }

  /** The voucher amount our `resume` carried, once sent; cleared when the seeder's `resumed` arrives. */
  #resumeSent: bigint | undefined;

  /**
   * Continues `record`, our channel to this seeder for this torrent that an earlier run or connection funded: no
   * new deposit. We send our largest voucher; the seeder answers with its largest and the pieces it served before
   * that we have; we continue from there.
   */
  async #resume(record: ChannelRecord, pricePerPiece: bigint): Promise<void> {
    if (record.pricePerPiece !== pricePerPiece) {
      this.#decline(
        `seeder's price is now ${pricePerPiece} per piece; our open channel ${record.id} to it was at ${record.pricePerPiece}: run \`piecepay withdraw\``,
      );
      return;
    }
    this.#leecher.continued(record.id, record.deposited);
    this.#accepted = true;
    this.#channelId = record.id;
    this.#ledger.depositOf(record.deposited);
    const voucher = await resumeVoucher(this.#leecher.options.client, record.id);
    if (this.wire.destroyed) return;
    this.#resumeSent = voucher.amount;
    // A close waits for the answer (it waits for `#funding`), or it would offer without the pieces served before.
    const answered = new Promise<void>((resolve) => {
      this.#resumeAnswered = resolve;
      this.wire.once("close", () => resolve());
    });
    this.#link.send({ type: "resume", voucher });
    await answered;
  }

  #resumeAnswered: (() => void) | undefined;

  /** The seeder continues our channel: both sides now count the same voucher and the same pieces served. */
  async #onResumed(message: Extract<PaidMessage, { type: "resumed" }>): Promise<void> {
    const offer = this.#offer;
    const id = this.#channelId;
    if (this.#resumeSent === undefined || !offer || !id || message.channelId !== id) {
      this.onProtocolError(new Error("a resumed channel we did not ask to continue"));
      return;
    }
    this.#resumeSent = undefined; // before the await: a second `resumed` is one we did not ask for
    const client = this.#leecher.options.client;
    const sent = await client.store.getVoucher("sent", id);
    if (this.wire.destroyed) return;
    const refusal = refuseResumed(message, {
      sent: sent?.amount ?? 0n,
      pricePerPiece: offer.pricePerPiece,
      verified: this.#leecher.pieces.verifiedCount,
    });
    if (refusal) {
      this.onProtocolError(new Error(refusal));
      return;
    }
    this.#resumeAnswered?.();
    this.#ledger.resumed({ paid: sent?.amount ?? 0n, acknowledged: message.amount, served: Number(message.served) });
    // The seeder missed our last voucher (it was on its way when we stopped): it gets it again.
    if (sent && sent.amount > message.amount) this.#link.send({ type: "voucher", voucher: sent });
    this.#leecher.emit("channel", this.stats());
    this.#leecher.sellerOpened(this);
    this.grant();
    this.#payAhead();
  }

  /** Resolves true once the torrent checked the files on disk (webtorrent's `ready`), false if the seeder left first. */
  #ready(torrent: Torrent): Promise<boolean> {
    return new Promise((resolve) => {
      const ready = () => {
        this.wire.off("close", gone);
        resolve(!this.wire.destroyed);
      };
      const gone = () => {
        torrent.off("ready", ready);
        resolve(false);
      };
      torrent.once("ready", ready);
      this.wire.once("close", gone);
    });
  }

  /** Resolves true once the torrent has its metadata, false if this seeder's connection closed first. */
  #metadata(torrent: Torrent): Promise<boolean> {
    return new Promise((resolve) => {
      const ready = () => {
        this.wire.off("close", gone);
        resolve(!this.wire.destroyed);
      };
      const gone = () => {
        torrent.off("metadata", ready);
        resolve(false);
      };
      torrent.once("metadata", ready);
      this.wire.once("close", gone);
    });
  }

  onMessage(message: PaidMessage): void {
    switch (message.type) {
      case "accept":
        // Set before the deposit is sent: an acceptance repeated while it is in flight drops the seeder.
        if (!this.#proposal || this.#accepted) {
          this.onProtocolError(new Error("an acceptance we did not ask for"));
          return;
        }
        this.#accepted = true;
        {
          const funding = this.#onAccept(message);
          this.#leecher.track(funding);
          this.#funding = funding.catch((error) => this.onProtocolError(error));
        }
        return;
      case "resumed":
        void this.#onResumed(message).catch((error) => this.onProtocolError(error));
        return;
      case "vaccept":
        if (!this.#virtual || this.#accepted) {
          this.onProtocolError(new Error("an acceptance we did not ask for"));
          return;
        }
        this.#accepted = true;
        {
          const funding = this.#onVirtualAccept(message);
          this.#leecher.track(funding);
          this.#funding = funding.catch((error) => this.onProtocolError(error));
        }
        return;
      case "vready":
        if (!this.#virtualReady || !this.#virtual || message.channelId !== this.#virtualReady.channelId) {
          this.onProtocolError(new Error("a ready for a virtual channel we did not open"));
          return;
        }
        this.#virtualReady.ready();
        this.#virtualReady = undefined;
        return;
      case "vclosed":
        if (!this.#virtualClosed || message.channelId !== this.#channelId) {
          this.onProtocolError(new Error("a virtual close we did not offer"));
          return;
        }
        this.#virtualClosed(message.payeeSignature);
        this.#virtualClosed = undefined;
        return;
      case "receipt":
        if (message.channelId !== this.#channelId || !this.#ledger.receipt(message.amount)) {
          this.onProtocolError(new Error("a receipt for something we did not pay"));
        }
        return;
      case "notice":
        if (message.code === "closed") this.#onClosed?.(message.reason);
        else if (message.code === "bye" && this.#channelId && !this.#closing) {
          // The seller is leaving: we close now, at what it delivered, and its pieces go to the others.
          void this.close()
            .then(() => this.#releaseGrants())
            .catch((error) => this.onProtocolError(error));
        } else if (message.code === "refused" && this.#resumeSent !== undefined && this.#channelId) {
          // The seeder will not continue our channel (it never saw its funding, or forgot it): the deposit stays
          // where it is, and this payee gets no second one from us (`withdraw --force` pays it back).
          this.#leecher.resumeRefused(this.#channelId);
          this.#leecher.emit(
            "warning",
            new Error(`seeder ${this.stats().peer} will not continue channel ${this.#channelId}: ${message.reason}`),
          );
        }
        return;
      case "close":
        // A seeder with no ETH for gas countersigns our close and sends it back: we hold both signatures and submit.
        if (!this.#closeSent || this.#countersigned || message.channelId !== this.#channelId) {
          this.onProtocolError(new Error("a close we did not offer"));
          return;
        }
        this.#countersigned = true;
        void this.#submitClose(message).catch((error) => this.onProtocolError(error));
        return;
      default:
        this.onProtocolError(new Error(`unexpected ${message.type} message from a seeder`));
    }
  }

  onProtocolError(error: Error): void {
    this.#leecher.emit("warning", error);
    this.#link.drop(error.message);
  }

  async #onAccept(message: Extract<PaidMessage, { type: "accept" }>): Promise<void> {
    if (!this.#proposal) throw new Error("an acceptance we did not ask for");
    // The download finished (free peers, other seeders) or we are settling while the seeder took its time to
    // accept: nothing is left to buy, so nothing is deposited. Its reservation and proposal row go.
    if (this.#closing || this.#leecher.settling || this.#leecher.torrent?.done) {
      this.#accepted = false;
      this.#abandonProposal();
      this.#decline("nothing left to buy: the download finished before the channel opened");
      return;
    }
    const { client } = this.#leecher.options;
    let record: Awaited<ReturnType<PiecepayClient["fund"]>>;
    try {
      record = await client.fund(this.#proposal, {
        channelId: message.channelId,
        payeeSignature: message.payeeSignature,
      });
    } catch (error) {
      // `fund` marks the row `funding` before it broadcasts the deposit: a row still `proposed` means nothing was
      // sent (no funds for the deposit and its gas, the RPC gone), so it goes, with its budget reservation.
      const { chainId, adjudicator, fixedPart } = this.#proposal;
      const id = channelId(chainId, adjudicator, fixedPart);
      if (await client.store.forgetUnfunded(id)) this.#reservation?.release();
      else this.#leecher.depositUncertain(fixedPart.participants[1], id.toLowerCase());
      this.#leecher.emit("fund-failed", error);
      throw error;
    }
    this.#channelId = record.id;
    this.#ledger.depositOf(record.deposited);
    this.#leecher.emit("channel", this.stats());
    this.#leecher.sellerOpened(this);
    // The download may have finished (from free peers) while the deposit confirmed: nothing to pay ahead for.
    if (!this.#leecher.torrent?.done) this.#payAhead();
  }

  /** A piece this seeder contributed to verified: it counts, and the window grows. */
  onDelivered(): void {
    this.#ledger.delivered();
    this.#payAhead();
  }

  onBadPiece(index: number): void {
    const { pieces } = this.#leecher;
    const count = pieces.countFailure([this.stats().peer, ...(this.wire.peerId ? [this.wire.peerId] : [])]);
    const limit = pieces.banLimit;
    const verdict =
      count >= limit
        ? `banned after ${count} failed piece${count === 1 ? "" : "s"}`
        : `peer dropped (failure ${count} of ${limit})`;
    this.onProtocolError(new Error(`piece ${index} from this seeder failed verification: not paid, ${verdict}`));
  }

  /**
   * Sends the voucher the ledger asks for (SeederLedger.topUp): one per half window rather than one per piece (each
   * costs the seeder a durable write before it serves on), while never more than one window is at risk. One voucher
   * at a time, in order.
   */
  #payAhead(): void {
    const offer = this.#offer;
    const id = this.#channelId;
    if (!offer || !id || this.#closing || this.wire.destroyed || (this.#virtual && !this.#virtualOpen)) return;
    this.#paying = this.#paying.then(async () => {
      if (this.wire.destroyed || this.#closing) return; // a voucher nobody will receive, or that buys nothing
      // Never ahead by more than the pieces still missing: once the download is done, no voucher goes out.
      const amount = this.#ledger.topUp(this.#leecher.piecesLeft());
      if (amount === 0n) return;
      const voucher = await this.#leecher.options.client.pay(id, amount);
      this.#ledger.vouched(voucher.amount);
      this.#link.send({ type: "voucher", voucher });
      this.grant();
      this.#leecher.emit("paid", this.stats());
    });
    this.#paying.catch((error) => this.onProtocolError(error));
  }

  /**
   * The seeder's signature of the very final state we offered: we submit the close ourselves (one transaction pays
   * both sides) and tell the seeder its hash.
   */
  async #submitClose(message: Extract<PaidMessage, { type: "close" }>): Promise<void> {
    const sent = this.#closeSent;
    const id = this.#channelId;
    if (!sent || !id || message.turnNum !== sent.turnNum || message.paid !== sent.paid || message.voucher) {
      throw new Error("a countersigned close that is not the one we offered");
    }
    const client = this.#leecher.options.client;
    const base = await client.store.getSupportedState(id);
    if (!base) throw new Error(`channel ${id} has no funding state`);
    const final = {
      outcome: splitOutcome(base.variablePart, message.paid),
      appData: "0x",
      turnNum: message.turnNum,
      isFinal: true,
    };
    const receipt = await client.close({ channelId: id, final, signature: message.signature });
    this.#link.send({ type: "notice", code: "closed", reason: receipt.hash });
    this.#onClosed?.(receipt.hash);
  }

  /** Resolves undefined after closeTimeoutMs. */
  #timeout(): Promise<undefined> {
    return new Promise<undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), this.#leecher.options.closeTimeoutMs ?? 60_000);
      timer.unref?.();
    });
  }

  /**
   * Closes the channel at what this seeder delivered and waits for its on-chain close (or a timeout). First it stops
   * paying and asking, and waits (within the close timeout) for the answer to every request still out: a block the
   * seeder sent before it learns of the close counts on its side as served, so it must count on ours before we make
   * our offer, or the seeder (rightly) refuses an offer short of what it sent and takes its largest voucher instead.
   * In a swarm with free peers such blocks are common at the end: the piece they belong to was finished by a free
   * peer, and the paid seeder's blocks of it were still on their way.
   */
  async close(): Promise<void> {
    this.#closing = true; // no voucher, grant or new channel from here on
    // A channel being funded now (the download finished first, e.g. from free peers) is closed like the others, or
    // the deposit would sit on chain with nobody closing it.
    await Promise.race([this.#funding, this.#timeout()]);
    await this.#paying.catch(() => undefined); // the last voucher is out
    const offer = this.#offer;
    const id = this.#channelId;
    if (!offer || !id || this.#closeStarted || this.#closed) return;
    this.#closeStarted = true;
    const timeoutMs = this.#leecher.options.closeTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    // Half the close timeout at most for the blocks on their way, so that a seeder that stalled but answers the
    // close still gets the time to close.
    this.#ungrantUnstarted();
    await this.#drained(Date.now() + timeoutMs / 2);
    const client = this.#leecher.options.client;
    const paid = this.#ledger.closeOffer();
    if (this.#virtual) {
      await this.#closeVirtual(id, paid, deadline);
      return;
    }
    const close = await client.offerClose(id, { paid });
    if (this.wire.destroyed) {
      // Nobody to ask: the channel stays open on chain with our offer signed; `piecepay withdraw` settles it.
      this.#leecher.emit("warning", new Error(`seeder ${this.stats().peer} is gone: channel ${id} left to withdraw`));
      return;
    }
    const closed = new Promise<string>((resolve) => {
      this.#onClosed = resolve;
    });
    const gone = new Promise<undefined>((resolve) => this.wire.once("close", () => resolve(undefined)));
    this.#closeSent = { turnNum: close.final.turnNum, paid };
    this.#link.send({ type: "close", channelId: id, turnNum: close.final.turnNum, paid, signature: close.signature });
    const timeout = new Promise<undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
      timer.unref?.();
    });
    const hash = await Promise.race([closed, gone, timeout]);
    if (hash) {
      this.#closed = true;
      this.#ledger.closedAt(paid);
      await client.store.setPhase(id, "withdrawn");
      this.#leecher.emit("closed", this.stats(), hash);
    } else {
      this.#leecher.emit("warning", new Error(`seeder ${this.stats().peer} did not close channel ${id}`));
    }
  }

  /**
   * Closes our virtual channel at `paid`: we sign its final state (the hub's fee on `paid` to the hub, the rest back
   * to us) and send it (`vclose`); the seeder countersigns it with the hub and sends its signature (`vclosed`); the
   * hub then settles both ledgers by it, ours with our countersignature (HubConnection checks it against the final
   * state). Until then our guarantee stays in the ledger, and `piecepay withdraw --force` exits with it.
   */
  async #closeVirtual(id: string, paid: bigint, deadline: number): Promise<void> {
    const hub = this.#leecher.options.hub;
    if (!hub) return;
    const { state, signature } = await hub.connection.finalState(id, paid);
    if (this.wire.destroyed) {
      this.#leecher.emit(
        "warning",
        new Error(`seeder ${this.stats().peer} is gone: virtual channel ${id} settles when it or the hub settles it`),
      );
      return;
    }
    const countersigned = new Promise<string | undefined>((resolve) => {
      this.#virtualClosed = resolve;
      this.wire.once("close", () => resolve(undefined));
      const timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
      timer.unref?.();
    });
    this.#link.send({ type: "vclose", channelId: id, paid, signature });
    const payeeSignature = await countersigned;
    const payee = getAddress(this.#virtual?.fixedPart.participants[2] ?? ZeroAddress);
    if (payeeSignature === undefined || recoverPersonalSigner(stateHash(id, state), payeeSignature) !== payee) {
      this.#leecher.emit("warning", new Error(`seeder ${this.stats().peer} did not close virtual channel ${id}`));
      return;
    }
    try {
      await hub.connection.waitForLedger(id, "settled", { timeoutMs: Math.max(1_000, deadline - Date.now()) });
    } catch (error) {
      this.#leecher.emit(
        "warning",
        new Error(`the hub did not settle virtual channel ${id}: ${(error as Error).message}`),
      );
      return;
    }
    this.#closed = true;
    this.#ledger.closedAt(paid);
    this.#leecher.emit("closed", this.stats(), "");
  }

  /** Every piece still granted to this seeder goes back to the others (it closed its channel and serves no more). */
  #releaseGrants(): void {
    this.#granted.retain(() => false);
    // As when a seeder leaves: what it started and did not finish is thrown away, and what it owned is anyone's.
    this.#leecher.discardUnverified(this.wire);
    this.#leecher.pieces.forget(this.wire);
    this.#leecher.regrantAll();
  }

  /**
   * Gives back the pieces granted to this seeder of which it sent nothing yet: the scheduler asks it for nothing
   * new. A piece it started stays: the seeder counts it as served from its first block, we count it once it
   * verifies, so it is finished (or fails) before we offer.
   */
  #ungrantUnstarted(): void {
    this.#granted.retain((index) => this.#leecher.pieces.startedBy(index, this.wire));
  }

  /**
   * Resolves once no request of ours to this seeder is outstanding (each was answered with its block, which counted
   * on arrival, or rejected) and every piece it started has verified or failed, or the connection closed, or
   * `deadline` passed.
   */
  async #drained(deadline: number): Promise<void> {
    const wire = this.wire;
    const busy = () => wire.requests.length > 0 || this.#leecher.pieces.unfinishedFrom(wire) > 0;
    while (!wire.destroyed && busy() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
