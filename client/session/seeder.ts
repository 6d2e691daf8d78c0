// The paid seeder: it serves a peer only what the peer has paid for. Each leecher opens a voucher channel to us;
// every voucher is verified and on disk before we acknowledge it (a receipt) and before it counts as credit; a
// request for a piece is served only while the credit covers it, otherwise the peer stays choked. When the leecher
// leaves, we close cooperatively if it asks; if it vanishes, we enforce its latest voucher on chain.
import { EventEmitter } from "node:events";
import type { Wire } from "bittorrent-protocol";
import type { Torrent } from "webtorrent";
import { type ChannelProposal, fundingState, type PiecepayClient, splitOutcome } from "../../sdk/index.js";
import type { PaidHandshake, PaidMessage } from "../wire/messages.js";
import { handshakeFor, type PeerLink, type PeerSession, paidExtension, sendWithoutDelay } from "./extension.js";

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
}

/**
 * Makes a webtorrent torrent a paid one on the seeding side: call `attach(torrent)` before peers connect.
 * Events: 'peer' (stats), 'paid' (stats), 'closed' (stats, tx hash), 'enforced' (stats, tx hash), 'warning' (Error).
 * @example new PaidSeeder({ client, pricePerPiece: 10n ** 12n, asset: ZeroAddress }).attach(torrent)
 */
export class PaidSeeder extends EventEmitter {
  readonly options: PaidSeederOptions;
  readonly peers = new Set<SeederPeer>();
  torrent: Torrent | undefined;

  constructor(options: PaidSeederOptions) {
    super();
    this.options = options;
  }

  attach(torrent: Torrent): void {
    this.torrent = torrent;
    const ours = handshakeFor(this.options.client, {
      offer: {
        payee: this.options.client.address,
        asset: this.options.asset,
        pricePerPiece: this.options.pricePerPiece,
      },
    });
    torrent.on("wire", (wire: Wire) => {
      sendWithoutDelay(torrent, wire);
      wire.use(
        paidExtension(ours, (link) => {
          const peer = new SeederPeer(this, link);
          this.peers.add(peer);
          return peer;
        }),
      );
    });
  }

  readonly #timers = new Set<NodeJS.Timeout>();

  /** Stops every pending enforcement timer (the channels stay in the store; `resume` after a restart picks them up). */
  destroy(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /**
   * After a restart: enforces every open channel of ours in the store that holds a voucher. Its leecher left
   * before the restart (a returning leecher opens a new channel, so nobody will close the old one cooperatively).
   * Channels already challenged are the watcher's (it answers and pays out).
   * @example seeder.attach(torrent); seeder.resume()
   */
  resume(): void {
    const { client } = this.options;
    const adjudicator = (client.adjudicator.target as string).toLowerCase();
    for (const record of client.store.listChannels()) {
      if (record.myIndex !== 1 || record.phase !== "open" || record.chainId !== client.chainId) continue;
      if (record.adjudicator.toLowerCase() !== adjudicator) continue;
      const voucher = client.store.getVoucher("received", record.id);
      if (!voucher) continue;
      this.enforceLater(record.id, () => ({
        channelId: record.id,
        peer: record.peer ?? "",
        paid: voucher.amount,
        served: 0,
        closed: false,
      }));
    }
  }

  /** After `enforceAfterMs`, unless the channel closed meanwhile: challenge with its latest voucher, wait, pay out. */
  enforceLater(id: string, stats: () => SeederPeerStats): void {
    const { client, enforce = true, enforceAfterMs = 30_000, waitFor } = this.options;
    if (!enforce) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      try {
        if (client.store.getChannel(id)?.phase !== "open") return;
        client
          .redeem(id, { waitFor })
          .then((receipt) => this.emit("enforced", stats(), receipt.hash))
          .catch((error) => this.emit("warning", error));
      } catch (error) {
        this.emit("warning", error);
      }
    }, enforceAfterMs);
    timer.unref?.();
    this.#timers.add(timer);
  }

  /** Totals over every peer. */
  stats(): { paid: bigint; served: number; peers: SeederPeerStats[] } {
    const peers = [...this.peers].map((p) => p.stats());
    return { paid: peers.reduce((a, p) => a + p.paid, 0n), served: peers.reduce((a, p) => a + p.served, 0), peers };
  }
}

/** The largest block a peer may request (BitTorrent's own limit; webtorrent drops a peer that asks for more). */
const MAX_REQUEST_BYTES = 128 * 1024;

