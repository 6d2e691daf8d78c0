// Hears the paid seeders of a torrent without paying any: a free download (`piecepay get` without payment flags,
// or without a key) registers the extension so that each seeder's extended handshake reaches us, and names every
// seeder that asks to be paid. It advertises no `piecepay` entry of its own, so a paid seeder treats us as a plain
// BitTorrent peer: nothing is proposed, signed or paid, and it sends us nothing.
import type { Wire } from "bittorrent-protocol";
import type { Torrent } from "webtorrent";
import { decodeHandshake } from "../wire/handshake.js";
import { EXTENSION_NAME, type PaidHandshake } from "../wire/messages.js";
import { peerAddress } from "./webtorrent-internals.js";

/** A seeder that asks to be paid, as its handshake says. */
export interface HeardOffer {
  /** Its address as webtorrent sees it (`host:port`). */
  peer: string;
  offer: NonNullable<PaidHandshake["offer"]>;
}

/** Calls `onOffer` once for each connection whose peer's handshake carries a paid offer. */
export function listenForOffers(torrent: Torrent, onOffer: (heard: HeardOffer) => void): void {
  torrent.on("wire", (wire: Wire) => {
    class OfferListener {
      readonly name = EXTENSION_NAME;
      #heard = false;

      onExtendedHandshake(handshake: Record<string, unknown>): void {
        if (this.#heard || handshake?.[EXTENSION_NAME] === undefined) return;
        this.#heard = true;
        let theirs: PaidHandshake;
        try {
          theirs = decodeHandshake(handshake[EXTENSION_NAME]);
        } catch {
          return; // we pay nobody: a malformed entry changes nothing for us
        }
        if (theirs.offer !== undefined) onOffer({ peer: peerAddress(wire), offer: theirs.offer });
      }

      onMessage(): void {
        // A seeder has nothing to say to a plain peer; whatever arrives is ignored.
      }
    }
    (OfferListener.prototype as unknown as { name: string }).name = EXTENSION_NAME;
    wire.use(OfferListener as never);
  });
}
