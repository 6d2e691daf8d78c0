// A piecepay peer names what it runs in its peer id, Azureus style (BEP 20): "-PW" a web page, "-PN" Node, then a
// version. A WebRTC connection does not say whether the other end is a browser or a Node process; the page shows it.
const VERSION = "0100";
const BROWSER = `-PW${VERSION}-`;
const NODE = `-PN${VERSION}-`;

/** What runs at the other end of a connection, as its peer id says. */
export type PeerAgent = "browser" | "Node" | "webtorrent" | "other";

/** A fresh 20-byte peer id (hex) naming this runtime: a page when there is a `document`, else Node. */
export function piecepayPeerId(): string {
  const prefix = typeof document === "undefined" ? NODE : BROWSER;
  const random = crypto.getRandomValues(new Uint8Array(20 - prefix.length));
  return [...new TextEncoder().encode(prefix), ...random].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The agent a peer id (hex, as webtorrent's `wire.peerId`) names. */
export function peerAgent(peerIdHex: string | undefined): PeerAgent {
  if (peerIdHex === undefined || peerIdHex.length < 16) return "other";
  const prefix = String.fromCharCode(...(peerIdHex.slice(0, 6).match(/../g) ?? []).map((h) => Number.parseInt(h, 16)));
  if (prefix === "-PW") return "browser";
  if (prefix === "-PN") return "Node";
  if (prefix === "-WW") return "webtorrent";
  return "other";
}
