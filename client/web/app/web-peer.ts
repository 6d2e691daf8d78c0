// The page's BitTorrent node: one webtorrent client (WebRTC through WebSocket trackers, pieces in the origin's
// private file system), a PaidSeeder per torrent it seeds and a PaidLeecher per torrent it downloads, the same
// sessions, wire extension and vouchers as the CLI's. What it downloads is remembered in localStorage, so that a
// reload resumes it: the torrent is added again (the pieces already verified are on disk), and the leecher continues
// each channel from the store in IndexedDB, with its vouchers, instead of depositing again.
import type { Wire } from "bittorrent-protocol";
import { ZeroAddress } from "ethers";
import type { Torrent } from "webtorrent";
import type { PiecepayClient } from "../../../sdk/index.js";
import { type PeerAgent, peerAgent } from "../../session/peer-agent.js";
import { createTorrentClient, OpfsPieceStore, PaidLeecher, PaidSeeder } from "../session.js";
import { type Streaming, startStreaming } from "../streaming.js";
import type { AppConfig } from "./config.js";
import { explain } from "./errors.js";

/** A peer of a transfer, as the page shows it. */
export interface PeerView {
  address: string;
  agent: PeerAgent;
  transport: string;
  /** Its price per piece (a paid seeder's offer), when known. */
  price?: bigint;
  /** The asset its price is in (a paid seeder's offer). */
  asset?: string;
  /** Why its offer is of no use to us whatever our terms (another chain or adjudicator). */
  unusable?: string;
  /** What we paid it (downloads) or it paid us (seeds), in the transfer's asset. */
  paid: bigint;
  pieces: number;
  /** A seeder that left: its channel waits for a close on chain (the channels panel). */
  gone?: boolean;
}

export interface FileView {
  name: string;
  path: string;
  length: number;
  /** A media file the page can play while it downloads. */
  playable: boolean;
}

export interface TransferView {
  kind: "seed" | "download";
  infoHash: string;
  name: string;
  magnet: string;
  /** The page's URL with the magnet in its fragment: what a seeder shares. */
  link: string;
  asset: string;
  /** Seeds: the price per piece asked. Downloads: the most we pay per piece, and the budget. */
  price: bigint;
  budget?: bigint;
  length: number;
  pieces: number;
  /** Pieces verified here. */
  have: number;
  progress: number;
  downloadSpeed: number;
  uploadSpeed: number;
  timeRemaining: number;
  ready: boolean;
  done: boolean;
  /** Downloads: paid to every seeder in vouchers. Seeds: paid to us. */
  total: bigint;
  peers: PeerView[];
  files: FileView[];
  /** What happened that a person should know: a refused or dropped seeder, a failed deposit. */
  notes: string[];
  /** "preview": a link looked up, its seeders' offers heard, nothing paid or asked for until Download. */
  state: "preview" | "connecting" | "transferring" | "settling" | "settled" | "seeding";
}

/**
 * The terms a download's seeders suggest: the cheapest price asked, and a whole-file deposit for each seeder at that
 * price. The cheapest, not the dearest: a seeder asking a fortune must not raise what the page fills in.
 */
export function suggestedTerms(
  transfer: TransferView,
  asset: string,
): { maxPricePerPiece: bigint; budget: bigint; seeders: number; dearest: bigint } | undefined {
  const prices = transfer.peers
    .filter((p) => !p.gone && p.unusable === undefined && p.price !== undefined && p.price > 0n)
    .filter((p) => p.asset?.toLowerCase() === asset.toLowerCase())
    .map((p) => p.price as bigint);
  if (prices.length === 0 || transfer.pieces === 0) return undefined;
  const cheapest = prices.reduce((a, b) => (a < b ? a : b));
  // Each channel's deposit covers the whole file at its price (PaidLeecher); what is not spent comes back.
  const atCheapest = prices.filter((price) => price === cheapest).length;
  return {
    maxPricePerPiece: cheapest,
    budget: BigInt(transfer.pieces) * cheapest * BigInt(atCheapest),
    seeders: prices.length,
    dearest: prices.reduce((a, b) => (a > b ? a : b)),
  };
}

