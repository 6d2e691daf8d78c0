// The paid seeder: it serves a peer only what the peer has paid for. Each leecher opens a voucher channel to us;
// every voucher is verified and on disk before we acknowledge it (a receipt) and before it counts as credit; a
// request for a piece is served only while the credit covers it, otherwise the peer stays choked. A request that
// arrives while a voucher is being stored waits for it, so a leecher that pays and asks at once is not refused.
// When the leecher leaves, we close cooperatively if it asks; if it vanishes, we enforce its latest voucher on chain.
import type { Wire } from "bittorrent-protocol";
import { formatEther } from "ethers";
import type { Torrent } from "webtorrent";
import { maxVirtualVoucher, type VirtualProposal, virtualChannelOutcome } from "../../sdk/hub/index.js";
import {
  type ChannelProposal,
  channelId,
  fundingState,
  type PiecepayClient,
  splitOutcome,
  type Voucher,
  verifyVoucher,
} from "../../sdk/index.js";
import { truncateReason } from "../wire/codec.js";
import type { PaidHandshake, PaidMessage } from "../wire/messages.js";
import { refuseResume, SeederChannels, servedBefore, tagChannel } from "./channel-reuse.js";
import { Emitter } from "./emitter.js";
import { handshakeFor, type PeerLink, type PeerSession, paidExtension, sendWithoutDelay } from "./extension.js";
import type { HubAccount } from "./hub-route.js";
import type { RoleSession } from "./trading-session.js";
import { DEFAULT_MAX_UNFUNDED, DEFAULT_MAX_UNFUNDED_PER_IP, UnfundedCap } from "./unfunded-cap.js";
import {
  aroundChoke,
  beforeEachBlockSent,
  filterRequests,
  gateUnchoke,
  holdsPiece,
  peerAddress,
  peerIp,
  pieceCount,
  pieceLengthOf,
  sendRejectRequest,
} from "./webtorrent-internals.js";

/** How long a proposal may wait for its deposit before it is forgotten and its peer dropped (see fundingTimeoutMs). */
export const DEFAULT_FUNDING_TIMEOUT_MS = 120_000;

/** Pieces served on a deposit that is mined but not yet final (see unconfirmedPieces). */
export const DEFAULT_UNCONFIRMED_PIECES = 16;

/** Settings of a paid seeder. */
export interface PaidSeederOptions {
  client: PiecepayClient;
  /** Wei (or token units) per piece. */
  pricePerPiece: bigint;
  /** The asset we are paid in (zero address: ETH). */
  asset: string;
  /** How long a peer that left without closing gets to come back and close before we enforce (default 30 s). */
  enforceAfterMs?: number;
  /** Whether to enforce automatically when a paying peer vanishes (default true). */
  enforce?: boolean;
  /** Turns a wait for the chain's clock into something faster in tests (see PiecepayClient.redeem). */
  waitFor?: (finalizesAt: bigint) => Promise<void>;
  /**
   * Unfunded proposals held at once from one remote address (default 4) and in total (default 64). One over the
   * cap is refused with a `notice` and its peer dropped: nothing signed, no row written. A proposal stops counting
   * once funded, when its funding times out, or when its connection closes.
   */
  maxUnfundedPerIp?: number;
  maxUnfunded?: number;
  /** How long a proposal may wait for its deposit (default 120 s); then it is forgotten and its peer dropped. */
  fundingTimeoutMs?: number;
  /**
   * Pieces served to a leecher whose deposit is mined but has fewer than the client's confirmations (default 16;
   * 0: serve nothing until it has them). A re-org that removes the deposit costs us at most these pieces: we see the
   * holdings drop, stop serving and drop the peer. With one confirmation (a local chain) every deposit is final.
   */
  unconfirmedPieces?: number;
  /**
   * Also accept payment through this hub (ADR 0021): our offer names it and our ledger with it, and a leecher with a
   * ledger there pays us over a virtual channel that the hub guarantees from its side of our ledger (no deposit, no
   * transaction). Direct channels are accepted as before.
   */
  hub?: HubAccount;
}

/** What one paying peer has done so far. */
export interface SeederPeerStats {
  channelId?: string;
  peer: string;
  /** Wei acknowledged (the largest voucher on disk). */
  paid: bigint;
  /** Pieces this peer was allowed to request (each one was paid for). */
  served: number;
  closed: boolean;
  /**
   * What the chain paid us for this channel (its `PaidOut` events), once it was closed or enforced; for a virtual
   * channel, what its settlement moved into our ledger with the hub (a state the hub and we signed).
   */
  earned?: bigint;
  /** The hub a virtual channel goes through, if it is one. */
  hub?: string;
}

/** The events of a PaidSeeder and their arguments (see PaidSeeder). */
export type PaidSeederEvents = {
  peer: [stats: SeederPeerStats];
  paid: [stats: SeederPeerStats];
  closed: [stats: SeederPeerStats, txHash: string];
  enforced: [stats: SeederPeerStats, txHash: string];
  countersigned: [stats: SeederPeerStats];
  "deposit-removed": [stats: SeederPeerStats];
  warning: [error: Error];
};

/**
 * Makes a webtorrent torrent a paid one on the seeding side: call `attach(torrent)` before peers connect.
 * Events: 'peer' (stats), 'paid' (stats), 'closed' (stats, tx hash), 'enforced' (stats, tx hash), 'warning' (Error),
 * 'countersigned' (stats: with no ETH for gas, we sent the leecher our signature of its close to submit),
 * 'deposit-removed' (stats: a re-org took the leecher's deposit off the chain before it was final; we stopped).
 * In 'closed' and 'enforced', `earned` is what the chain paid us (payout events); `paid` is the largest voucher.
 * @example new PaidSeeder({ client, pricePerPiece: 10n ** 12n, asset: ZeroAddress }).attach(torrent)
 */
