// The page script of browser/browser-seeder.test.ts and scripts/bench-web.ts: a web page that seeds a file over
// WebRTC and is paid per piece, as the web app's seeding tab will. It bundles webtorrent's browser build with the
// CLI's PaidSeeder (client/web/session.ts) and the SDK's universal entry point: its channels and session key in
// IndexedDB, its payouts to the injected wallet, its countersignatures by the session key. The file's bytes are made
// in the page (random), so nothing large crosses from the test; webtorrent copies them into its store,
// OpfsPieceStore (client/web/piece-store.ts: fsa-chunk-store, one file per piece in the origin private file system,
// behind webtorrent's cache of 20 pieces). The test drives the page through `window.seeder`; values cross as the SDK's JSON (bigints kept).
import type { Torrent } from "webtorrent";
import {
  createTorrentClient,
  OpfsPieceStore,
  PaidSeeder,
  type SeederPeerStats,
} from "../../../../client/web/session.js";
import { type PiecepayClient, toJson } from "../../../../sdk/index.js";
import type { PageSettings } from "../anvil-contracts.js";
import { walletClient } from "./wallet-client.js";

declare global {
  interface Window {
    seeder: typeof api;
  }
}

/** What to seed: `bytes` random bytes named `name`, in pieces of `pieceLength`, announced to `announce` only. */
export interface SeedRequest {
  name: string;
  bytes: number;
  pieceLength: number;
  announce: string;
  /** Wei per piece as a decimal string; null seeds unpaid (plain BitTorrent, for the benchmark's baseline). */
  price: string | null;
}

/** What the page seeds, for the test to check downloads against. */
export interface Seeding {
  magnet: string;
  infoHash: string;
  pieces: number;
  sha256: string;
  /** The torrent's store below webtorrent's cache (OpfsPieceStore), and what it holds in OPFS. */
  store: string;
  opfs: { files: number; bytes: number };
}

/** The seeder's side of the transfer so far. */
export interface SeederStats {
  uploaded: number;
  peerTypes: string[];
  paid: bigint;
  served: number;
  peers: SeederPeerStats[];
}

/** The wrappers webtorrent puts around the store it makes (ImmediateChunkStore, then CacheChunkStore). */
interface WrappedStore {
  store?: WrappedStore;
  constructor: { name: string };
}

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";
let client: PiecepayClient | undefined;
let torrents: ReturnType<typeof createTorrentClient> | undefined;
let seeder: PaidSeeder | undefined;
let torrent: Torrent | undefined;
const peerTypes: string[] = [];

/** `length` random bytes as a File (crypto.getRandomValues gives at most 64 KiB a call). */
function randomFile(name: string, length: number): File {
  const parts: Uint8Array[] = [];
  for (let at = 0; at < length; at += 65_536) {
    parts.push(crypto.getRandomValues(new Uint8Array(Math.min(65_536, length - at))));
  }
  return new File(parts as BlobPart[], name);
}

async function sha256(blob: Blob): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await blob.arrayBuffer()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The files and bytes under the OPFS directory `name` (fsa-chunk-store names it after the torrent). */
async function opfsUsage(name: string): Promise<{ files: number; bytes: number }> {
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle(name).catch(() => undefined);
  let files = 0;
  let bytes = 0;
  // TypeScript's DOM types do not list the async iterator of a directory handle yet.
  for await (const entry of (dir as unknown as { values(): AsyncIterable<FileSystemHandle> } | undefined)?.values() ??
    []) {
    if (entry.kind !== "file") continue;
    files++;
    bytes += (await (entry as FileSystemFileHandle).getFile()).size;
  }
  return { files, bytes };
}

