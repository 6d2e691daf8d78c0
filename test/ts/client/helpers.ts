// Setup shared by the client tests: in-process webtorrent peers over TCP loopback (no DHT, tracker or LSD; peers
// added by address), paid seeders and leechers on Hardhat's in-process chain with their stores on disk, and a raw
// BitTorrent peer that a test drives byte by byte to play a hostile seeder or leecher.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Wire } from "bittorrent-protocol";
import { expect } from "chai";
import { parseEther, type Wallet, ZeroAddress } from "ethers";
import type WebTorrent from "webtorrent";
import type { Torrent } from "webtorrent";
import { LOOPBACK_ONLY } from "../../../client/session/extension.js";
import {
  createTorrentClient,
  type GuardedClientOptions,
  type WireGuardPool,
} from "../../../client/session/guarded-client.js";
import { PaidLeecher, type PaidLeecherOptions } from "../../../client/session/leecher.js";
import { PaidSeeder, type PaidSeederOptions } from "../../../client/session/seeder.js";
import { decodeMessage } from "../../../client/wire/codec.js";
import { encodeHandshake } from "../../../client/wire/handshake.js";
import { EXTENSION_NAME, type PaidHandshake, type PaidMessage } from "../../../client/wire/messages.js";
import { type PiecepayClient, SqliteChannelStore } from "../../../sdk/node.js";
import { deployFixture, networkHelpers, type Signer, sdkClient } from "../helpers/fixtures.js";

export const PRICE = parseEther("0.0001");
export const PIECE = 64 * 1024;
export const BLOCK = 16 * 1024;

export type Fixture = Awaited<ReturnType<typeof deployFixture>>;

/**
 * Resolves when `torrent` has every piece; rejects after `ms` with what the download was stuck on (the pieces
 * missing and each connection's state), so that a stalled download fails with a diagnosis instead of the test's
 * timeout.
 */
export function done(torrent: Torrent, ms = 90_000): Promise<void> {
  if (torrent.done) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      torrent.off("done", onDone);
      reject(new Error(`the download did not finish within ${ms / 1000} s: ${describeDownload(torrent)}`));
    }, ms);
    const onDone = () => {
      clearTimeout(timer);
      resolve();
    };
    torrent.once("done", onDone);
  });
}

/** One line on where a download stands: pieces missing, and per connection who chokes whom and what is requested. */
export function describeDownload(torrent: Torrent): string {
  const missing: number[] = [];
  for (let i = 0; i < torrent.pieces.length; i++) if (torrent.pieces[i] !== null) missing.push(i);
  const wires = torrent.wires.map((w) => {
    const wire = w as typeof w & { requests?: unknown[]; destroyed?: boolean };
    return `${w.remoteAddress}:${w.remotePort} choked us ${w.peerChoking}, ${wire.requests?.length ?? "?"} requests out, ${w.downloaded} bytes in${wire.destroyed ? ", destroyed" : ""}`;
  });
  return `${missing.length} of ${torrent.pieces.length} pieces missing (${missing.slice(0, 12).join(", ")}${missing.length > 12 ? ", …" : ""}); ${wires.length} connections: ${wires.join("; ") || "none"}`;
}