class SeederPeer implements PeerSession {
  readonly #seeder: PaidSeeder;
  readonly #link: PeerLink;
  #channelId: string | undefined;
  #funded: Promise<void> | undefined;
  #isFunded = false;
  #paid = 0n;
  /** Pieces this peer may request (each one paid for); a subset of them was actually sent. */
  readonly #admitted = new Set<number>();
  /** Pieces of which we sent this peer at least one block: what we are owed for. */
  readonly #sent = new Set<number>();
  #closed = false;
  #left = false;

  constructor(seeder: PaidSeeder, link: PeerLink) {
    this.#seeder = seeder;
    this.#link = link;
    this.#gate(link.wire);
    link.wire.once("close", () => this.#onLeave());
  }

  stats(): SeederPeerStats {
    const wire = this.#link.wire;
    return {
      channelId: this.#channelId,
      peer: `${wire.remoteAddress}:${wire.remotePort}`,
      paid: this.#paid,
      served: this.#sent.size,
      closed: this.#closed,
    };
  }

  /** Pieces the credit covers: floor(paid / price). */
  #paidPieces(): number {
    return Number(this.#paid / this.#seeder.options.pricePerPiece);
  }

  #mayServeMore(): boolean {
    return !this.#closed && this.#paidPieces() > this.#admitted.size;
  }

  /**
   * Wraps the wire so that webtorrent cannot serve this peer more than it paid for: `unchoke` only while the credit
   * covers another piece, and a request for a piece not covered is not served (rejected under BEP 6) and chokes.
   */
  #gate(wire: Wire): void {
    const unchoke = wire.unchoke.bind(wire);
    wire.unchoke = () => {
      if (this.#mayServeMore()) unchoke();
    };
    const choke = wire.choke.bind(wire);
    wire.choke = () => {
      choke();
      // A choke drops the requests we had not answered: the pieces of which we sent nothing give their credit
      // back, or the leecher, which counts them as not served, would find its credit short of what it paid for.
      for (const index of this.#admitted) if (!this.#sent.has(index)) this.#admitted.delete(index);
    };
    const piece = wire.piece.bind(wire);
    wire.piece = (index: number, offset: number, buffer: Uint8Array) => {
      this.#sent.add(index);
      piece(index, offset, buffer);
    };
    const onRequest = wire._onRequest.bind(wire);
    wire._onRequest = (index: number, offset: number, length: number) => {
      // A request still buffered when the torrent was destroyed: webtorrent would read its closed store and throw.
      if (this.#seeder.torrent?.destroyed) return;
      // A request outside the torrent or over 128 KiB is checked before any credit: whether the peer paid or not,
      // it is dropped, and nothing is admitted, served or charged for it.
      const invalid = this.#invalidRequest(index, offset, length);
      if (invalid) {
        this.onProtocolError(new Error(invalid));
        return;
      }
      if (!this.#admitted.has(index)) {
        if (this.#closed || this.#paidPieces() <= this.#admitted.size) {
          if (wire.hasFast) wire.reject(index, offset, length);
          wire.choke();
          return;
        }
        this.#admitted.add(index);
      }
      onRequest(index, offset, length);
    };
  }

  /** Why a request is not one for a block of this torrent, if it is not. */
  #invalidRequest(index: number, offset: number, length: number): string | undefined {
    const torrent = this.#seeder.torrent;
    const count = torrent?.pieces?.length;
    if (!torrent || !count) return undefined; // no metadata yet: webtorrent serves nothing anyway
    // bittorrent-protocol reads these uint32 fields as int32: 2^31 and above arrive negative.
    if (index < 0 || index >= count) return `a request for piece ${index >>> 0} of a torrent of ${count} pieces`;
    if (length <= 0 || length > MAX_REQUEST_BYTES) return `a request of ${length >>> 0} bytes`;
    const size = index === count - 1 ? torrent.lastPieceLength : torrent.pieceLength;
    if (offset < 0 || offset + length > size) {
      return `a request past the end of piece ${index} (${offset >>> 0} + ${length} > ${size})`;
    }
    return undefined;
  }

  onHandshake(handshake: PaidHandshake | undefined): void {
    // A plain peer, or one that will not pay, stays choked: it gets nothing from a paid seeder.
    if (!handshake?.payer) return;
    const ours = this.#seeder.options.client;
    if (handshake.chainId !== ours.chainId) this.#link.drop(`peer is on chain ${handshake.chainId}`);
  }

  onMessage(message: PaidMessage): void {
    switch (message.type) {
      case "propose":
        void this.#onPropose(message).catch((error) => this.onProtocolError(error));
        return;
      case "voucher":
        // Once funded, a voucher is credited synchronously: a request sent right after it on the same connection
        // must find the credit there.
        if (this.#isFunded) this.#credit(message.voucher);
        else void this.#onVoucher(message.voucher).catch((error) => this.onProtocolError(error));
        return;
      case "close":
        void this.#onClose(message).catch((error) => this.onProtocolError(error));
        return;
      case "notice":
        return;
      default:
        this.onProtocolError(new Error(`unexpected ${message.type} message from a leecher`));
    }
  }

  onProtocolError(error: Error): void {
    this.#seeder.emit("warning", error);
    this.#link.drop(error.message);
  }

  async #onPropose(message: Extract<PaidMessage, { type: "propose" }>): Promise<void> {
    if (this.#channelId) throw new Error("a second channel proposal on one connection");
    const { client, asset, pricePerPiece } = this.#seeder.options;
    if (message.asset.toLowerCase() !== asset.toLowerCase()) throw new Error("proposal in another asset");
    if (message.deposit < pricePerPiece) throw new Error("a deposit below the price of one piece");
    const proposal: ChannelProposal = {
      chainId: message.chainId,
      adjudicator: message.adjudicator,
      fixedPart: message.fixedPart,
      funding: fundingState(message.fixedPart, message.asset, message.deposit),
      payerSignature: message.payerSignature,
    };
    const wire = this.#link.wire;
    const acceptance = await client.join(proposal, {
      peer: `${wire.remoteAddress}:${wire.remotePort}`,
      assets: [asset],
    });
    this.#channelId = acceptance.channelId;
    this.#funded = client.waitForFunding(acceptance.channelId, { timeoutMs: 120_000 }).then(() => {
      this.#isFunded = true;
    });
    this.#funded.catch(() => undefined);
    this.#link.send({ type: "accept", channelId: acceptance.channelId, payeeSignature: acceptance.payeeSignature });
    this.#seeder.emit("peer", this.stats());
  }

