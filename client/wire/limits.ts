// The limits the wire guard (guard.ts) puts on every peer, with their defaults. Each is documented in
// client/wire/GUARD.md with the reason for its value; the CLI exposes those a user may need to change.

/** Resource limits on peer connections (all peers of one webtorrent client share the totals). */
export interface WireLimits {
  /** Connections at once, incoming and outgoing, over all torrents. */
  maxConnections: number;
  /** Connections at once from (or to) one IP address. */
  maxConnectionsPerIp: number;
  /** Bytes held in incomplete messages over all connections; past it the connection that asked for more is dropped. */
  maxBufferedBytes: number;
  /** A peer that starts a message must finish it within this time (defeats a trickle that keeps a buffer open). */
  messageTimeoutMs: number;
  /** A peer that sends no complete message (keep-alives count) for this long is dropped. */
  idleTimeoutMs: number;
  /** Requests a peer may have outstanding with us (bittorrent-protocol keeps each until it is served). */
  maxPeerRequests: number;
  /** Pieces a torrent may have; before a magnet's metadata arrives this bounds `have` and `bitfield`. */
  maxPieces: number;
}

export const DEFAULT_WIRE_LIMITS: Readonly<WireLimits> = Object.freeze({
  maxConnections: 200,
  maxConnectionsPerIp: 16,
  maxBufferedBytes: 32 * 1024 * 1024,
  messageTimeoutMs: 30_000,
  idleTimeoutMs: 180_000,
  maxPeerRequests: 512,
  maxPieces: 1 << 20,
});

/**
 * Payload caps by message, in bytes after the 4-byte length (the id byte included). A length above its cap is
 * refused from the first 5 bytes of the message, before any of it is buffered.
 */
export const MESSAGE_CAPS = Object.freeze({
  /** BitTorrent's block: webtorrent asks for 16 KiB blocks and never more. */
  block: 16 * 1024,
  /** The largest request we serve (BitTorrent's own limit; webtorrent drops a peer that asks for more). */
  request: 128 * 1024,
  /** An extended handshake: real ones are well under 1 KiB. */
  extendedHandshake: 16 * 1024,
  /** ut_metadata carries 16 KiB of metadata after a small dictionary. */
  utMetadata: 16 * 1024 + 512,
  /** Any other extension message (ut_pex, one we do not use) and any message id we do not know. */
  other: 16 * 1024,
});

/** Bencode bounds for what peers send. An extended handshake nests 2 deep (`m`); PEX and ut_metadata 1. */
export const BENCODE_LIMITS = Object.freeze({
  extendedHandshake: { maxDepth: 4, maxItems: 512 },
  utMetadata: { maxDepth: 1, maxItems: 16 },
  utPex: { maxDepth: 2, maxItems: 64 },
});