/** What `until` listens on: a wire, a torrent, or a paid session (whose events are typed). */
interface Listenable {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** Resolves with the first `event` of `emitter` whose arguments pass `test`, or rejects after `ms`. */
export function until<T extends unknown[]>(
  emitter: Listenable,
  event: string,
  test: (...args: T) => boolean = () => true,
  ms = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no '${event}' within ${ms} ms`));
    }, ms);
    const listener = (...args: unknown[]) => {
      if (!test(...(args as T))) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args as T);
    };
    emitter.on(event, listener);
  });
}

/** Polls `condition` every 10 ms; rejects with `what` after `ms`. */
/** Connections the wire guard of `torrent`'s client dropped so far (bytes no library behind it got to see). */
export function guardDrops(torrent: Torrent): number {
  const { client } = torrent as unknown as { client: { guard: WireGuardPool } };
  return Object.values(client.guard.stats().dropped).reduce((a, n) => a + n, 0);
}

/**
 * Fails each test of the enclosing `describe` that leaves an unhandled rejection behind: no peer input may make one.
 */
export function failOnUnhandledRejections(): void {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  before(() => process.on("unhandledRejection", onRejection));
  after(() => process.off("unhandledRejection", onRejection));
  beforeEach(() => {
    rejections.length = 0;
  });
  afterEach(() => {
    expect(rejections.splice(0), "unhandled rejections").to.deep.equal([]);
  });
}

export async function eventually(
  condition: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let stores = 0;

/**
 * Makes `client` keep each torrent it seeds or adds without a `path` in a folder of its own under `dir`. Webtorrent's
 * default is <tmp>/webtorrent/<name>, shared by every process on the machine: two tests seeding different data as
 * "file.bin" at once (the two halves of test:e2e) overwrote each other's file, and a seeder served the other's bytes.
 */
export function storeUnder(client: WebTorrent, dir: string): void {
  for (const method of ["seed", "add"] as const) {
    const original = (client[method] as (...args: unknown[]) => unknown).bind(client);
    (client as unknown as Record<string, unknown>)[method] = (input: unknown, opts?: unknown, onTorrent?: unknown) => {
      if (typeof opts === "function") return original(input, { path: join(dir, `store-${stores++}`) }, opts);
      const given = (opts ?? {}) as { path?: string };
      return original(input, given.path ? given : { ...given, path: join(dir, `store-${stores++}`) }, onTorrent);
    };
  }
}

/**
 * A fresh chain, a temporary directory and the webtorrent clients, SDK stores and paid seeders of one test, torn
 * down after it: `const net = usePaidNetwork()` inside a `describe`.
 */
export function usePaidNetwork(): PaidNetwork {
  const network = new PaidNetwork();
  beforeEach(() => network.setUp());
  afterEach(() => network.tearDown());
  return network;
}

export class PaidNetwork {
  f!: Fixture;
  dir!: string;
  readonly #stores: SqliteChannelStore[] = [];
  readonly #clients: WebTorrent[] = [];
  readonly #seeders: PaidSeeder[] = [];
  readonly #peers: RawPeer[] = [];

  async setUp(): Promise<void> {
    this.f = await networkHelpers.loadFixture(deployFixture);
    this.dir = mkdtempSync(join(tmpdir(), "piecepay-client-"));
  }

  async tearDown(): Promise<void> {
    for (const p of this.#peers.splice(0)) p.destroy();
    for (const s of this.#seeders.splice(0)) s.destroy();
    await Promise.all(
      this.#clients
        .splice(0)
        .map(
          (c) =>
            new Promise((r) =>
              (c as unknown as { destroyed: boolean }).destroyed ? r(undefined) : c.destroy(() => r(undefined)),
            ),
        ),
    );
    for (const s of this.#stores.splice(0)) s.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * An SDK client for `signer` on the fixture's chain, with its own store on disk; with `wallet`, `signer` is a
   * session key and `wallet` sends the transactions and is paid.
   */
  async sdkFor(signer: Signer | Wallet, wallet?: Signer): Promise<PiecepayClient> {
    const store = new SqliteChannelStore(join(this.dir, `${signer.address}-${this.#stores.length}.db`));
    this.#stores.push(store);
    return sdkClient(this.f, signer, store, wallet ? { wallet } : {});
  }

  /** A guarded webtorrent client on loopback, torn down after the test; `options` override LOOPBACK_ONLY's. */
  webtorrent(options: GuardedClientOptions = {}): WebTorrent & { guard: WireGuardPool } {
    const client = createTorrentClient({ ...LOOPBACK_ONLY, ...options });
    this.#clients.push(client);
    storeUnder(client, this.dir);
    return client;
  }

  /**
   * Seeds `data` paid at `price` per piece; resolves with the torrent, the seeder and its port. With `onDisk`, the
   * data is written to a file first and seeded from that path (webtorrent then serves from the file itself), and
   * `file` is its path.
   */
  async seed(
    signer: Signer | Wallet,
    data: Buffer,
    options: { price?: bigint; onDisk?: boolean; wallet?: Signer } & Partial<PaidSeederOptions> = {},
  ) {
    const { price = PRICE, onDisk = false, wallet, ...rest } = options;
    const client = this.webtorrent();
    const seeder = new PaidSeeder({
      client: await this.sdkFor(signer, wallet),
      pricePerPiece: price,
      asset: ZeroAddress,
      ...rest,
    });
    this.#seeders.push(seeder);
    let file: string | undefined;
    let input: string | Buffer = data;
    if (onDisk) {
      const folder = join(this.dir, `seed-${this.#clients.length}`);
      mkdirSync(folder);
      file = join(folder, "file.bin");
      writeFileSync(file, data);
      input = file;
    }
    const torrent = await new Promise<Torrent>((resolve) => {
      const t = client.seed(input, { name: "file.bin", announce: [], pieceLength: PIECE }, resolve);
      seeder.attach(t);
    });
    const port = await listening(client);
    return { torrent, seeder, port, client, file };
  }

  /** A paying leecher of `torrentFile` that connects to `ports`; resolves once it listens (`port`). */
  async leech(
    signer: Signer | Wallet,
    torrentFile: Uint8Array,
    ports: number[],
    options: Partial<Omit<PaidLeecherOptions, "client">> & { wallet?: Signer } = {},
  ) {
    const { wallet, ...rest } = options;
    const client = this.webtorrent();
    const leecher = new PaidLeecher({
      client: await this.sdkFor(signer, wallet),
      maxPricePerPiece: PRICE,
      budget: parseEther("1"),
      asset: ZeroAddress,
      ...rest,
    });
    const path = join(this.dir, `out-${signer.address}-${this.#clients.length}`);
    const torrent = client.add(torrentFile, { path });
    leecher.attach(torrent);
    torrent.on("infoHash", () => {
      for (const port of ports) torrent.addPeer(`127.0.0.1:${port}`);
    });
    const port = await listening(client);
    return { torrent, leecher, client, port, path };
  }

  /** A raw peer connected to `port` for `infoHash`, destroyed after the test. */
  async rawPeer(port: number, infoHash: string, ours?: PaidHandshake): Promise<RawPeer> {
    const peer = await RawPeer.connect(port, infoHash, ours);
    this.#peers.push(peer);
    return peer;
  }
}

async function listening(client: WebTorrent): Promise<number> {
  await eventually(() => Boolean(client.address()?.port), "the client to listen", 5_000);
  return client.address()?.port as number;
}

/** bittorrent-protocol's wire with the parts a raw peer uses beyond what the client declares. */
export type RawWire = Wire & {
  handshake(infoHash: string, peerId: Uint8Array, extensions: { dht?: boolean; fast?: boolean }): void;
  interested(): void;
  /** Sends one BitTorrent message as is: `id`, then 4-byte integers, then `data`. */
  _message(id: number, numbers: number[], data: Uint8Array | null): void;
};

// bittorrent-protocol comes with webtorrent; the client only declares its types, the raw peer needs the class.
const { default: WireClass } = (await import("bittorrent-protocol")) as unknown as {
  default: new (type?: string) => RawWire;
};

/**
 * One BitTorrent connection that a test drives by hand: it speaks the handshake and, if `ours` is given, advertises
 * the paid extension with that handshake; everything else (extension bytes, requests) the test sends itself.
 * Messages that arrive on the extension are kept in `inbox` (decoded when they decode).
 */
export class RawPeer {
  readonly socket: Socket;
  readonly wire: RawWire;
  readonly inbox: (PaidMessage | Uint8Array)[] = [];
  /** Emits 'message' (PaidMessage | Uint8Array) for each extension message. */
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(socket: Socket, ours: PaidHandshake | undefined) {
    this.socket = socket;
    this.wire = new WireClass("tcpOutgoing");
    const inbox = this.inbox;
    const wire = this.wire;
    class RawExtension {
      constructor(w: Wire) {
        if (ours) w.extendedHandshake[EXTENSION_NAME] = encodeHandshake(ours);
      }
      onMessage(buffer: Uint8Array): void {
        let message: PaidMessage | Uint8Array;
        try {
          message = decodeMessage(new Uint8Array(buffer));
        } catch {
          message = buffer;
        }
        inbox.push(message);
        wire.emit("piecepay", message);
      }
    }
    (RawExtension.prototype as unknown as { name: string }).name = EXTENSION_NAME;
    wire.use(RawExtension);
    socket.pipe(wire as unknown as NodeJS.WritableStream);
    (wire as unknown as NodeJS.ReadableStream).pipe(socket);
    this.closed = new Promise((resolve) => {
      const onClose = () => {
        this.isClosed = true;
        resolve();
      };
      socket.once("close", onClose);
      socket.on("error", () => undefined);
      wire.on("error", () => undefined);
    });
  }