export class PaidSeeder extends Emitter<PaidSeederEvents> {
  readonly options: PaidSeederOptions;
  /** The peers connected now; a peer that leaves is forgotten, wire and all. */
  readonly peers = new Set<SeederPeer>();
  /** What each funded channel whose peer left did, for `stats()`: a few numbers, no wire. */
  readonly #departed = new Map<string, SeederPeerStats>();
  readonly unfunded: UnfundedCap;
  /** Which connection holds each channel, and what each channel whose peer left had served (see channel-reuse.ts). */
  readonly channels: SeederChannels<SeederPeer>;
  torrent: Torrent | undefined;

  constructor(options: PaidSeederOptions) {
    super();
    this.options = options;
    this.channels = new SeederChannels(options.client);
    this.unfunded = new UnfundedCap(
      options.maxUnfundedPerIp ?? DEFAULT_MAX_UNFUNDED_PER_IP,
      options.maxUnfunded ?? DEFAULT_MAX_UNFUNDED,
    );
  }

  /** A peer left: forget it; keep its channel's figures (a snapshot) if it had a funded channel. */
  forget(peer: SeederPeer, funded: SeederPeerStats | undefined): void {
    this.peers.delete(peer);
    if (funded?.channelId) this.#departed.set(funded.channelId, funded);
  }

  /** A leecher came back to continue channel `id`: no enforcement, and its figures are the live peer's again. */
  continued(id: string): void {
    this.channels.cancelEnforcement(id);
    this.#departed.delete(id);
  }

  /** What we advertise in our extended handshake: who is paid, in what, and the price per piece. */
  offer(): NonNullable<PaidHandshake["offer"]> {
    const { address, walletAddress } = this.options.client;
    return {
      payee: address,
      // A session key signs, the wallet is paid: the leecher's funding state must pay the wallet (join checks it).
      ...(walletAddress === address ? {} : { payTo: walletAddress }),
      asset: this.options.asset,
      pricePerPiece: this.options.pricePerPiece,
      ...(this.options.hub
        ? { hubs: [{ hub: this.options.hub.connection.info.hub, ledger: this.options.hub.ledgerId }] }
        : {}),
    };
  }

  attach(torrent: Torrent): void {
    this.host(torrent);
    const ours = handshakeFor(this.options.client, { offer: this.offer() });
    torrent.on("wire", (wire: Wire) => {
      sendWithoutDelay(torrent, wire);
      wire.use(paidExtension(ours, (link) => this.session(link)));
    });
  }

  /**
   * Sells from `torrent` through sessions that another part makes per wire (`session`): a downloader that sells what
   * it has verified hosts its seller role this way, beside its buyer role on the same extension.
   */
  host(torrent: Torrent): void {
    this.torrent = torrent;
  }

  /** The seller's session for one connection: it gates what the wire serves from now on. */
  session(link: PeerLink): RoleSession {
    const peer = new SeederPeer(this, link);
    this.peers.add(peer);
    return peer;
  }

