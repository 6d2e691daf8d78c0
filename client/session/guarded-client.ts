// Every webtorrent client piecepay makes is built here, so that every peer connection of it is guarded: a
// WireGuard (client/wire/guard.ts) frames and checks the peer's bytes before bittorrent-protocol sees them, and a
// pool holds the limits all connections share (connections per IP and in total, buffered bytes, timeouts). The
// stage goes in through the `inboundFilter` option that our patch of webtorrent adds (see webtorrent-internals.ts).
import type { Wire } from "bittorrent-protocol";
import { Transform } from "streamx";
import type WebTorrent from "webtorrent";
import { GuardError, WireGuard } from "../wire/guard.js";
import { DEFAULT_WIRE_LIMITS, type WireLimits } from "../wire/limits.js";
import { piecepayPeerId } from "./peer-agent.js";
import { createWithInboundFilter, pieceCount, pieceLengthOf, type WebTorrentPeer } from "./webtorrent-internals.js";

/** The parts of a webtorrent Peer that the pool reads; the guard reads its wire's request queue and extension ids. */
interface PeerLike extends WebTorrentPeer {
  wire?: (Wire & { extendedMapping: Record<number, string>; peerRequests: unknown[] }) | null;
}

/** What the pool has done, for a status line or a test. */
export interface GuardStats {
  /** Connections open now. */
  connections: number;
  /** Connections dropped, by reason (the message without numbers). */
  dropped: Record<string, number>;
  /** Bytes held in incomplete messages now, and at most so far. */
  buffered: number;
  peakBuffered: number;
}

/** The limits and the live connections of one webtorrent client. */
export class WireGuardPool {
  readonly limits: WireLimits;
  readonly #client: () => WebTorrent | undefined;
  readonly #perIp = new Map<string, number>();
  readonly #live = new Map<WireGuard, Transform>();
  #buffered = 0;
  #peakBuffered = 0;
  readonly #dropped: Record<string, number> = {};
  #sweep: ReturnType<typeof setTimeout> | undefined;

  constructor(limits: Partial<WireLimits>, client: () => WebTorrent | undefined) {
    this.limits = { ...DEFAULT_WIRE_LIMITS, ...limits };
    this.#client = client;
  }