  /** Connects, exchanges handshakes and resolves once the peer's extended handshake arrived. */
  static async connect(port: number, infoHash: string, ours?: PaidHandshake): Promise<RawPeer> {
    const socket = connect(port, "127.0.0.1");
    const peer = new RawPeer(socket, ours);
    const extended = new Promise<void>((resolve, reject) => {
      peer.wire.on("extended", (ext: string) => {
        if (ext === "handshake") resolve();
      });
      peer.closed.then(() => reject(new Error("the peer closed the connection during the handshake")));
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("error", reject);
    });
    const peerId = Buffer.from(`-RW0001-${Math.random().toString(36).slice(2, 14).padEnd(12, "0")}`);
    peer.wire.handshake(infoHash, peerId, { dht: false, fast: true });
    // A peer that accepts the connection and then says nothing must fail the test, not hang it.
    let timer: NodeJS.Timeout | undefined;
    const silent = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no extended handshake from 127.0.0.1:${port} within 15 s`));
      }, 15_000);
    });
    try {
      await Promise.race([extended, silent]);
    } finally {
      clearTimeout(timer);
    }
    return peer;
  }

  /** Whether the other side listed `piecepay` in its extended handshake. */
  get peerSpeaksPiecepay(): boolean {
    const m = this.wire.peerExtendedHandshake?.m as Record<string, unknown> | undefined;
    return m?.[EXTENSION_NAME] !== undefined;
  }

  /** Sends raw bytes as one `piecepay` extension message. */
  send(bytes: Uint8Array): void {
    if (!this.isClosed) this.wire.extended(EXTENSION_NAME, Buffer.from(bytes));
  }

  /** Resolves with the first extension message that passes `test` (rejects after `ms`). */
  async next<T extends PaidMessage["type"]>(type: T, ms = 10_000): Promise<Extract<PaidMessage, { type: T }>> {
    const found = this.inbox.find((m): m is PaidMessage => !(m instanceof Uint8Array) && m.type === type);
    if (found) {
      this.inbox.splice(this.inbox.indexOf(found), 1);
      return found as Extract<PaidMessage, { type: T }>;
    }
    const [message] = await until<[PaidMessage]>(
      this.wire,
      "piecepay",
      (m) => !(m instanceof Uint8Array) && m.type === type,
      ms,
    );
    this.inbox.splice(this.inbox.indexOf(message), 1);
    return message as Extract<PaidMessage, { type: T }>;
  }

  /** Resolves once the other side unchoked us. */
  async unchoked(): Promise<void> {
    if (!this.wire.peerChoking) return;
    await until(this.wire, "unchoke");
  }

  /** Resolves true once the other side dropped us, false if it did not within `ms`. */
  async dropped(ms = 3_000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const result = await Promise.race([this.closed.then(() => true as const), timeout]);
    clearTimeout(timer);
    return result;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
