// The parts of webtorrent 3 and bittorrent-protocol that piecepay uses (neither ships type declarations).
declare module "bittorrent-protocol" {
  import type { EventEmitter } from "node:events";
  export interface Wire extends EventEmitter {
    destroyed: boolean;
    amChoking: boolean;
    peerChoking: boolean;
    hasFast: boolean;
    remoteAddress?: string;
    remotePort?: number;
    peerId?: string;
    uploaded: number;
    downloaded: number;
    extendedHandshake: Record<string, unknown>;
    peerExtendedHandshake: Record<string, unknown>;
    use(extension: new (wire: Wire) => unknown): void;
    extended(name: string, buffer: Uint8Array): void;
    choke(): void;
    unchoke(): void;
    reject(index: number, offset: number, length: number): void;
    piece(index: number, offset: number, buffer: Uint8Array): void;
    request(
      index: number,
      offset: number,
      length: number,
      callback: (error: Error | null, block?: Uint8Array) => void,
    ): unknown;
    peerPieces: { get(index: number): boolean };
    /** Our requests in flight to this peer. */
    requests: unknown[];
    /** Bytes per second received from this peer, lately. */
    downloadSpeed(): number;
    destroy(error?: Error): void;
    _onRequest(index: number, offset: number, length: number): void;
  }
}

declare module "webtorrent" {
  import type { EventEmitter } from "node:events";
  import type { Wire } from "bittorrent-protocol";
  export interface TorrentFile {
    name: string;
    path: string;
    length: number;
    /** Its MIME type, from its name's extension (mime/lite). */
    type: string;
    /** Where the client's server (createServer) serves this file, with range requests; throws without a server. */
    streamURL: string;
  }
  /** What `createServer` returns (lib/server.js); in a page, a BrowserServer answering its service worker. */
  export interface TorrentServer {
    /** The path under which files are served: the worker's scope path + "webtorrent". */
    pathname: string;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
  }
  export interface Torrent extends EventEmitter {
    infoHash: string;
    magnetURI: string;
    torrentFile: Uint8Array;
    name: string;
    length: number;
    pieceLength: number;
    lastPieceLength: number;
    pieces: unknown[];
    files: TorrentFile[];
    wires: Wire[];
    done: boolean;
    destroyed: boolean;
    progress: number;
    downloaded: number;
    uploaded: number;
    downloadSpeed: number;
    uploadSpeed: number;
    numPeers: number;
    path: string;
    ready: boolean;
    addPeer(peer: string): boolean;
    /** Asks for pieces from..to (inclusive), before those of lower priority (webtorrent's documented API). */
    select(from: number, to: number, priority?: number): void;
    /** Stops asking for pieces from..to (inclusive). */
    deselect(from: number, to: number): void;
    /** The trackers of the .torrent or magnet link (webtorrent's public field). */
    announce: string[];
    /** The pieces we have. */
    bitfield?: { get(index: number): boolean };
    /** webtorrent's scheduler: asks the wires for pieces again (internal, but stable across 1.x-3.x). */
    _update?(): void;
    /** webtorrent's scheduler for one wire: tops up its requests from the pieces it may ask it for (internal). */
    _updateWire?(wire: Wire): unknown;
    destroy(options?: { destroyStore?: boolean }, callback?: (error?: Error) => void): void;
  }
  export interface WebTorrentOptions {
    dht?: boolean;
    tracker?: boolean | Record<string, unknown>;
    lsd?: boolean;
    utp?: boolean;
    webSeeds?: boolean;
    natUpnp?: boolean;
    natPmp?: boolean;
    torrentPort?: number;
    maxConns?: number;
  }
  export interface AddOptions {
    path?: string;
    announce?: string[];
    name?: string;
    pieceLength?: number;
    [key: string]: unknown;
  }
  export default class WebTorrent extends EventEmitter {
    constructor(options?: WebTorrentOptions);
    torrents: Torrent[];
    torrentPort: number;
    /** Set once destroyed, also by webtorrent itself when its server cannot listen. */
    destroyed: boolean;
    address(): { address: string; port: number } | null;
    add(torrentId: string | Uint8Array, options?: AddOptions, onTorrent?: (torrent: Torrent) => void): Torrent;
    seed(input: string | string[] | Uint8Array, options?: AddOptions, onSeed?: (torrent: Torrent) => void): Torrent;
    destroy(callback?: (error?: Error) => void): void;
    /**
     * Serves the client's files over HTTP with range requests: in Node an http server, in a page through the
     * service worker of `controller` (webtorrent's dist/sw.min.js), which must be active. One per client.
     */
    createServer(options: { controller?: ServiceWorkerRegistration; origin?: string | false }): TorrentServer;
    /** Caps what the client sends, all peers together, in bytes per second (-1: no cap). */
    throttleUpload(rate: number): void;
  }
}

declare module "webtorrent/polyfills/process-fast.js" {
  export const browser: boolean;
  export const env: Record<string, string | undefined>;
  export function nextTick(callback: (...args: unknown[]) => void, ...args: unknown[]): void;
}