  stats(): GuardStats {
    return {
      connections: this.#live.size,
      dropped: { ...this.#dropped },
      buffered: this.#buffered,
      peakBuffered: this.#peakBuffered,
    };
  }

  /** The stage for one peer's inbound bytes (webtorrent calls it for each connection); null for a web seed. */
  filterFor(peer: PeerLike): Transform | null {
    if (peer.type === "webSeed") return null; // an HTTP source: webtorrent frames what it fetched itself
    const ip = ipOf(peer);
    const guard = new WireGuard({
      limits: this.limits,
      torrentFor: (infoHash) => {
        const torrent = this.#client()?.torrents.find((t) => t.infoHash === infoHash);
        if (!torrent) return undefined;
        return {
          pieceCount: () => pieceCount(torrent),
          pieceLength: (index) => pieceLengthOf(torrent, index),
        };
      },
      wire: () => peer.wire ?? undefined,
      reserve: (bytes) => {
        if (this.#buffered + bytes > this.limits.maxBufferedBytes) return false;
        this.#buffered += bytes;
        if (this.#buffered > this.#peakBuffered) this.#peakBuffered = this.#buffered;
        return true;
      },
      release: (bytes) => {
        this.#buffered -= bytes;
      },
    });
    const pool = this;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      guard.close();
      pool.#live.delete(guard);
      const left = (pool.#perIp.get(ip) ?? 1) - 1;
      if (left > 0) pool.#perIp.set(ip, left);
      else pool.#perIp.delete(ip);
      if (pool.#live.size === 0) pool.#stopSweep();
    };
    const stage = new Transform({
      transform(chunk: unknown, callback: (error: Error | null, data?: unknown) => void) {
        let passed: Uint8Array[];
        try {
          passed = guard.write(chunk as Uint8Array);
        } catch (error) {
          pool.#count(error as Error);
          callback(error as Error);
          return;
        }
        for (const bytes of passed) this.push(bytes);
        callback(null);
      },
      destroy(callback: (error: Error | null) => void) {
        release();
        callback(null);
      },
    });
    stage.once("close", release);
    // The pipeline does not always destroy a middle stage when the peer goes: the wire's close is the peer's end.
    peer.wire?.once("close", () => {
      release();
      stage.destroy();
    });

    const refusal = this.#admit(ip);
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1);
    this.#live.set(guard, stage);
    this.#startSweep();
    if (refusal) queueMicrotask(() => this.#drop(guard, refusal));
    return stage;
  }

  /** Why a new connection from `ip` is refused, if it is. */
  #admit(ip: string): string | undefined {
    if (this.#live.size >= this.limits.maxConnections) return `${this.limits.maxConnections} connections already`;
    if ((this.#perIp.get(ip) ?? 0) >= this.limits.maxConnectionsPerIp) {
      return `${this.limits.maxConnectionsPerIp} connections from ${ip} already`;
    }
    return undefined;
  }

  #drop(guard: WireGuard, reason: string): void {
    const stage = this.#live.get(guard);
    if (!stage) return;
    const error = new GuardError("MALFORMED", reason);
    this.#count(error);
    stage.destroy(error);
  }

  #count(error: Error): void {
    const reason = error.message.replace(/\d+/g, "N");
    this.#dropped[reason] = (this.#dropped[reason] ?? 0) + 1;
  }

  /** One timer for all connections: a message that takes too long, or a peer silent for too long, is dropped. */
  #startSweep(): void {
    if (this.#sweep) return;
    this.#sweep = setInterval(() => {
      const now = Date.now();
      for (const guard of [...this.#live.keys()]) {
        if (guard.partialSince !== undefined && now - guard.partialSince > this.limits.messageTimeoutMs) {
          this.#drop(guard, `a message unfinished after ${this.limits.messageTimeoutMs} ms`);
        } else if (now - guard.lastMessageAt > this.limits.idleTimeoutMs) {
          this.#drop(guard, `no message for ${this.limits.idleTimeoutMs} ms`);
        }
      }
    }, 1000);
    this.#sweep.unref?.();
  }

  #stopSweep(): void {
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }
}

function ipOf(peer: PeerLike): string {
  const address = peer.conn?.remoteAddress ?? peer.addr?.replace(/:\d+$/, "") ?? "unknown";
  return address.replace(/^::ffff:/, "");
}

/** Options of `createTorrentClient`: webtorrent's, and the wire limits. */
export type GuardedClientOptions = Record<string, unknown> & { limits?: Partial<WireLimits> };

/**
 * A webtorrent client whose every peer connection is guarded. Protocol encryption is off: the guard must read the
 * bytes, and MSE would hide them (it is obfuscation, not security; peers that allow plaintext, the default of
 * aria2, qBittorrent and Transmission, connect as before).
 * @example const torrents = createTorrentClient({ ...LOOPBACK_ONLY, limits: { maxConnectionsPerIp: 4 } })
 */
export function createTorrentClient(options: GuardedClientOptions = {}): WebTorrent & { guard: WireGuardPool } {
  const { limits = {}, ...webtorrentOptions } = options;
  let client: WebTorrent | undefined;
  const pool = new WireGuardPool(limits, () => client);
  // Our peer id says whether we are a page or Node (peer-agent.ts), unless the caller chose one.
  const peerId = webtorrentOptions.peerId ?? piecepayPeerId();
  client = createWithInboundFilter({ ...webtorrentOptions, peerId, secure: 0 }, (peer) =>
    pool.filterFor(peer as PeerLike),
  );
  return Object.assign(client, { guard: pool });
}
