// `--webrtc` on `seed` and `get`: the Node peer also joins the swarm of WebRTC peers (browsers) that a WebSocket
// tracker introduces, besides its TCP peers. Browsers reach only WebRTC peers, and only through a ws:// or wss://
// tracker, so the flag needs one. Without it, seed and get pass `wrtc: false` and stay on TCP. The WebRTC stack is
// webrtc-polyfill (libdatachannel through node-datachannel, a native addon), which webtorrent's tracker client
// imports as it loads (bin.mjs explains an addon that does not load); `loadNodeWebRtc` checks that it also works.
import { CliError, UsageError } from "./command.js";

/** The W3C WebRTC classes (RTCPeerConnection...) that simple-peer takes as its `wrtc` option. */
export type NodeWebRtc = Record<string, unknown>;

export const WEBRTC_OPTIONS = { webrtc: { type: "boolean" } } as const;

export const WEBRTC_HELP: [string, string] = [
  "--webrtc",
  "also reach WebRTC peers (browsers), found through the ws:// or wss:// trackers (needs one), besides TCP peers",
];

/**
 * What a seeder adds to its tracker options: it asks for no peers (numwant 0), so it makes no WebRTC offers and
 * answers those of leechers. When both sides offer at about the same time, each ends with two connections and drops
 * as the duplicate a different one of them, so both close: seen between two Node peers under load, and between a
 * page and a Node seeder. A seeder needs no peers of its own finding: leechers come to it, over TCP as over WebRTC.
 * @example createTorrentClient({ tracker: { wrtc, ...SEEDER_ANNOUNCE } })
 */
export const SEEDER_ANNOUNCE = { getAnnounceOpts: () => ({ numwant: 0 }) };

/** Whether `url` is a WebSocket tracker, the only kind that introduces WebRTC peers. */
export function isWebSocketTracker(url: string): boolean {
  return /^wss?:\/\//i.test(url.trim());
}

/**
 * Throws a UsageError naming what to add when `announce` has no WebSocket tracker (`where` says where we looked).
 * @example assertWebSocketTracker(["http://127.0.0.1:8000/announce"], "--announce") // throws
 */
export function assertWebSocketTracker(announce: readonly string[], where: string): void {
  if (announce.some(isWebSocketTracker)) return;
  throw new UsageError(
    `--webrtc needs a WebSocket tracker (ws:// or wss://), and ${where} has none${announce.length > 0 ? ` (only ${announce.join(", ")})` : ""}`,
    "add --announce ws://HOST:PORT, e.g. the ws:// URL that `piecepay tracker` prints",
  );
}

/**
 * Loads webrtc-polyfill and checks that its native addon works (one RTCPeerConnection made and closed).
 * @throws CliError saying that WebRTC is unavailable here, with the loader's own message
 * @example const wrtc = await loadNodeWebRtc(); createTorrentClient({ tracker: { wrtc } })
 */
export async function loadNodeWebRtc(): Promise<NodeWebRtc> {
  try {
    const wrtc = (await import("webrtc-polyfill")) as unknown as NodeWebRtc & {
      RTCPeerConnection: new () => { close(): void };
    };
    new wrtc.RTCPeerConnection().close();
    return wrtc;
  } catch (error) {
    throw new CliError(
      `WebRTC is not available in this Node: node-datachannel did not load (${(error as Error)?.message ?? error})`,
      "reinstall it (`npm rebuild node-datachannel`) on a platform it ships for, or run without --webrtc (TCP peers only)",
      { cause: error },
    );
  }
}