/** What the page keeps of a download to resume it after a reload. */
interface SavedDownload {
  magnet: string;
  asset: string;
  maxPricePerPiece: string;
  budget: string;
}

const SAVED = "piecepay.downloads";
const MEDIA = /\.(mp4|m4v|webm|mkv|ogv|mov|mp3|m4a|ogg|oga|opus|wav|flac|aac)$/i;
const MAX_NOTES = 8;

interface Transfer {
  kind: "seed" | "download";
  torrent: Torrent;
  /** Downloads: the link it was added from (the key it is known by until webtorrent parsed it). */
  magnet?: string;
  asset: string;
  price: bigint;
  budget?: bigint;
  seeder?: PaidSeeder;
  leecher?: PaidLeecher;
  notes: string[];
  state: TransferView["state"];
}

export class WebPeer {
  readonly torrents: ReturnType<typeof createTorrentClient>;
  readonly #transfers = new Map<string, Transfer>();
  readonly #listeners = new Set<() => void>();

  constructor(
    readonly client: PiecepayClient,
    readonly config: AppConfig,
    readonly storageKey = `${SAVED}.${client.walletAddress.toLowerCase()}`,
  ) {
    this.torrents = createTorrentClient({
      dht: false,
      lsd: false,
      webSeeds: false,
      tracker: { rtcConfig: { iceServers: config.iceServers } },
    });
    this.torrents.on("error", (error: unknown) => this.#note(undefined, explain(error)));
  }

  /** Calls `listener` when something changed that the page shows (it also polls for speeds). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }

  #note(transfer: Transfer | undefined, note: string): void {
    if (transfer === undefined) {
      for (const t of this.#transfers.values()) this.#note(t, note);
      return;
    }
    transfer.notes.push(note);
    if (transfer.notes.length > MAX_NOTES) transfer.notes.shift();
    this.#changed();
  }

  /** Seeds `files` at `pricePerPiece` of `asset`; resolves once they are hashed and announced. */
  async seed(files: File[], options: { pricePerPiece: bigint; asset: string; name?: string }): Promise<TransferView> {
    if (files.length === 0) throw new Error("choose a file or folder to seed");
    if (options.pricePerPiece <= 0n) throw new Error("the price per piece must be more than 0");
    const seeder = new PaidSeeder({ client: this.client, pricePerPiece: options.pricePerPiece, asset: options.asset });
    const torrent = await new Promise<Torrent>((resolve, reject) => {
      const onError = (error: unknown) => reject(error);
      this.torrents.once("error", onError);
      const added = this.torrents.seed(
        files as unknown as Uint8Array, // webtorrent's browser build takes File objects; its types know only Node's
        {
          announce: this.config.trackers,
          // Pieces in the origin's private file system, listed once (ADR 0018): a reload finds them there.
          store: OpfsPieceStore,
          // A seeder answers offers and makes none, as `piecepay seed --webrtc` does: two peers whose offers cross
          // make two connections, and each side may close a different one as the duplicate (then neither is left).
          getAnnounceOpts: () => ({ numwant: 0 }),
          ...(options.name ? { name: options.name } : {}),
        },
        (t: Torrent) => {
          this.torrents.off("error", onError);
          resolve(t);
        },
      );
      seeder.attach(added);
    });
    const transfer: Transfer = {
      kind: "seed",
      torrent,
      asset: options.asset,
      price: options.pricePerPiece,
      seeder,
      notes: [],
      state: "seeding",
    };
    this.#watch(transfer);
    return this.view(transfer);
  }

  /**
   * Looks up the torrent of `magnet` without paying anyone: joins its swarm, fetches its metadata (free) and hears
   * each seeder's offer, which the transfer's peers show (state "preview"); nothing is asked for or paid until
   * `download`. A page looks up one link at a time: the look-up of another link is dropped.
   */
  preview(magnet: string): TransferView {
    return this.view(this.#preview(magnet));
  }

  #preview(magnet: string): Transfer {
    if (!magnet.startsWith("magnet:")) throw new Error("this is not a magnet link");
    const key = infoHashOf(magnet);
    const existing = this.#transfers.get(key);
    if (existing) return existing;
    for (const [other, t] of this.#transfers) if (t.state === "preview") this.#drop(other, t);
    const leecher = new PaidLeecher({
      client: this.client,
      maxPricePerPiece: 0n,
      budget: 0n,
      asset: ZeroAddress,
      hold: true,
    });
    const torrent = this.torrents.add(magnet, { announce: this.config.trackers, store: OpfsPieceStore });
    leecher.attach(torrent);
    const transfer: Transfer = {
      kind: "download",
      torrent,
      magnet,
      asset: ZeroAddress,
      price: 0n,
      leecher,
      notes: [],
      state: "preview",
    };
    leecher.on("offer", () => this.#changed());
    leecher.on("refused", (r) => this.#note(transfer, `seeder ${r.peer} not used: ${r.reason}`));
    leecher.on("fund-failed", (error) => this.#note(transfer, explain(error, "a deposit failed")));
    leecher.on("warning", (error) => this.#note(transfer, explain(error)));
    leecher.on("channel", () => {
      transfer.state = "transferring";
      this.#changed();
    });
    torrent.once("done", () => void this.#settle(transfer));
    // Known from a hex magnet at once; from a base32 one, once webtorrent parsed it (#watch registers it then).
    if (/^[0-9a-f]{40}$/.test(key)) this.#transfers.set(key, transfer);
    this.#watch(transfer);
    return transfer;
  }

  /**
   * Downloads the torrent of `magnet` (looked up first, or now), paying each seeder at most `maxPricePerPiece` per
   * piece and depositing at most `budget` in all; every file is selected. Settles (closes every channel
   * cooperatively) once it is done.
   */
  download(magnet: string, options: { maxPricePerPiece: bigint; budget: bigint; asset: string }): TransferView {
    if (options.maxPricePerPiece <= 0n) throw new Error("the maximum price per piece must be more than 0");
    if (options.budget <= 0n) throw new Error("the budget must be more than 0");
    const transfer = this.#preview(magnet);
    const leecher = transfer.leecher;
    // Started already, or a torrent this page seeds: nothing to start.
    if (!leecher?.held) return this.view(transfer);
    Object.assign(transfer, {
      asset: options.asset,
      price: options.maxPricePerPiece,
      budget: options.budget,
      state: "connecting",
    });
    leecher.start(options);
    const { torrent } = transfer;
    const save = () =>
      this.#save({
        magnet: torrent.magnetURI ?? magnet,
        asset: options.asset,
        maxPricePerPiece: String(options.maxPricePerPiece),
        budget: String(options.budget),
      });
    if (torrent.infoHash) save();
    else torrent.once("infoHash", save);
    this.#changed();
    return this.view(transfer);
  }

  /** A look-up nobody started: its torrent goes (nothing was paid or asked for; no piece to keep). */
  #drop(key: string, transfer: Transfer): void {
    this.#transfers.delete(key);
    transfer.torrent.destroy();
    this.#changed();
  }

  /** The downloads a previous visit left unfinished, started again. */
  resumeSaved(): TransferView[] {
    return this.#saved().map((saved) =>
      this.download(saved.magnet, {
        asset: saved.asset,
        maxPricePerPiece: BigInt(saved.maxPricePerPiece),
        budget: BigInt(saved.budget),
      }),
    );
  }

  async #settle(transfer: Transfer): Promise<void> {
    if (transfer.leecher === undefined || transfer.state === "settling" || transfer.state === "settled") return;
    transfer.state = "settling";
    this.#changed();
    try {
      const settled = await transfer.leecher.settle();
      const open = settled.filter((s) => !s.closed);
      if (open.length > 0) {
        this.#note(transfer, `${open.length} channel(s) not closed by their seeder: close them in the channels panel`);
      }
      transfer.state = "settled";
      this.#forget(transfer.torrent.infoHash);
    } catch (error) {
      this.#note(transfer, explain(error, "closing the channels"));
    }
    this.#changed();
  }

  #watch(transfer: Transfer): void {
    const { torrent } = transfer;
    const key = () => torrent.infoHash;
    const register = () => {
      if (key()) this.#transfers.set(key(), transfer);
      if (transfer.magnet && infoHashOf(transfer.magnet) !== key()) this.#transfers.delete(infoHashOf(transfer.magnet));
      this.#changed();
    };
    if (torrent.infoHash) register();
    else torrent.once("infoHash", register);
    for (const event of ["ready", "metadata", "done", "wire", "verified"]) torrent.on(event, () => this.#changed());
    torrent.on("warning", (error: Error) => this.#note(transfer, explain(error)));
    torrent.on("error", (error: Error) => this.#note(transfer, explain(error)));
  }

  /** Every transfer as the page shows it, seeds first. */
  transfers(): TransferView[] {
    return [...this.#transfers.values()]
      .sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "seed" ? -1 : 1))
      .map((t) => this.view(t));
  }

  transfer(infoHash: string): TransferView | undefined {
    const t = this.#transfers.get(infoHash);
    return t && this.view(t);
  }

  /** The webtorrent torrent of a transfer (for streaming and saving its files). */
  torrent(infoHash: string): Torrent | undefined {
    return this.#transfers.get(infoHash)?.torrent;
  }

  view(transfer: Transfer): TransferView {
    const { torrent } = transfer;
    const pieces = torrent.pieces?.length ?? 0;
    const have = torrent.ready ? torrent.pieces.filter((p: unknown) => p === null).length : 0;
    const link = `${location.origin}${location.pathname}#${torrent.magnetURI ?? ""}`;
    return {
      kind: transfer.kind,
      infoHash: torrent.infoHash ?? "",
      name: torrent.name ?? torrent.infoHash ?? "…",
      magnet: torrent.magnetURI ?? "",
      link,
      asset: transfer.asset,
      price: transfer.price,
      ...(transfer.budget === undefined ? {} : { budget: transfer.budget }),
      length: torrent.length ?? 0,
      pieces,
      have,
      progress: torrent.ready ? torrent.progress : 0,
      downloadSpeed: torrent.downloadSpeed ?? 0,
      uploadSpeed: torrent.uploadSpeed ?? 0,
      timeRemaining: (torrent as unknown as { timeRemaining?: number }).timeRemaining ?? Number.POSITIVE_INFINITY,
      ready: Boolean(torrent.ready),
      done: Boolean(torrent.done),
      total:
        transfer.leecher !== undefined
          ? transfer.leecher.stats().reduce((sum, s) => sum + s.spent, 0n)
          : (transfer.seeder?.stats().paid ?? 0n),
      peers: transfer.leecher !== undefined ? this.#leecherPeers(transfer) : this.#seederPeers(transfer),
      files: (torrent.files ?? []).map((f: { name: string; path: string; length: number }) => ({
        name: f.name,
        path: f.path,
        length: f.length,
        playable: MEDIA.test(f.name),
      })),
      notes: [...transfer.notes],
      state: transfer.kind === "download" && torrent.done && transfer.state !== "settled" ? "settling" : transfer.state,
    };
  }

  #leecherPeers(transfer: Transfer): PeerView[] {
    const leecher = transfer.leecher as PaidLeecher;
    const connected = [...leecher.peers].map((p) => ({ wire: p.wire, stats: p.stats(), seen: p.seen }));
    const wires = new Set(connected.map((p) => p.wire));
    // Peers without our extension (plain BitTorrent clients) have no session: free pieces, nothing paid.
    const plain = (transfer.torrent.wires ?? []).filter((wire) => !wires.has(wire));
    const views: PeerView[] = [
      ...connected.map(({ wire, stats, seen }) => ({
        ...describe(wire),
        ...(seen ? { price: seen.offer.pricePerPiece, asset: seen.offer.asset } : {}),
        ...(seen?.unusable ? { unusable: seen.unusable } : {}),
        paid: stats.spent,
        pieces: stats.delivered,
      })),
      ...plain.map((wire) => ({ ...describe(wire), paid: 0n, pieces: 0 })),
    ];
    // Seeders that left: what we paid them still counts.
    const here = new Set(connected.map((p) => p.stats.channelId));
    for (const stats of leecher.stats()) {
      if (stats.channelId === undefined || here.has(stats.channelId)) continue;
      views.push({
        address: `${shortId(stats.channelId)} (gone)`,
        agent: "other",
        gone: true,
        transport: "-",
        price: stats.pricePerPiece,
        asset: transfer.asset,
        paid: stats.spent,
        pieces: stats.delivered,
      });
    }
    return views;
  }

  #seederPeers(transfer: Transfer): PeerView[] {
    return [...(transfer.seeder?.peers ?? [])].map((peer) => {
      const stats = peer.stats();
      return {
        ...describe(peer.wire),
        price: transfer.price,
        asset: transfer.asset,
        paid: stats.paid,
        pieces: stats.served,
      };
    });
  }

  #saved(): SavedDownload[] {
    try {
      const parsed = JSON.parse(localStorage.getItem(this.storageKey) ?? "[]");
      return Array.isArray(parsed) ? (parsed as SavedDownload[]) : [];
    } catch {
      return [];
    }
  }

