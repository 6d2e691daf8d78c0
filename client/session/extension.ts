// The BEP 10 extension object that bittorrent-protocol instantiates per wire (`wire.use(...)`). It only moves bytes:
// it decodes what arrives and hands values to a session; anything malformed becomes a 'warning' on the wire's
// torrent side and the peer is dropped. The client never throws on peer input.
import type { Wire } from "bittorrent-protocol";
import { hexlify } from "ethers";
import type { Torrent } from "webtorrent";
import type { PiecepayClient } from "../../sdk/index.js";
import { decodeMessage, encodeMessage } from "../wire/codec.js";
import { decodeHandshake, encodeHandshake } from "../wire/handshake.js";
import { EXTENSION_NAME, type PaidHandshake, type PaidMessage, PROTOCOL_VERSION } from "../wire/messages.js";
import { advertiseInHandshake, setNoDelay } from "./webtorrent-internals.js";

/** webtorrent settings for peers that meet only by address (tests, the demo, benchmarks): no DHT, tracker or LSD. */
export const LOOPBACK_ONLY = {
  dht: false,
  tracker: false,
  lsd: false,
  utp: false,
  webSeeds: false,
  natUpnp: false,
  natPmp: false,
} as const;

/**
 * Sends a paid wire's messages at once: turns off Nagle's algorithm on its TCP socket. Payment is a conversation of
 * small messages (a voucher, then an unchoke, a request, a receipt), and with Nagle each waited for the peer's
 * delayed ACK, about 40 ms a hop on Linux: 130 ms from a voucher to its first piece, measured. Plain webtorrent
 * does not set it. A wire over another transport (uTP, WebRTC) has no such socket and is left as it is.
 */
export function sendWithoutDelay(torrent: Torrent, wire: Wire): void {
  setNoDelay(torrent, wire);
}

/** What we advertise in the extended handshake: our chain and adjudicator, and our role (an offer, or a payer). */
export function handshakeFor(client: PiecepayClient, role: Pick<PaidHandshake, "offer" | "payer">): PaidHandshake {
  return {
    version: PROTOCOL_VERSION,
    chainId: client.chainId,
    adjudicator: client.adjudicator.target as string,
    ...role,
  };
}

/** What a session implements to receive a peer's handshake and messages. */
export interface PeerSession {
  onHandshake(handshake: PaidHandshake | undefined): void;
  onMessage(message: PaidMessage): void;
  /** Peer input that could not be decoded or that the session refuses: the peer is dropped. */
  onProtocolError(error: Error): void;
}

/** The channel to a peer that a session sends through. */
export interface PeerLink {
  send(message: PaidMessage): void;
  drop(reason: string): void;
  /** We will not buy from this peer (too dear, no budget, nothing left to buy): `drop` unless the link says otherwise. */
  decline?(reason: string): void;
  readonly wire: Wire;
}

/**
 * Builds the extension class for one wire: `wire.use(paidExtension(ours, makeSession))`.
 * `makeSession` receives the link to send through and returns the session that handles what arrives.
 */
export function paidExtension(ours: PaidHandshake, makeSession: (link: PeerLink) => PeerSession) {
  class PiecepayExtension {
    readonly name = EXTENSION_NAME;
    readonly #wire: Wire;
    readonly #session: PeerSession;
    #peerSupports = false;
    /** The paid entry of the peer's first extended handshake (hex, or "undefined" for a plain peer). */
    #terms: string | undefined;

    constructor(wire: Wire) {
      this.#wire = wire;
      advertiseInHandshake(wire, EXTENSION_NAME, encodeHandshake(ours));
      const link: PeerLink = {
        wire,
        send: (message) => {
          if (!this.#peerSupports || wire.destroyed) return;
          wire.extended(EXTENSION_NAME, encodeMessage(message));
        },
        drop: (reason) => {
          if (!wire.destroyed) wire.destroy(new Error(`piecepay: ${reason}`) as never);
        },
      };
      this.#session = makeSession(link);
    }

    onExtendedHandshake(handshake: Record<string, unknown>): void {
      // BEP 10 lets a peer send its extended handshake again, and bittorrent-protocol hands each one to us. The first
      // one's terms (price, payee, payer, chain) hold for the connection: a peer that sends other terms later (a
      // seeder raising its price once the channel is open) is dropped; the same terms again change nothing.
      const entry = handshake?.[EXTENSION_NAME];
      const terms = entry instanceof Uint8Array ? hexlify(entry) : String(entry);
      if (this.#terms !== undefined) {
        if (terms !== this.#terms) {
          this.#session.onProtocolError(new Error("the peer changed its paid handshake mid-connection"));
        }
        return;
      }
      this.#terms = terms;
      const value = handshake?.m && (handshake.m as Record<string, unknown>)[EXTENSION_NAME] !== undefined;
      this.#peerSupports = Boolean(value);
      if (!value || entry === undefined) {
        this.#session.onHandshake(undefined); // a plain BitTorrent peer
        return;
      }
      let decoded: PaidHandshake;
      try {
        decoded = decodeHandshake(handshake[EXTENSION_NAME]);
      } catch (error) {
        this.#session.onProtocolError(error as Error);
        return;
      }
      this.#session.onHandshake(decoded);
    }

    onMessage(buffer: Uint8Array): void {
      let message: PaidMessage;
      try {
        message = decodeMessage(buffer);
      } catch (error) {
        this.#session.onProtocolError(error as Error);
        return;
      }
      try {
        this.#session.onMessage(message);
      } catch (error) {
        this.#session.onProtocolError(error as Error);
      }
    }

    get wire(): Wire {
      return this.#wire;
    }
  }
  (PiecepayExtension.prototype as unknown as { name: string }).name = EXTENSION_NAME;
  return PiecepayExtension;
}
