// The page script of browser/webrtc-session.test.ts, browser-seeder.test.ts and scripts/bench-web.ts: a web page
// that downloads a torrent over WebRTC and pays the seeder per piece, as the web app will (or, for the benchmark's
// baseline, downloads it unpaid with the same guarded webtorrent client). It bundles what a page imports for that (client/web/session.ts, with
// webtorrent's browser build) and the SDK's universal entry point: its channels and session key in IndexedDB, its
// deposits and closes sent by the injected wallet, its vouchers signed by the session key. The test drives it
// through `window.leecher`; values cross as the SDK's JSON (bigints kept).
import {
  createTorrentClient,
  type LeecherPeerStats,
  OpfsPieceStore,
  PaidLeecher,
} from "../../../../client/web/session.js";
import { type PiecepayClient, toJson } from "../../../../sdk/index.js";
import { walletClient } from "./wallet-client.js";

/** The parts of a webtorrent File (lib/file.js) the page uses. */
interface TorrentFile {
  name: string;
  done: boolean;
  select(): void;
  once(event: "done", listener: () => void): void;
  arrayBuffer(): Promise<ArrayBuffer>;
}

declare global {
  interface Window {
    ethereum: import("ethers").Eip1193Provider;
    leecher: typeof api;
  }
}

/** What the page is configured with: the chain and the contracts. */
export interface LeecherSettings {
  chainId: string;
  adjudicator: string;
  voucherApp: string;
}

/** What a download did, for the test to check against the chain and the seeded bytes. */
export interface Download {
  /** The torrent's pieces, and how many of them the page holds at the end. */
  pieces: number;
  held: number;
  bytes: number;
  sha256: string;
  settled: LeecherPeerStats[];
  /** The transport of each connection the page's webtorrent made (bittorrent-protocol's `wire.type`). */
  peerTypes: string[];
  timings: DownloadTimings;
}

/**
 * Milliseconds from the page's `add(magnet)` to each step (performance.now()): the torrent's metadata, webtorrent's
 * check of its store (`ready`: no piece is requested before), its first connection, the first deposit confirmed
 * (paid only), the first verified piece and the last. `downloadMs` is from
 * the first connection to the last piece, what the benchmark's MiB/s counts.
 */
export interface DownloadTimings {
  metadata: number;
  ready: number;
  wire: number;
  deposit?: number;
  firstPiece: number;
  done: number;
  downloadMs: number;
}

/** How to download: unpaid (no PaidLeecher), or paid with the credit window's bounds (PaidLeecherOptions). */
export interface DownloadOptions {
  paid?: boolean;
  initialWindow?: number;
  maxWindow?: number;
}

let client: PiecepayClient | undefined;
/** The download under way, for `progress`. */
let current: { leecher?: PaidLeecher } = {};

const api = {
  /** Creates the page's SDK client; resolves with its wallet's and its session key's addresses. */
  async start(settings: LeecherSettings): Promise<{ wallet: string; sessionKey: string }> {
    client = await walletClient(settings, "piecepay-leecher", { pollingIntervalMs: 100 });
    return { wallet: client.walletAddress, sessionKey: client.address };
  },

  /**
   * Downloads the file `only` of `magnet` (its tracker is a WebSocket one; the torrent's other files are not
   * wanted), paying at most `maxPricePerPiece` per piece within `budget`, then settles every channel cooperatively.
   * Resolves with the Download as JSON. With `options.paid` false, no PaidLeecher: plain BitTorrent.
   */
  async download(
    magnet: string,
    only: string,
    maxPricePerPiece: string,
    budget: string,
    options: DownloadOptions = {},
  ): Promise<string> {
    const paid = options.paid ?? true;
    if (paid && client === undefined) throw new Error("call window.leecher.start first");
    // No ICE servers: the test runs offline, and the Node seeder is on this machine (see helpers/webrtc-peers.ts).
    const torrents = createTorrentClient({
      dht: false,
      lsd: false,
      webSeeds: false,
      tracker: { rtcConfig: { iceServers: [] } },
    });
    const leecher =
      paid && client !== undefined
        ? new PaidLeecher({
            client,
            maxPricePerPiece: BigInt(maxPricePerPiece),
            budget: BigInt(budget),
            asset: "0x0000000000000000000000000000000000000000",
            initialWindow: options.initialWindow,
            maxWindow: options.maxWindow,
          })
        : undefined;
    leecher?.on("warning", (error) => console.warn(`leecher warning: ${error.message}`));
    current = { leecher };
    // The pieces go to the origin's private file system (fsa-chunk-store, behind webtorrent's memory cache), which
    // OpfsPieceStore lists once so that webtorrent's check of a fresh torrent costs no file per piece.
    const opened = performance.now();
    const torrent = torrents.add(magnet, { deselect: true, store: OpfsPieceStore });
    leecher?.attach(torrent);
    const at: Partial<Record<"metadata" | "ready" | "wire" | "deposit" | "firstPiece" | "done", number>> = {};
    const mark = (step: keyof typeof at) => {
      at[step] ??= performance.now() - opened;
    };
    torrent.once("metadata", () => mark("metadata"));
    torrent.once("ready", () => mark("ready"));
    torrent.once("verified", () => mark("firstPiece"));
    leecher?.once("channel", () => mark("deposit"));
    const peerTypes: string[] = [];
    torrent.on("wire", (wire: { type?: string }) => {
      mark("wire");
      peerTypes.push(String(wire.type));
    });
    const file = await new Promise<TorrentFile>((resolve, reject) => {
      torrent.once("error", (error: Error) => reject(error));
      torrent.once("ready", () => {
        const wanted = torrent.files.find((f) => f.name === only) as TorrentFile | undefined;
        if (wanted === undefined) return reject(new Error(`no file ${only} in the torrent`));
        wanted.select();
        if (wanted.done) resolve(wanted);
        else wanted.once("done", () => resolve(wanted));
      });
    });
    mark("done");
    const bytes = await file.arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const settled = (await leecher?.settle()) ?? [];
    const nan = Number.NaN;
    const { metadata = nan, ready = nan, wire = nan, deposit, firstPiece = nan, done = nan } = at;
    const download: Download = {
      pieces: torrent.pieces.length,
      held: torrent.pieces.filter((piece) => piece === null).length,
      bytes: bytes.byteLength,
      sha256: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
      settled,
      peerTypes,
      timings: { metadata, ready, wire, deposit, firstPiece, done, downloadMs: done - wire },
    };
    await new Promise<void>((resolve) => torrents.destroy(() => resolve()));
    return toJson(download);
  },

  /** The paid leecher's stats of the download under way (its download has not resolved), as JSON. */
  progress(): string {
    return toJson(current.leecher?.stats() ?? []);
  },
};

window.leecher = api;
