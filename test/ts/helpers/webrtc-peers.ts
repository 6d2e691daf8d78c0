// The Node side of a swarm that browsers join: a WebSocket tracker (bittorrent-tracker's server, as `piecepay
// tracker` runs it) and a paid seeder in this process whose peers connect over WebRTC, through node-datachannel
// (the `webrtc-polyfill` package, which webtorrent's WebRTC library imports in Node). The seeder is the CLI's
// session (PaidSeeder on a guarded webtorrent client), with the tracker as its only way to meet peers: no TCP
// peers by address, no DHT or LSD. For test/ts/browser/webrtc-session.test.ts.
import { mkdtempSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Server from "bittorrent-tracker/server";
import { ZeroAddress } from "ethers";
import type { Torrent } from "webtorrent";
import { createTorrentClient } from "../../../client/session/guarded-client.js";
import { PaidSeeder } from "../../../client/session/seeder.js";
import type { PiecepayClient } from "../../../sdk/node.js";

/**
 * The seeder's tracker settings (webtorrent hands them to bittorrent-tracker's client):
 * - no `wrtc`: in Node, webtorrent's WebRTC is node-datachannel already (@thaunknown/simple-peer imports
 *   RTCPeerConnection from `webrtc-polyfill` itself and ignores a `wrtc` option; bittorrent-tracker reads `wrtc`
 *   only to decide whether WebRTC is there, which simple-peer's import already says);
 * - no ICE servers: peers on one machine meet by their host candidates, and the tests run offline (with the default
 *   public STUN servers, node-datachannel tries to resolve names it cannot);
 * - no offers of its own (`numwant: 0`): it answers the leechers' offers. When both sides offer, each connects
 *   twice, and webtorrent on each side may drop as a duplicate the connection the other side kept: measured with
 *   Chromium, both ended closed and nothing was downloaded. Every offer or answer from node-datachannel leaves
 *   only when simple-peer's 5 s ICE timeout fires (webrtc-polyfill reports the gathering `complete`, before its
 *   candidates, but never the null candidate simple-peer waits for), which makes that race the rule.
 */
export const WEBRTC_SEEDER_TRACKER = {
  rtcConfig: { iceServers: [] },
  getAnnounceOpts: () => ({ numwant: 0 }),
};

export interface WebSocketTracker {
  /** Its announce URL, ws://127.0.0.1:PORT. */
  announce: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * A WebSocket-only tracker on a free port of 127.0.0.1. Its peers announce every `announceSeconds` (default 120 s,
 * bittorrent-tracker's for WebSocket peers); each announce of a leecher brings new offers, so a shorter interval lets
 * a WebRTC connection lost on a loaded machine come back within a test (client/README.md, "One swarm over WebRTC").
 */
export async function startWebSocketTracker(announceSeconds = 120): Promise<WebSocketTracker> {
  // bittorrent-tracker tells WebSocket peers a fifth of its `interval` (ms) as theirs, in seconds.
  const server = new Server({ udp: false, http: false, ws: true, stats: false, interval: announceSeconds * 5_000 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  // With `http: false` the server makes an HTTP server only to carry the WebSocket upgrade.
  const port = (server.http?.address() as AddressInfo | undefined)?.port;
  if (port === undefined) throw new Error("the tracker has no HTTP server to carry its WebSocket");
  return {
    announce: `ws://127.0.0.1:${port}`,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface WebRtcSeeder {
  /** Undefined when seeding unpaid. */
  seeder: PaidSeeder | undefined;
  torrent: Torrent;
  close(): Promise<void>;
}

/**
 * Seeds `files` (name -> bytes) as the torrent `name` in pieces of `pieceLength`, paid at `pricePerPiece` (ETH) to
 * `client` (without a client, unpaid: plain BitTorrent on the same guarded client, for scripts/bench-web.ts),
 * announced to `announce` only; resolves once the torrent is ready (its peers then reach it over WebRTC).
 * With `uploadBytesPerSecond`, it sends no faster than that, to all peers together (webtorrent's throttleUpload),
 * as a distant seeder would: a download then takes long enough to watch what arrives in which order.
 */
export async function seedOverWebRtc(options: {
  client: PiecepayClient | undefined;
  files: Record<string, Uint8Array>;
  name: string;
  pieceLength: number;
  pricePerPiece: bigint;
  announce: string;
  uploadBytesPerSecond?: number;
}): Promise<WebRtcSeeder> {
  const torrents = createTorrentClient({
    dht: false,
    lsd: false,
    utp: false,
    natUpnp: false,
    natPmp: false,
    webSeeds: false,
    tracker: WEBRTC_SEEDER_TRACKER,
  });
  if (options.uploadBytesPerSecond !== undefined) torrents.throttleUpload(options.uploadBytesPerSecond);
  const seeder = options.client
    ? new PaidSeeder({ client: options.client, pricePerPiece: options.pricePerPiece, asset: ZeroAddress })
    : undefined;
  // create-torrent names a file given as bytes by its `name` property.
  const input = Object.entries(options.files).map(([name, bytes]) => Object.assign(Buffer.from(bytes), { name }));
  const torrent = await new Promise<Torrent>((resolve, reject) => {
    torrents.once("error", reject);
    const t = torrents.seed(
      input as unknown as Uint8Array,
      {
        name: options.name,
        announce: [options.announce],
        pieceLength: options.pieceLength,
        // Not webtorrent's default <tmp>/webtorrent/<name>, which every process on the machine shares.
        path: mkdtempSync(join(tmpdir(), "piecepay-seed-")),
      },
      resolve,
    );
    seeder?.attach(t);
  });
  return {
    seeder,
    torrent,
    close: async () => {
      seeder?.destroy();
      await new Promise<void>((resolve) => torrents.destroy(() => resolve()));
    },
  };
}
