// The page script of browser/streaming.test.ts: a web page that plays a torrent's video while it downloads it over
// WebRTC, paying the seeder per piece, as the web app will. It streams with webtorrent's service worker
// (client/web/streaming.ts; the test's server serves node_modules/webtorrent/dist/sw.min.js at /sw.min.js, whose
// scope / covers the page and the stream URLs), pays with the CLI's PaidLeecher (client/web/session.ts), and keeps
// its channel and session key in IndexedDB (wallet-client.ts). It records when each piece verified and when the
// video started to play, for the test to compare; the test drives it through `window.streamer`.
import { createTorrentClient, type LeecherPeerStats, PaidLeecher } from "../../../../client/web/session.js";
import { startStreaming, streamInto } from "../../../../client/web/streaming.js";
import { type PiecepayClient, toJson } from "../../../../sdk/index.js";
import type { LeecherSettings } from "./paid-leecher.js";
import { walletClient } from "./wallet-client.js";

declare global {
  interface Window {
    streamer: typeof api;
  }
}

/** What the page saw so far; times in ms since the torrent was added (performance.now() based). */
export interface StreamStatus {
  pieces: number;
  /** The verified pieces, in the order they verified, with when. */
  verified: { index: number; at: number }[];
  currentTime: number;
  paused: boolean;
  /** The `playing` event first fired, and how many pieces were held then. */
  playingAt?: number;
  heldAtPlaying?: number;
  /** currentTime first passed 0.5 s, and how many pieces were held then. */
  advancedAt?: number;
  heldAtAdvance?: number;
  error?: string;
}

/** A seek: how long until the element said `seeked` and until currentTime moved 0.5 s past the target. */
export interface Seek {
  target: number;
  seekedMs: number;
  advancedMs: number;
  /** The pieces held when currentTime had moved past the target. */
  heldAfter: number[];
}

/** The end of the download: the file's digest, the torrent's pieces held, and the channel settled. */
export interface Finished {
  bytes: number;
  sha256: string;
  pieces: number;
  held: number;
  settled: LeecherPeerStats[];
}

type Torrents = ReturnType<typeof createTorrentClient>;
let client: PiecepayClient | undefined;
let running: {
  torrents: Torrents;
  leecher: PaidLeecher;
  torrent: ReturnType<Torrents["add"]>;
  video: HTMLVideoElement;
};
const status: StreamStatus = { pieces: 0, verified: [], currentTime: 0, paused: true };
let t0 = 0;
const now = () => performance.now() - t0;

function heldIndexes(): number[] {
  return status.verified.map((v) => v.index).sort((a, b) => a - b);
}

const api = {
  async start(settings: LeecherSettings): Promise<{ wallet: string; sessionKey: string }> {
    client = await walletClient(settings, "piecepay-streamer", { pollingIntervalMs: 100 });
    return { wallet: client.walletAddress, sessionKey: client.address };
  },

  /**
   * Adds `magnet` (one video file), pays at most `maxPricePerPiece` per piece within `budget`, and streams the file
   * into a muted <video> (autoplay without a user's gesture needs a muted element). Resolves once the video's src
   * is set; the download and the playback go on. `maxWindow` caps the pieces paid ahead (PaidLeecherOptions).
   */
  async stream(
    magnet: string,
    maxPricePerPiece: string,
    budget: string,
    maxWindow: number,
  ): Promise<{ pieces: number; workerMs: number }> {
    if (client === undefined) throw new Error("call window.streamer.start first");
    const torrents = createTorrentClient({
      dht: false,
      lsd: false,
      webSeeds: false,
      tracker: { rtcConfig: { iceServers: [] } },
    });
    const registering = performance.now();
    await startStreaming(torrents, { serviceWorkerUrl: "/sw.min.js" });
    const workerMs = performance.now() - registering;
    const leecher = new PaidLeecher({
      client,
      maxPricePerPiece: BigInt(maxPricePerPiece),
      budget: BigInt(budget),
      maxWindow,
      asset: "0x0000000000000000000000000000000000000000",
    });
    leecher.on("warning", (error) => console.warn(`leecher warning: ${error.message}`));
    const video = document.createElement("video");
    video.muted = true;
    video.autoplay = true;
    document.body.append(video);
    t0 = performance.now();
    const torrent = torrents.add(magnet);
    leecher.attach(torrent);
    running = { torrents, leecher, torrent, video };
    torrent.on("verified" as never, ((index: number) => status.verified.push({ index, at: now() })) as never);
    video.addEventListener("playing", () => {
      if (status.playingAt !== undefined) return;
      status.playingAt = now();
      status.heldAtPlaying = status.verified.length;
    });
    video.addEventListener("timeupdate", () => {
      if (status.advancedAt !== undefined || video.currentTime < 0.5) return;
      status.advancedAt = now();
      status.heldAtAdvance = status.verified.length;
    });
    video.addEventListener("error", () => {
      status.error = `media error ${video.error?.code}: ${video.error?.message}`;
    });
    await new Promise<void>((resolve, reject) => {
      torrent.once("error", reject);
      torrent.once("ready", () => resolve());
    });
    status.pieces = torrent.pieces.length;
    streamInto(torrent.files[0], video);
    video.play().catch((error: Error) => {
      status.error = `play(): ${error.message}`;
    });
    return { pieces: status.pieces, workerMs };
  },

  status(): StreamStatus {
    return { ...status, currentTime: running?.video.currentTime ?? 0, paused: running?.video.paused ?? true };
  },

  /** Seeks to `target` seconds; resolves once the video plays 0.5 s past it. */
  async seek(target: number): Promise<Seek> {
    const { video } = running;
    const started = performance.now();
    const seeked = new Promise<number>((resolve) =>
      video.addEventListener("seeked", () => resolve(performance.now() - started), { once: true }),
    );
    video.currentTime = target;
    const seekedMs = await seeked;
    const advancedMs = await new Promise<number>((resolve) => {
      const check = () => {
        if (video.currentTime < target + 0.5) return;
        video.removeEventListener("timeupdate", check);
        resolve(performance.now() - started);
      };
      video.addEventListener("timeupdate", check);
    });
    return { target, seekedMs, advancedMs, heldAfter: heldIndexes() };
  },

  /** startStreaming with a worker at `serviceWorkerUrl` and `scope`: resolves with its error, "name: message". */
  async startStreamingError(serviceWorkerUrl: string, scope?: string): Promise<string> {
    const torrents = createTorrentClient({ dht: false, lsd: false, webSeeds: false, tracker: false });
    try {
      await startStreaming(torrents, { serviceWorkerUrl, ...(scope === undefined ? {} : { scope }) });
      return "no error";
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    } finally {
      await new Promise<void>((resolve) => torrents.destroy(() => resolve()));
    }
  },

  /** Waits for the whole file, reads it, settles every channel cooperatively; resolves with Finished as JSON. */
  async finish(): Promise<string> {
    const { torrents, leecher, torrent, video } = running;
    if (!torrent.done) await new Promise<void>((resolve) => torrent.once("done", () => resolve()));
    video.pause();
    video.removeAttribute("src");
    video.load();
    const bytes = await (torrent.files[0] as unknown as { arrayBuffer(): Promise<ArrayBuffer> }).arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const settled = await leecher.settle();
    const finished: Finished = {
      bytes: bytes.byteLength,
      sha256: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
      pieces: torrent.pieces.length,
      held: torrent.pieces.filter((piece) => piece === null).length,
      settled,
    };
    await new Promise<void>((resolve) => torrents.destroy(() => resolve()));
    return toJson(finished);
  },
};

window.streamer = api;