  async #onVoucher(voucher: Extract<PaidMessage, { type: "voucher" }>["voucher"]): Promise<void> {
    if (!this.#channelId || !this.#funded) throw new Error("a voucher before a channel");
    // The leecher pays only once its deposit is mined: look at the chain now rather than at the next poll.
    this.#seeder.options.client.checkFundingNow(this.#channelId);
    if (voucher.channelId.toLowerCase() !== this.#channelId) throw new Error("a voucher for another channel");
    await this.#funded;
    this.#credit(voucher);
  }

  #credit(voucher: Extract<PaidMessage, { type: "voucher" }>["voucher"]): void {
    if (!this.#channelId || voucher.channelId.toLowerCase() !== this.#channelId)
      throw new Error("a voucher for another channel");
    const { delta } = this.#seeder.options.client.receive(voucher); // on disk before the receipt
    if (delta === 0n) throw new Error("a replayed or older voucher");
    this.#paid = voucher.amount;
    this.#link.send({ type: "receipt", channelId: this.#channelId, amount: voucher.amount });
    this.#seeder.emit("paid", this.stats());
    if (this.#mayServeMore()) this.#link.wire.unchoke();
  }

  async #onClose(message: Extract<PaidMessage, { type: "close" }>): Promise<void> {
    if (!this.#channelId || message.channelId !== this.#channelId) throw new Error("a close for another channel");
    const { client, pricePerPiece } = this.#seeder.options;
    const record = client.store.getChannel(this.#channelId);
    const base = client.store.getSupportedState(this.#channelId);
    if (!record || !base) throw new Error("a close for a channel we do not hold");
    this.#closed = true;
    this.#link.wire.choke();
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
    const receipt = await client.close(offer, { minimum });
    this.#link.send({ type: "notice", code: "closed", reason: receipt.hash });
    this.#seeder.emit("closed", this.stats(), receipt.hash);
  }

  #onLeave(): void {
    if (this.#left) return;
    this.#left = true;
    const id = this.#channelId;
    if (!id || this.#closed || this.#paid === 0n) return;
    // The leecher left without closing: give it a moment, then enforce its latest voucher alone.
    this.#seeder.enforceLater(id, () => this.stats());
  }
}