  /**
   * We are leaving: each connected peer whose channel is funded and open is told so (`notice bye`) and served no more,
   * so that it closes now, at what we delivered. Resolves once all of them closed (on chain) or left, or after
   * `timeoutMs`; the rest are ours to enforce (`piecepay withdraw`), as for any leecher that vanished.
   */
  async farewell(timeoutMs = 60_000): Promise<SeederPeerStats[]> {
    const waiting = [...this.peers].filter((peer) => peer.bye());
    const ended = waiting.map(
      (peer) =>
        new Promise<void>((resolve) => {
          const check = (stats: SeederPeerStats) => {
            if (stats.channelId !== peer.channelId) return;
            this.off("closed", check);
            resolve();
          };
          this.on("closed", check);
          peer.wire.once("close", () => {
            this.off("closed", check);
            resolve();
          });
        }),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(ended),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return waiting.map((peer) => peer.stats());
  }

  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  /** Stops every pending enforcement timer (the channels stay in the store; `resume` after a restart picks them up). */
  destroy(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /**
   * After a restart: enforces every open channel of ours in the store that holds a voucher, after `enforceAfterMs`
   * unless its leecher comes back first and continues it (a `resume`). Channels already challenged are the
   * watcher's (it answers and pays out).
   * @example seeder.attach(torrent); await seeder.resume()
   */
  async resume(): Promise<void> {
    const { client } = this.options;
    const adjudicator = (client.adjudicator.target as string).toLowerCase();
    for (const record of await client.store.listChannels()) {
      const payee = record.virtual === undefined ? 1 : this.options.hub ? 2 : -1;
      if (record.myIndex !== payee || record.phase !== "open" || record.chainId !== client.chainId) continue;
      if (record.adjudicator.toLowerCase() !== adjudicator) continue;
      const voucher = await client.store.getVoucher("received", record.id);
      if (!voucher) continue;
      this.enforceLater(record.id, {
        channelId: record.id,
        peer: record.peer ?? "",
        paid: voucher.amount,
        served: 0,
        closed: false,
      });
    }
  }

  /** After `enforceAfterMs`, unless the channel closed meanwhile: challenge with its latest voucher, wait, pay out. */
  enforceLater(id: string, stats: SeederPeerStats): void {
    const { client, enforce = true, enforceAfterMs = 30_000, waitFor } = this.options;
    if (!enforce) return;
    const timer = setTimeout(async () => {
      this.#timers.delete(timer);
      this.channels.enforcementDone(id, timer);
      try {
        // The leecher came back and continues the channel on a new connection: nothing to enforce.
        if (this.channels.isHeld(id) || (await client.store.getChannel(id))?.phase !== "open") return;
        if (this.channels.isHeld(id)) return; // it came back while we read the store
        if ((await client.store.getChannel(id))?.virtual) {
          this.#settleVirtual(id, stats);
          return;
        }
        client
          .redeem(id, { waitFor })
          .then(async (receipt) => {
            // What the chain paid us, not the voucher we meant to enforce.
            this.emit("enforced", { ...stats, earned: (await client.settlement(id)).toUs }, receipt.hash);
          })
          .catch((error) => {
            if ((error as { code?: unknown }).code === "INSUFFICIENT_FUNDS") {
              const why = (error as { shortMessage?: string }).shortMessage ?? String(error);
              const claim = `${formatEther(stats.paid)} ETH of vouchers from ${stats.peer || "a leecher"} on channel ${id}`;
              this.emit(
                "warning",
                new Error(`cannot enforce ${claim}: ${why}; fund the account, then run \`piecepay withdraw --force\``),
              );
              return;
            }
            this.emit("warning", error);
          });
      } catch (error) {
        this.emit("warning", error as Error);
      }
    }, enforceAfterMs);
    timer.unref?.();
    this.#timers.add(timer);
    this.channels.scheduleEnforcement(id, timer);
  }

  /**
   * A leecher that paid over a virtual channel left without closing it: the hub settles our largest voucher into our
   * ledger (HubConnection.settleVirtual: no transaction). A hub that does not answer leaves `piecepay withdraw --force`.
   */
  #settleVirtual(id: string, stats: SeederPeerStats): void {
    const hub = this.options.hub;
    if (!hub) return;
    hub.connection
      .settleVirtual(id)
      .then(() => hub.connection.waitForLedger(id, "settled", { timeoutMs: 60_000 }))
      .then(() => this.emit("enforced", { ...stats, earned: stats.paid }, ""))
      .catch((error) =>
        this.emit(
          "warning",
          new Error(
            `could not settle virtual channel ${id} through hub ${hub.connection.info.hub}: ${(error as Error).message}; run \`piecepay withdraw --force\``,
          ),
        ),
      );
  }

  /** Totals over every peer: those connected now, and every funded channel whose peer left. */
  stats(): { paid: bigint; served: number; peers: SeederPeerStats[] } {
    const peers = [...[...this.peers].map((p) => p.stats()), ...this.#departed.values()];
    return { paid: peers.reduce((a, p) => a + p.paid, 0n), served: peers.reduce((a, p) => a + p.served, 0), peers };
  }
}

/** How long a leecher that continues a channel has to send its bitfield (it sends it before its `resume`). */
const RESUME_BITFIELD_MS = 30_000;

/** How long a refused peer's connection stays open for our `notice` to reach it. */
const NOTICE_GRACE_MS = 100;

/** The largest block a peer may request (BitTorrent's own limit; webtorrent drops a peer that asks for more). */
const MAX_REQUEST_BYTES = 128 * 1024;

/**
 * One leecher's session. Every flag a message is checked against is set synchronously when the message arrives,
 * before any await: a message repeated while the first is still being handled (a proposal while we join, a close
 * while we settle) finds it set, and drops the peer.
 */
class SeederPeer implements PeerSession {
  readonly #seeder: PaidSeeder;
  readonly #link: PeerLink;
  /** A proposal arrived on this connection: any other is a protocol error. */
  #proposed = false;
  /** This peer's proposal holds one of the seeder's unfunded slots. */
  #holdsSlot = false;
  #channelId: string | undefined;
  #payer: string | undefined;
  #deposit = 0n;
  #isFunded = false;
  /** The deposit has the client's confirmations: vouchers count in full (before, up to unconfirmedPieces). */
  #isFinal = false;
  /** A re-org took the deposit off the chain: nothing more is served, and there is nothing to enforce. */
  #depositRemoved = false;
  /** Stops following the deposit to its confirmations (the peer left). */
  #stopFollowing: AbortController | undefined;
  /** Stops this channel's wait for funding (the peer left). */
  #stopFunding: AbortController | undefined;
  /** Settles once the wait for funding ended, funded or not: a close that arrives first waits for it. */
  #fundingSeen: Promise<void> = Promise.resolve();
  /** The channel closed on chain at the leecher's offer: nothing to enforce. */
  #closedOnChain = false;
  /** The channel is a virtual channel through our hub (no deposit of its own: the hub's guarantee in our ledger). */
  #virtual = false;
  /** The largest voucher that arrived before the funding was seen: credited once it is. */
  #pending: Voucher | undefined;
  #paid = 0n;
  /** Pieces this peer may request (each one paid for); a subset of them was actually sent. */
  readonly #admitted = new Set<number>();
  /** Pieces of which we sent this peer at least one block: what we are owed for. */
  readonly #sent = new Set<number>();
  /**
   * Bytes asked of each admitted piece and not dropped by a choke: at most the piece's length, so a peer that asks
   * for a paid piece again and again gets it once, not our upload for the price of one piece.
   */
  readonly #asked = new Map<number, number>();
  /** A close arrived: no more vouchers, requests or closes. */
  #closed = false;
  /** We refused this peer and are about to drop it: nothing more from it is handled. */
  #refused = false;
  #left = false;
  /** The payer address of the peer's handshake: only it may continue one of its channels. */
  #handshakePayer: string | undefined;
  /** Resolves once the peer said which pieces it has (`bitfield`, `have-all` or `have-none`). */
  readonly #bitfieldSeen: Promise<void>;

  constructor(seeder: PaidSeeder, link: PeerLink) {
    this.#seeder = seeder;
    this.#link = link;
    this.#gate(link.wire);
    link.wire.once("close", () => this.#onLeave());
    this.#bitfieldSeen = new Promise((resolve) => {
      for (const event of ["bitfield", "have-all", "have-none", "close"]) link.wire.once(event, () => resolve());
    });
  }

  /** The connection (for a page that shows its peers: transport, peer id). */
  get wire(): Wire {
    return this.#link.wire;
  }

  /** The channel this peer pays us on, once it proposed or continued one. */
  get channelId(): string | undefined {
    return this.#channelId;
  }

  /** We said `bye`: nothing more is served, and the peer is expected to close. */
  #leaving = false;

  /**
   * We are leaving (see PaidSeeder.farewell): when this peer pays on a funded, open channel, tells it so, stops
   * serving, and returns true (its close is awaited); otherwise returns false.
   */
  bye(): boolean {
    if (this.#left || this.#closed || this.#refused || !this.#isFunded || !this.#channelId) return false;
    // No choke: the pieces it already asked for are still served, so that what we count as served (a piece of which
    // a block went out) is what it counts as delivered when it closes; nothing new is admitted.
    this.#leaving = true;
    this.#link.send({ type: "notice", code: "bye", reason: "the seller is leaving: close now" });
    return true;
  }

  stats(): SeederPeerStats {
    return {
      channelId: this.#channelId,
      peer: this.#label(),
      paid: this.#paid,
      served: this.#sent.size,
      closed: this.#closed,
      ...(this.#virtual && this.#seeder.options.hub ? { hub: this.#seeder.options.hub.connection.info.hub } : {}),
    };
  }

  #label(): string {
    return peerAddress(this.#link.wire);
  }

  /**
   * Pieces the credit covers: floor(paid / price) once the deposit is final; before, at most unconfirmedPieces, so
   * that a deposit a re-org removes costs us no more than those.
   */
  #paidPieces(): number {
    if (this.#depositRemoved) return 0;
    const paid = Number(this.#paid / this.#seeder.options.pricePerPiece);
    if (this.#isFinal) return paid;
    return Math.min(paid, this.#seeder.options.unconfirmedPieces ?? DEFAULT_UNCONFIRMED_PIECES);
  }

  #mayServeMore(): boolean {
    return !this.#closed && !this.#leaving && !this.#resuming && this.#paidPieces() > this.#admitted.size;
  }

  /** A resumed channel waits for the leecher's bitfield: until its pieces served before are counted, nothing is served. */
  #resuming = false;

  /**
   * Wraps the wire so that webtorrent cannot serve this peer more than it paid for: `unchoke` only while the credit
   * covers another piece, and a request for a piece not covered is not served (rejected under BEP 6).
   */
  #gate(wire: Wire): void {
    gateUnchoke(wire, () => this.#mayServeMore());
    aroundChoke(
      wire,
      (dropped) => {
        // A choke drops the requests not yet answered: they may be asked again.
        for (const { piece, length } of dropped) this.#asked.set(piece, (this.#asked.get(piece) ?? 0) - length);
      },
      () => {
        // A choke drops the requests we had not answered: the pieces of which we sent nothing give their credit
        // back, or the leecher, which counts them as not served, would find its credit short of what it paid for.
        for (const index of this.#admitted) {
          if (this.#sent.has(index)) continue;
          this.#admitted.delete(index);
          this.#asked.delete(index);
        }
      },
    );
    beforeEachBlockSent(wire, (index) => this.#sent.add(index));
    filterRequests(wire, (index, offset, length, serve) => this.#requestFilter(index, offset, length, serve));
  }

  /**
   * Whether to serve a request now (true), or not (false: refused, dropped, or waiting for a voucher being stored;
   * `serve` queues it later).
   */
  #requestFilter(index: number, offset: number, length: number, serve: () => void): boolean {
    const wire = this.#link.wire;
    // A request still buffered when the torrent was destroyed: webtorrent would read its closed store and throw.
    if (this.#seeder.torrent?.destroyed) return false;
    // A request outside the torrent or over 128 KiB is checked before any credit: whether the peer paid or not,
    // it is dropped, and nothing is admitted, served or charged for it.
    const invalid = this.#invalidRequest(index, offset, length);
    if (invalid) {
      this.onProtocolError(new Error(invalid));
      return false;
    }
    // A downloader that sells serves only the pieces it has verified: one it lacks is refused before any credit is
    // spent on it (webtorrent would ignore the request, and the buyer would count a piece it can never get).
    const torrent = this.#seeder.torrent;
    if (torrent && pieceCount(torrent) && !holdsPiece(torrent, index)) {
      if (wire.hasFast) sendRejectRequest(wire, index, offset, length);
      return false;
    }
    const admitted = this.#admitted.has(index);
    const asked = (this.#asked.get(index) ?? 0) + length;
    const uncovered = admitted
      ? asked > this.#pieceLength(index)
      : this.#closed || this.#leaving || this.#resuming || this.#paidPieces() <= this.#admitted.size;
    if (uncovered && !admitted && !this.#closed && this.#storing > 0) {
      // A voucher on its way to disk may pay for it: decided again once it is stored (see #storeVoucher).
      this.#waiting.push({ index, offset, length, serve });
      return false;
    }
    if (uncovered) {
      // Refused alone (BEP 6), or ignored by a peer without it. Never a choke: that would drop the covered
      // requests still queued, and a peer that asked for everything at once would get nothing. Not through
      // `wire.reject`, which also forgets a queued request for the same block (a duplicate) that we will answer.
      if (wire.hasFast) sendRejectRequest(wire, index, offset, length);
      return false;
    }
    this.#admitted.add(index);
    this.#asked.set(index, asked);
    return true;
  }

  /** Why a request is not one for a block of this torrent, if it is not. */
  #invalidRequest(index: number, offset: number, length: number): string | undefined {
    const torrent = this.#seeder.torrent;
    const count = pieceCount(torrent);
    if (!torrent || !count) return undefined; // no metadata yet: webtorrent serves nothing anyway
    // bittorrent-protocol reads these uint32 fields as int32: 2^31 and above arrive negative.
    if (index < 0 || index >= count) return `a request for piece ${index >>> 0} of a torrent of ${count} pieces`;
    if (length <= 0 || length > MAX_REQUEST_BYTES) return `a request of ${length >>> 0} bytes`;
    const size = this.#pieceLength(index);
    if (offset < 0 || offset + length > size) {
      return `a request past the end of piece ${index} (${offset >>> 0} + ${length} > ${size})`;
    }
    return undefined;
  }

  #pieceLength(index: number): number {
    const torrent = this.#seeder.torrent;
    if (!torrent) return 0;
    return pieceLengthOf(torrent, index);
  }

  onHandshake(handshake: PaidHandshake | undefined): void {
    // A plain peer, or one that will not pay, stays choked: it gets nothing from a paid seeder.
    if (!handshake?.payer) return;
    this.#handshakePayer = handshake.payer;
    const ours = this.#seeder.options.client;
    if (handshake.chainId !== ours.chainId) this.#link.drop(`peer is on chain ${handshake.chainId}`);
  }

  onMessage(message: PaidMessage): void {
    if (this.#refused) return;
    switch (message.type) {
      case "propose":
        if (this.#proposed) throw new Error("a second channel proposal on one connection");
        this.#proposed = true;
        void this.#onPropose(message).catch((error) => this.onProtocolError(error));
        return;
      case "vpropose":
        if (this.#proposed) throw new Error("a second channel proposal on one connection");
        this.#proposed = true;
        void this.#onVirtualPropose(message).catch((error) => this.onProtocolError(error));
        return;
      case "vclose":
        if (this.#closed) throw new Error("a second close on one channel");
        void this.#onVirtualClose(message).catch((error) => this.onProtocolError(error));
        return;
      case "resume":
        if (this.#proposed) throw new Error("a resume after a channel was proposed or resumed on this connection");
        this.#proposed = true;
        void this.#onResume(message.voucher).catch((error) => this.onProtocolError(error));
        return;
      case "voucher":
        // Once funded, a voucher is credited synchronously: a request sent right after it on the same connection
        // must find the credit there. Before, it is checked just as fully, then waits for the funding.
        if (this.#isFunded) this.#credit(message.voucher);
        else this.#hold(message.voucher);
        return;
      case "close":
        if (this.#closed) throw new Error("a second close on one channel");
        void this.#onClose(message).catch((error) => this.onProtocolError(error));
        return;
      case "notice":
        if (message.code === "closed" && this.#awaitingClose) {
          this.#awaitingClose = false;
          void this.#onLeecherClosed(message.reason).catch((error) => this.#seeder.emit("warning", error));
        }
        return;
      default:
        this.onProtocolError(new Error(`unexpected ${message.type} message from a leecher`));
    }
  }

  onProtocolError(error: Error): void {
    this.#seeder.emit("warning", error);
    this.#link.drop(error.message);
  }

  /**
   * Says why in a `notice refused`, then drops the peer. The notice goes through webtorrent's throttle pipes
   * before it reaches the socket, and destroying the wire at once would discard it: it gets NOTICE_GRACE_MS, during
   * which nothing from this peer is handled.
   */
  #refuse(reason: string, how: "drop" | "decline" = "drop"): void {
    if (this.#refused) return;
    this.#refused = true;
    this.#seeder.emit("warning", new Error(`refused ${this.#label()}: ${reason}`));
    this.#link.send({ type: "notice", code: "refused", reason: truncateReason(reason) });
    // Declined (a proposal that was never funded): the connection stays if we buy from this peer on it.
    const end = how === "decline" && this.#link.decline ? this.#link.decline : this.#link.drop;
    setTimeout(() => end(reason), NOTICE_GRACE_MS).unref?.();
  }

  async #onPropose(message: Extract<PaidMessage, { type: "propose" }>): Promise<void> {
    const { client, asset, pricePerPiece, fundingTimeoutMs = DEFAULT_FUNDING_TIMEOUT_MS } = this.#seeder.options;
    if (message.asset.toLowerCase() !== asset.toLowerCase()) throw new Error("proposal in another asset");
    if (message.deposit < pricePerPiece) throw new Error("a deposit below the price of one piece");
    // Before anything is signed or written: a proposal costs its sender one signature and us a countersignature, a
    // row and a place in the funding poll.
    const full = this.#seeder.unfunded.take(this.#ip());
    if (full) {
      this.#refuse(full);
      return;
    }
    this.#holdsSlot = true;
    let acceptance: Awaited<ReturnType<PiecepayClient["join"]>>;
    try {
      const proposal: ChannelProposal = {
        chainId: message.chainId,
        adjudicator: message.adjudicator,
        fixedPart: message.fixedPart,
        funding: fundingState(message.fixedPart, message.asset, message.deposit, {
          payer: message.payerDestination,
          payee: message.payeeDestination,
        }),
        payerSignature: message.payerSignature,
      };
      acceptance = await client.join(proposal, { peer: this.#label(), assets: [asset] });
    } catch (error) {
      this.#releaseSlot();
      throw error;
    }
    const id = acceptance.channelId.toLowerCase();
    await tagChannel(client, id, { torrent: this.#seeder.torrent?.infoHash ?? "", pricePerPiece });
    if (this.#left) {
      this.#releaseSlot();
      await client.store.forgetUnfunded(id);
      return;
    }
    this.#channelId = id;
    this.#seeder.channels.hold(id, this);
    this.#payer = message.fixedPart.participants[0];
    this.#deposit = message.deposit;
    this.#stopFunding = new AbortController();
    // Seen at one confirmation when we serve a bounded credit before the deposit is final; otherwise at them all.
    const early = (this.#seeder.options.unconfirmedPieces ?? DEFAULT_UNCONFIRMED_PIECES) > 0;
    this.#fundingSeen = client
      .waitForFunding(id, {
        timeoutMs: fundingTimeoutMs,
        signal: this.#stopFunding.signal,
        ...(early ? { confirmations: 1 } : {}),
      })
      .then(() => this.#onFunded())
      .catch((error) => this.#onNotFunded(error));
    this.#link.send({ type: "accept", channelId: id, payeeSignature: acceptance.payeeSignature });
    this.#seeder.emit("peer", this.stats());
  }

  /**
   * A virtual channel through our hub: ours (the hub and the ledger we advertise), our payee and asset, holding at
   * least one piece with the hub's fee. We countersign V0 (HubConnection.joinVirtual checks both signatures, the fee
   * and the app), send it back (`vaccept`), and serve once the hub's guarantee in our ledger is countersigned
   * (`vready`): from then on we are paid from the hub's side of our ledger whatever the leecher or the hub does.
   */
  async #onVirtualPropose(message: Extract<PaidMessage, { type: "vpropose" }>): Promise<void> {
    const { client, asset, pricePerPiece, hub, fundingTimeoutMs = DEFAULT_FUNDING_TIMEOUT_MS } = this.#seeder.options;
    if (!hub) throw new Error("a virtual channel proposed to a seeder that takes no hub");
    const [payer, hubAddress, payee] = message.fixedPart.participants;
    if (hubAddress.toLowerCase() !== hub.connection.info.hub.toLowerCase())
      throw new Error("a virtual channel through another hub");
    if (message.payeeLedger.toLowerCase() !== hub.ledgerId.toLowerCase())
      throw new Error("a virtual channel on another ledger of ours");
    if (message.asset.toLowerCase() !== asset.toLowerCase()) throw new Error("proposal in another asset");
    const bound = maxVirtualVoucher(message.amount, hub.connection.info.feeBps);
    if (bound < pricePerPiece) throw new Error("a virtual channel below the price of one piece and the hub's fee");
    const full = this.#seeder.unfunded.take(this.#ip());
    if (full) {
      this.#refuse(full);
      return;
    }
    this.#holdsSlot = true;
    const proposal: VirtualProposal = {
      fixedPart: message.fixedPart,
      v0: {
        outcome: virtualChannelOutcome(message.asset, payer, hubAddress, payee, message.amount),
        appData: "0x",
        turnNum: 0n,
        isFinal: false,
      },
      payerSignature: message.payerSignature,
      hubSignature: message.hubSignature,
      payerLedger: message.payerLedger,
      payeeLedger: message.payeeLedger,
    };
    let payeeSignature: string;
    try {
      payeeSignature = await hub.connection.joinVirtual(proposal);
    } catch (error) {
      this.#releaseSlot();
      throw error;
    }
    const id = channelId(client.chainId, client.adjudicator.target as string, message.fixedPart).toLowerCase();
    if (this.#left) {
      this.#releaseSlot();
      return;
    }
    this.#virtual = true;
    this.#channelId = id;
    this.#seeder.channels.hold(id, this);
    this.#payer = payer;
    this.#deposit = bound;
    this.#stopFunding = new AbortController();
    this.#fundingSeen = hub.connection
      .waitForLedger(id, "guaranteed", { timeoutMs: fundingTimeoutMs, signal: this.#stopFunding.signal })
      .then(() => {
        if (this.#left) return;
        this.#link.send({ type: "vready", channelId: id });
        this.#onFunded();
      })
      .catch((error) => this.#onNotFunded(error));
    this.#link.send({ type: "vaccept", channelId: id, payeeSignature });
    this.#seeder.emit("peer", this.stats());
  }

  /**
   * The leecher's close of our virtual channel: at least what we delivered (or its largest voucher, if less), as
   * for a direct channel. We countersign the final state with the hub (HubConnection.acceptClose), send our signature
   * back (`vclosed`), and report once the hub has settled our ledger by it.
   */
  async #onVirtualClose(message: Extract<PaidMessage, { type: "vclose" }>): Promise<void> {
    const hub = this.#seeder.options.hub;
    const id = this.#channelId;
    if (!hub || !this.#virtual || !id || message.channelId !== id) throw new Error("a close for another channel");
    this.#closed = true; // before any await: a second close finds it set
    this.#link.wire.choke();
    if (!this.#isFunded) await this.#fundingSeen;
    if (!this.#isFunded) throw new Error("a close for a virtual channel that was never guaranteed");
    await this.#stored; // every voucher that arrived before the close counts
    const served = BigInt(this.#sent.size) * this.#seeder.options.pricePerPiece;
    const minimum = served < this.#paid ? served : this.#paid;
    const payeeSignature = await hub.connection.acceptClose(id, message.paid, message.signature, { minimum });
    this.#closedOnChain = true; // nothing to enforce: the hub holds the final state we all signed
    this.#link.send({ type: "vclosed", channelId: id, payeeSignature });
    await hub.connection.waitForLedger(id, "settled", { timeoutMs: 60_000 });
    this.#seeder.emit("closed", { ...this.stats(), earned: message.paid }, "");
  }

  /**
   * The leecher continues channel `voucher.channelId`, opened and funded earlier on another connection (it was
   * interrupted, or we were restarted): no new deposit. Its largest voucher must be the payer's (when it holds any
   * credit); we continue from the larger of it and ours, and count as served before only the pieces we sent on it
   * that the leecher still has (its bitfield): a piece lost in flight is served and counted again if asked for.
   */
  async #onResume(voucher: Voucher): Promise<void> {
    const { client, pricePerPiece } = this.#seeder.options;
    const torrent = this.#seeder.torrent;
    const id = voucher.channelId.toLowerCase();
    const record = await client.store.getChannel(id);
    const refusal = refuseResume(client, record, {
      torrent: torrent?.infoHash ?? "",
      pricePerPiece,
      payer: this.#handshakePayer,
    });
    if (refusal || !record || !torrent) {
      this.#refuse(`cannot continue channel ${id}: ${refusal ?? "no torrent"}`);
      return;
    }
    const payer = record.fixedPart.participants[0];
    const held = (await client.store.getVoucher("received", id))?.amount ?? 0n;
    if (voucher.amount > 0n) {
      verifyVoucher(voucher, { channelId: id, payer, deposited: record.deposited, best: 0n }); // the payer's, or throws
    } else if (held > 0n) {
      this.#refuse(`cannot continue channel ${id} without the payer's voucher`);
      return;
    }
    if (!this.#seeder.channels.hold(id, this)) {
      this.#refuse(`channel ${id} is in use on another connection`);
      return;
    }
    this.#seeder.continued(id);
    this.#resuming = true;
    this.#channelId = id;
    this.#payer = payer;
    this.#deposit = record.deposited;
    this.#isFunded = true;
    // The deposit's confirmations lift the unconfirmed cap, as on a new channel (it is usually final long since):
    // without this a continued channel served at most unconfirmedPieces, whatever its vouchers paid for.
    this.#followDeposit();
    // On disk before it counts; a voucher sent right after the resume is stored after it.
    if (voucher.amount > held) await this.#storeVoucher(voucher, () => undefined);
    this.#paid = (await client.store.getVoucher("received", id))?.amount ?? 0n;
    if (this.#left) return;
    // The leecher sends its bitfield once its own check of the files on disk is done, which is before its `resume`:
    // one that does not within RESUME_BITFIELD_MS holds the channel for nothing, and is dropped.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const seen = await Promise.race([
      this.#bitfieldSeen.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), RESUME_BITFIELD_MS);
      }),
    ]);
    clearTimeout(timer);
    if (this.#left) return;
    if (!seen) {
      this.#refuse(`no bitfield within ${RESUME_BITFIELD_MS / 1000} s of continuing channel ${id}`);
      return;
    }
    const peerPieces = this.#link.wire.peerPieces;
    // Counted against everything the vouchers paid for, not the unconfirmed cap: a piece served before is spent
    // credit whether or not the deposit is final yet.
    const kept = servedBefore(
      await this.#seeder.channels.takeSent(id),
      (index) => peerPieces.get(index),
      pieceCount(torrent),
      Number(this.#paid / pricePerPiece),
    );
    for (const index of kept) {
      this.#sent.add(index);
      this.#admitted.add(index);
    }
    this.#resuming = false;
    this.#link.send({ type: "resumed", channelId: id, amount: this.#paid, served: BigInt(kept.size) });
    this.#seeder.emit("peer", this.stats());
    if (this.#mayServeMore()) this.#link.wire.unchoke();
  }

  #ip(): string {
    return peerIp(this.#link.wire);
  }

  #releaseSlot(): void {
    if (!this.#holdsSlot) return;
    this.#holdsSlot = false;
    this.#seeder.unfunded.release(this.#ip());
  }

  #onFunded(): void {
    this.#isFunded = true;
    this.#stopFunding = undefined;
    this.#releaseSlot();
    this.#followDeposit();
    const pending = this.#pending;
    this.#pending = undefined;
    if (!pending || this.#left) return;
    try {
      this.#credit(pending);
    } catch (error) {
      this.onProtocolError(error as Error);
    }
  }

  /**
   * Follows the deposit to its confirmations: then the whole credit counts. If the holdings drop first (a re-org took
   * the deposit), stops serving and drops the peer: what we served meanwhile is our loss, at most unconfirmedPieces.
   */
  #followDeposit(): void {
    const id = this.#channelId;
    const { client } = this.#seeder.options;
    // A virtual channel has no deposit to follow: the hub's guarantee is in a ledger funded and final long since.
    if (!id || client.confirmations <= 1 || this.#virtual) {
      this.#isFinal = true;
      return;
    }
    if (this.#left) return; // nobody left to serve
    this.#stopFollowing = new AbortController();
    client
      .followDeposit(id, { signal: this.#stopFollowing.signal })
      .then((how) => {
        if (how !== "final" || this.#left) return;
        this.#isFinal = true;
        if (this.#mayServeMore()) this.#link.wire.unchoke();
      })
      .catch((error) => {
        if ((error as { code?: unknown }).code !== "DEPOSIT_REMOVED") return; // the peer left: nothing to follow
        this.#depositRemoved = true;
        this.#link.wire.choke();
        this.#seeder.emit("deposit-removed", this.stats());
        if (!this.#left) this.#refuse(`the deposit of channel ${id} left the chain (a re-org): stopped serving`);
      });
  }

  /** Never funded (timed out) or no longer awaited (the peer left): the proposal leaves no row and no slot behind. */
  #onNotFunded(error: Error): void {
    this.#stopFunding = undefined;
    this.#releaseSlot();
    if (this.#channelId) {
      void this.#seeder.options.client.store
        .forgetUnfunded(this.#channelId)
        .catch((failure) => this.#seeder.emit("warning", failure));
    }
    if (!this.#left) this.#refuse(`channel not funded: ${error.message}`, "decline");
  }

  /**
   * A voucher before the funding is seen: checked in full at once (our channel, the payer's signature, within the
   * deposit), so a bad one costs no RPC, and kept only if above the one already waiting. It asks the funding poll
   * to look early (coalesced in the SDK: at most one early look per polling interval).
   */
  #hold(voucher: Voucher): void {
    if (!this.#channelId || !this.#payer) throw new Error("a voucher before a channel");
    const { delta } = verifyVoucher(voucher, {
      channelId: this.#channelId,
      payer: this.#payer,
      deposited: this.#deposit,
      best: this.#pending?.amount ?? 0n,
    });
    if (delta === 0n) throw new Error("a voucher not above the one waiting for funding");
    this.#pending = voucher;
    this.#seeder.options.client.checkFundingNow(this.#channelId);
  }

  /**
   * A voucher on a funded channel: stored (on disk) before it counts, before its receipt and before any request it
   * pays for is served. Vouchers are stored one at a time, in the order they arrived.
   */
  #credit(voucher: Voucher): void {
    const id = this.#channelId;
    if (!id || voucher.channelId.toLowerCase() !== id) throw new Error("a voucher for another channel");
    void this.#storeVoucher(voucher, (delta) => {
      if (delta === 0n) throw new Error("a replayed or older voucher");
      if (this.#left) return;
      this.#link.send({ type: "receipt", channelId: id, amount: voucher.amount });
      this.#seeder.emit("paid", this.stats());
      if (this.#mayServeMore()) this.#link.wire.unchoke();
    }).catch((error) => this.onProtocolError(error));
  }

  /** Vouchers of this peer being stored, one after another (see #storeVoucher). */
  #stored: Promise<unknown> = Promise.resolve();
  /** How many vouchers are on their way to disk: while any is, a request beyond the credit waits for them. */
  #storing = 0;
  /** Requests beyond the credit that arrived while a voucher was being stored, in arrival order. */
  #waiting: { index: number; offset: number; length: number; serve: () => void }[] = [];

  /**
   * Stores `voucher` (client.receive: checked, and on disk) after every voucher of this peer before it, raises the
   * credit by what it adds, then runs `then` with that. The requests that waited are decided again afterwards.
   */
  #storeVoucher(voucher: Voucher, then: (delta: bigint) => void): Promise<void> {
    this.#storing++;
    const done = this.#stored.then(async () => {
      try {
        const { delta } = await this.#seeder.options.client.receive(voucher);
        if (delta > 0n && voucher.amount > this.#paid) this.#paid = voucher.amount;
        then(delta);
      } finally {
        this.#storing--;
        this.#decideWaiting();
      }
    });
    this.#stored = done.catch(() => undefined);
    return done;
  }

  /** Puts the requests that waited for a voucher through the request filter again, in their order. */
  #decideWaiting(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    if (this.#left) return;
    for (const request of waiting) {
      if (this.#requestFilter(request.index, request.offset, request.length, request.serve)) request.serve();
    }
  }

  async #onClose(message: Extract<PaidMessage, { type: "close" }>): Promise<void> {
    if (!this.#channelId || message.channelId !== this.#channelId) throw new Error("a close for another channel");
    if (this.#virtual) throw new Error("a direct close of a virtual channel (that is `vclose`)");
    this.#closed = true; // before any await: a second close finds it set
    this.#link.wire.choke();
    // A leecher that funded and closed at once (its download finished meanwhile) may be ahead of our funding poll:
    // its close waits for the funding rather than leave the deposit locked in an open channel.
    if (!this.#isFunded) {
      this.#seeder.options.client.checkFundingNow(this.#channelId);
      await this.#fundingSeen;
    }
    if (!this.#isFunded) throw new Error("a close for a channel that was never funded");
    await this.#stored; // every voucher that arrived before the close counts
    const { client, pricePerPiece } = this.#seeder.options;
    const record = await client.store.getChannel(this.#channelId);
    const base = await client.store.getSupportedState(this.#channelId);
    if (!record || !base) throw new Error("a close for a channel we do not hold");
    const offer = {
      channelId: this.#channelId,
      final: {
        outcome: splitOutcome(base.variablePart, message.paid),
        appData: "0x",
        turnNum: message.turnNum,
        isFinal: true,
      },
      signature: message.signature,
    };
    // What we delivered is what we are owed, even if the leecher paid further ahead.
    const served = BigInt(this.#sent.size) * pricePerPiece;
    const minimum = served < this.#paid ? served : this.#paid;
    if (!(await client.canPayGas())) {
      // No ETH for gas: we countersign the leecher's final state and send it back in a `close`; the leecher, who
      // holds both signatures then, submits the close and tells us its hash (`notice closed`).
      const counter = await client.countersign(offer, { minimum });
      this.#awaitingClose = true;
      this.#link.send({
        type: "close",
        channelId: this.#channelId,
        turnNum: message.turnNum,
        paid: message.paid,
        signature: counter.signature,
      });
      this.#seeder.emit("countersigned", this.stats());
      return;
    }
    const receipt = await client.close(offer, { minimum });
    this.#closedOnChain = true;
    this.#link.send({ type: "notice", code: "closed", reason: receipt.hash });
    this.#seeder.emit("closed", await this.#settledStats(), receipt.hash);
  }

  /** We countersigned the leecher's close (no gas of ours) and wait for its `notice closed`. */
  #awaitingClose = false;

  /** The leecher says it submitted the close we countersigned: the chain says whether the channel is settled. */
  async #onLeecherClosed(hash: string): Promise<void> {
    const id = this.#channelId;
    if (!id) return;
    const { client } = this.#seeder.options;
    const onChain = await client.onChain(id);
    if (!onChain.finalized || onChain.holdings !== 0n) {
      throw new Error(`the leecher says channel ${id} closed, but the chain does not`);
    }
    this.#closedOnChain = true;
    await client.store.setPhase(id, "withdrawn");
    this.#seeder.emit("closed", await this.#settledStats(), hash);
  }

  /** Our stats with what the chain paid us for this channel, read from its payout events. */
  async #settledStats(): Promise<SeederPeerStats> {
    const id = this.#channelId;
    const stats = this.stats();
    if (!id) return stats;
    return { ...stats, earned: (await this.#seeder.options.client.settlement(id)).toUs };
  }

  /** The peer is gone: stop its funding wait, forget it, and enforce its latest voucher if it left without closing. */
  #onLeave(): void {
    if (this.#left) return;
    this.#left = true;
    this.#stopFunding?.abort();
    this.#stopFollowing?.abort();
    if (!this.#stopFunding) this.#releaseSlot(); // a proposal refused or mid-join: no funding wait to end
    const id = this.#channelId;
    if (id) {
      void this.#seeder.channels.release(id, this, this.#sent);
    }
    // Vouchers that arrived before the peer left are stored first: they count in its figures and its enforcement.
    void this.#stored.then(() => {
      const stats = this.stats();
      this.#seeder.forget(this, this.#isFunded ? stats : undefined);
      // A deposit a re-org removed leaves nothing to enforce: a challenge would cost gas and pay nothing.
      if (!id || this.#closedOnChain || this.#paid === 0n || this.#depositRemoved) return;
      // The leecher left without closing, or its close offered less than we served (refused): give it a moment,
      // then enforce its latest voucher alone. A close still being sent is not undone: enforcement waits for a
      // channel still open in the store.
      this.#seeder.enforceLater(id, stats);
    });
  }
}
