// One connection with a peer that we may buy from and sell to at once: a downloader that resells the pieces it has
// verified. The wire keeps one piecepay extension; its handshake carries both our offer and our payer address, and
// what arrives is routed to the role it belongs to (client/wire/PROTOCOL.md, "Both directions on one connection"):
// - the seller role gets `propose`, `voucher`, `resume`, and a `close` of the channel the peer pays us on;
// - the buyer role gets `accept`, `receipt`, `resumed`, and a `close` of the channel we pay the peer on (a seller
//   with no gas sends our close back countersigned);
// - a `notice` goes to both: each acts only on the one it waits for (a buyer on `closed` after its close offer, on
//   `refused` after its resume, on `bye`; a seller on `closed` after it countersigned), and a seller that is told a
//   channel closed checks the chain before it believes it.
import type { PaidHandshake, PaidMessage } from "../wire/messages.js";
import type { PeerLink, PeerSession } from "./extension.js";

/** One role's session on a connection (PaidSeeder.session, or a PaidLeecher's peer): its channel, once it has one. */
export interface RoleSession extends PeerSession {
  readonly channelId: string | undefined;
}

/**
 * The link each role sends through. A role's `decline` closes the connection only when the other role has no use
 * for it: the buyer's (it will not buy from this peer: too dear, no budget left, nothing left to buy) when the peer
 * does not buy from us, the seller's (a proposal never funded) when we hold no channel to buy from the peer. A
 * protocol error from either role, or a ban, closes it whatever the other role does.
 */
export function roleLinks(
  link: PeerLink,
  uses: { peerBuys: () => boolean; weBuy: () => boolean },
): { buyer: PeerLink; seller: PeerLink } {
  const role = (otherUses: () => boolean): PeerLink => ({
    wire: link.wire,
    send: (message) => link.send(message),
    drop: (reason) => link.drop(reason),
    decline: (reason) => {
      if (!otherUses()) link.drop(reason);
    },
  });
  return { buyer: role(uses.peerBuys), seller: role(uses.weBuy) };
}

/** Routes one connection's messages between a buyer role and a seller role (see the top of this file). */
export class TradingSession implements PeerSession {
  readonly #buyer: RoleSession;
  readonly #seller: RoleSession;
  /** The peer's handshake named a payer: it may buy from us, so the connection outlives our buying. */
  peerBuys = false;

  constructor(buyer: RoleSession, seller: RoleSession) {
    this.#buyer = buyer;
    this.#seller = seller;
  }

  onHandshake(handshake: PaidHandshake | undefined): void {
    this.peerBuys = handshake?.payer !== undefined;
    this.#seller.onHandshake(handshake);
    this.#buyer.onHandshake(handshake);
  }

  onMessage(message: PaidMessage): void {
    switch (message.type) {
      case "propose":
      case "vpropose":
      case "voucher":
      case "resume":
      case "vclose":
        this.#seller.onMessage(message);
        return;
      case "accept":
      case "vaccept":
      case "vready":
      case "vclosed":
      case "receipt":
      case "resumed":
        this.#buyer.onMessage(message);
        return;
      case "close": {
        // Our buying channel's close comes back only countersigned; any other close is the peer closing what it pays.
        const buying = this.#buyer.channelId;
        if (buying !== undefined && message.channelId.toLowerCase() === buying.toLowerCase()) {
          this.#buyer.onMessage(message);
        } else this.#seller.onMessage(message);
        return;
      }
      case "notice":
        this.#buyer.onMessage(message);
        this.#seller.onMessage(message);
        return;
      default:
        this.onProtocolError(new Error(`unexpected ${(message as { type: string }).type} message`));
    }
  }

  onProtocolError(error: Error): void {
    this.#buyer.onProtocolError(error);
  }
}