const api = {
  /** Creates the page's SDK client paid to the wallet's account `account`; resolves with its addresses. */
  async start(settings: PageSettings, account: number): Promise<{ wallet: string; sessionKey: string }> {
    client = await walletClient(settings, "piecepay-seeder", { pollingIntervalMs: 100 }, account);
    return { wallet: client.walletAddress, sessionKey: client.address };
  },

  /**
   * Seeds a new random file; resolves with the Seeding as JSON once webtorrent holds every piece in its store and
   * the tracker has announced us.
   */
  async seed(request: SeedRequest): Promise<string> {
    if (torrents !== undefined) throw new Error("this page seeds one torrent");
    if (request.price !== null && client === undefined) throw new Error("call window.seeder.start first");
    // No ICE servers: the peers are on this machine and the tests run offline. No offers of our own (numwant 0): a
    // seeder answers the leechers' offers, as `piecepay seed --webrtc` does (crossed offers close both ends: ADR 0015).
    torrents = createTorrentClient({
      dht: false,
      lsd: false,
      webSeeds: false,
      tracker: { rtcConfig: { iceServers: [] }, getAnnounceOpts: () => ({ numwant: 0 }) },
    });
    if (request.price !== null && client !== undefined) {
      seeder = new PaidSeeder({
        client,
        pricePerPiece: BigInt(request.price),
        asset: ZERO_ADDRESS,
      });
      seeder.on("warning", (error) => console.warn(`seeder warning: ${error.message}`));
    }
    const file = randomFile(request.name, request.bytes);
    const digest = sha256(file);
    const seeding = torrents;
    let announced: Promise<void> | undefined;
    const seeded = await new Promise<Torrent>((resolve, reject) => {
      seeding.once("error", (error) => reject(error));
      // webtorrent's types name Node's inputs only; its browser build takes a File (lib/torrent.js, parseInput).
      const t = seeding.seed(
        file as unknown as Uint8Array,
        { name: request.name, announce: [request.announce], pieceLength: request.pieceLength, store: OpfsPieceStore },
        resolve,
      );
      t.on("wire", (wire: { type?: string }) => peerTypes.push(String(wire.type)));
      seeder?.attach(t);
      // Resolved once the tracker has us: a leecher that announced before that would find nobody to offer to.
      announced = new Promise<void>((done) => t.once("trackerAnnounce", () => done()));
    });
    await announced;
    torrent = seeded;
    let store = (seeded as unknown as { store: WrappedStore }).store;
    while (store.store !== undefined) store = store.store;
    const seedingResult: Seeding = {
      magnet: seeded.magnetURI,
      infoHash: seeded.infoHash,
      pieces: seeded.pieces.length,
      sha256: await digest,
      store: store.constructor.name,
      opfs: await opfsUsage(`${seeded.name} - ${seeded.infoHash.slice(0, 8)}`),
    };
    return toJson(seedingResult);
  },

  /** What was uploaded, over which transports, and what the paid seeder served and was paid, as JSON. */
  stats(): string {
    const paid = seeder?.stats() ?? { paid: 0n, served: 0, peers: [] };
    const stats: SeederStats = { uploaded: torrent?.uploaded ?? 0, peerTypes, ...paid };
    return toJson(stats);
  },

  /**
   * For a page opened again (`start` first) after its tab was closed mid-transfer: enforces each open channel whose
   * vouchers its IndexedDB kept (PaidSeeder.resume: after `enforceAfterMs`, a challenge with the largest voucher,
   * then the payout), as the CLI's seeder does after a restart. Resolves with the first channel's stats as JSON,
   * `earned` being what the chain paid.
   */
  async enforce(enforceAfterMs: number): Promise<string> {
    if (client === undefined) throw new Error("call window.seeder.start first");
    const again = new PaidSeeder({ client, pricePerPiece: 0n, asset: ZERO_ADDRESS, enforceAfterMs });
    const enforced = new Promise<SeederPeerStats>((resolve, reject) => {
      again.once("enforced", (stats) => resolve(stats));
      again.once("warning", reject);
    });
    await again.resume();
    return toJson(await enforced);
  },

  /** Stops seeding: the torrent client goes, the channels stay in IndexedDB. */
  async stop(): Promise<void> {
    seeder?.destroy();
    await new Promise<void>((resolve) => (torrents ? torrents.destroy(() => resolve()) : resolve()));
  },
};

window.seeder = api;