  #save(download: SavedDownload): void {
    const infoHash = infoHashOf(download.magnet);
    const others = this.#saved().filter((d) => infoHashOf(d.magnet) !== infoHash);
    localStorage.setItem(this.storageKey, JSON.stringify([...others, download]));
  }

  #forget(infoHash: string): void {
    const kept = this.#saved().filter((d) => infoHashOf(d.magnet) !== infoHash);
    localStorage.setItem(this.storageKey, JSON.stringify(kept));
  }

  #streaming: Promise<Streaming> | undefined;

  /** Starts webtorrent's service-worker streaming for this client, once (the player needs it). */
  streaming(): Promise<Streaming> {
    this.#streaming ??= startStreaming(this.torrents, {
      serviceWorkerUrl: new URL("sw.min.js", document.baseURI).href,
    });
    this.#streaming.catch(() => {
      this.#streaming = undefined; // a later Play tries again
    });
    return this.#streaming;
  }

  async destroy(): Promise<void> {
    (await this.#streaming?.catch(() => undefined))?.close();
    for (const t of this.#transfers.values()) t.seeder?.destroy();
    await new Promise<void>((resolve) => this.torrents.destroy(() => resolve()));
  }
}

/** The infohash of a magnet link (hex, lower case); the link itself when it has none in hex. */
export function infoHashOf(magnet: string): string {
  return (/xt=urn:btih:([0-9a-fA-F]{40})/.exec(magnet)?.[1] ?? magnet).toLowerCase();
}

/** A connection as the peers table names it: its address when the transport has one (WebRTC in a page has none). */
function describe(wire: Wire): Pick<PeerView, "address" | "agent" | "transport"> {
  const address =
    wire.remoteAddress === undefined
      ? `peer ${shortId(wire.peerId ?? "")}`
      : `${wire.remoteAddress}:${wire.remotePort}`;
  return { address, agent: peerAgent(wire.peerId), transport: String((wire as { type?: string }).type ?? "?") };
}

function shortId(hex: string): string {
  return hex.length > 12 ? `${hex.slice(-8)}` : hex;
}
