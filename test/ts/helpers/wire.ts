// Raw BitTorrent bytes against `piecepay seed` and `piecepay get` child processes (docs/security.md rows 31 and 32: no
// peer can crash, freeze or exhaust a seeder or a leecher). Shared by test/ts/client/wire-crash.test.ts and
// scripts/fuzz-wire.ts: a local chain (anvil, offline) with the contracts deployed, the two CLI children, a probe (an
// honest BitTorrent handshake that must be answered within a deadline), the RSS of a process, and builders for wire
// messages and bencode, including malformed ones. Nothing here goes through bittorrent-protocol: the bytes are ours.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { HDNodeWallet, JsonRpcProvider, Wallet } from "ethers";
import { Adjudicator__factory, VoucherPaymentApp__factory } from "../../../typechain-types/index.js";
import { type LocalNode, root, startAnvil } from "./nodes.js";

export const BIN = path.join(root, "client/cli/bin.mjs");
const PHRASE = "test test test test test test test test test test test junk";

/** The i-th account of the public test mnemonic (funded by anvil; test ETH only). */
export const devKey = (i: number) => HDNodeWallet.fromPhrase(PHRASE, undefined, `m/44'/60'/0'/0/${i}`).privateKey;

// ---------------------------------------------------------------------------------------------------------------
// Bytes

const PSTR = Buffer.from("\x13BitTorrent protocol", "latin1");

/** A BitTorrent handshake for `infoHash` (hex): extension protocol (BEP 10), fast (BEP 6) and DHT bits set. */
export function handshake(infoHash: string, peerId: Buffer = randomPeerId()): Buffer {
  const reserved = Buffer.alloc(8);
  reserved[5] |= 0x10;
  reserved[7] |= 0x04 | 0x01;
  return Buffer.concat([PSTR, reserved, Buffer.from(infoHash, "hex"), peerId]);
}

export function randomPeerId(): Buffer {
  return Buffer.concat([Buffer.from("-WF0001-"), randomBytes(12)]);
}

/** One framed message: a 4-byte length (by default the payload's), then `id` (if not null) and `payload`. */
export function frame(id: number | null, payload: Uint8Array = Buffer.alloc(0), length?: number): Buffer {
  const body = id === null ? Buffer.from(payload) : Buffer.concat([Buffer.from([id]), payload]);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE((length ?? body.length) >>> 0);
  return Buffer.concat([prefix, body]);
}

/** 4-byte big-endian integers. */
export function u32(...values: number[]): Buffer {
  const out = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => {
    out.writeUInt32BE(v >>> 0, 4 * i);
  });
  return out;
}

/** An extended message (id 20) on extension number `ext` (0: the extended handshake). */
export function extended(ext: number, payload: Uint8Array | string): Buffer {
  const bytes = typeof payload === "string" ? Buffer.from(payload, "latin1") : Buffer.from(payload);
  return frame(20, Buffer.concat([Buffer.from([ext]), bytes]));
}

export type Bencodable = number | bigint | string | Uint8Array | Bencodable[] | { [key: string]: Bencodable };

/** Canonical bencode (keys sorted). */
export function bencode(value: Bencodable): Buffer {
  if (typeof value === "number" || typeof value === "bigint") return Buffer.from(`i${value}e`);
  if (typeof value === "string") return bencode(Buffer.from(value, "latin1"));
  if (value instanceof Uint8Array) return Buffer.concat([Buffer.from(`${value.length}:`), value]);
  if (Array.isArray(value)) return Buffer.concat([Buffer.from("l"), ...value.map(bencode), Buffer.from("e")]);
  const keys = Object.keys(value).sort();
  return Buffer.concat([
    Buffer.from("d"),
    ...keys.flatMap((k) => [bencode(k), bencode(value[k] as Bencodable)]),
    Buffer.from("e"),
  ]);
}

/**
 * A strict, bounded bencode decoder for what the targets send us (their extended handshakes). Throws on anything
 * malformed, deeper than 64 levels or with a negative or oversized length: our own parser must not be the weak part.
 */
export function bdecode(bytes: Uint8Array): unknown {
  let at = 0;
  const text = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString("latin1");
  const next = (depth: number): unknown => {
    if (depth > 64) throw new Error("too deep");
    const c = bytes[at];
    if (c === 0x69) {
      const end = bytes.indexOf(0x65, at);
      if (end < 0) throw new Error("no end of integer");
      const digits = text(at + 1, end);
      if (!/^(0|-?[1-9][0-9]*)$/.test(digits)) throw new Error(`bad integer ${digits}`);
      at = end + 1;
      return Number(digits);
    }
    if (c === 0x6c || c === 0x64) {
      at++;
      const list: unknown[] = [];
      const dict: Record<string, unknown> = {};
      while (bytes[at] !== 0x65) {
        if (at >= bytes.length) throw new Error("unterminated");
        if (c === 0x6c) list.push(next(depth + 1));
        else {
          const key = Buffer.from(next(depth + 1) as Uint8Array).toString("latin1");
          dict[key] = next(depth + 1);
        }
      }
      at++;
      return c === 0x6c ? list : dict;
    }
    const colon = bytes.indexOf(0x3a, at);
    if (colon < 0) throw new Error("no string length");
    const digits = text(at, colon);
    if (!/^(0|[1-9][0-9]*)$/.test(digits)) throw new Error(`bad string length ${digits}`);
    const length = Number(digits);
    if (colon + 1 + length > bytes.length) throw new Error("string past the end");
    at = colon + 1 + length;
    return bytes.subarray(colon + 1, at);
  };
  return next(0);
}

// ---------------------------------------------------------------------------------------------------------------
// Connections

/**
 * Connects to 127.0.0.1:`port`, from `localAddress` when given (any 127.x.y.z: the targets cap connections per IP,
 * so an attack spread over many loopback addresses is not refused wholesale and leaves 127.0.0.1 to the probe);
 * resolves with the socket once connected (rejects on error or after `ms`).
 */
export function open(port: number, ms = 5_000, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", ...(localAddress ? { localAddress } : {}) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no connection to ${port} within ${ms} ms`));
    }, ms);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** What a target said on a connection: its handshake and, once it arrived, its extended handshake. */
export interface PeerHello {
  infoHash: string;
  /** Extension name -> the id the target wants to receive it on (its `m` dictionary). */
  m: Record<string, number>;
  extendedHandshake: Record<string, unknown>;
}

/**
 * Reads a target's handshake and then its messages up to its extended handshake; resolves with both (or with
 * `m` empty when none came within `ms`). Rejects if the connection closes or nothing comes within `ms`.
 */
export function readHello(socket: Socket, ms = 2_000): Promise<PeerHello> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    let hello: PeerHello | undefined;
    const finish = (error?: Error) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      if (hello) resolve(hello);
      else reject(error);
    };
    const timer = setTimeout(() => finish(new Error(`no handshake within ${ms} ms`)), ms);
    const onClose = () => finish(new Error("the connection closed before the handshake"));
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!hello) {
        if (buffer.length < 68) return;
        hello = { infoHash: buffer.subarray(28, 48).toString("hex"), m: {}, extendedHandshake: {} };
        buffer = buffer.subarray(68);
      }
      while (buffer.length >= 4) {
        const length = buffer.readUInt32BE(0);
        if (length > 1 << 20) return finish(); // not from an honest peer; we have the handshake
        if (buffer.length < 4 + length) return;
        const body = buffer.subarray(4, 4 + length);
        buffer = buffer.subarray(4 + length);
        if (body[0] === 20 && body[1] === 0) {
          try {
            const decoded = bdecode(body.subarray(2)) as Record<string, unknown>;
            hello.extendedHandshake = decoded;
            const m = (decoded.m ?? {}) as Record<string, unknown>;
            for (const [name, id] of Object.entries(m)) if (typeof id === "number") hello.m[name] = id;
          } catch {
            // a malformed extended handshake from a target: leave `m` empty
          }
          return finish();
        }
      }
    };
    socket.on("data", onData);
    socket.once("close", onClose);
  });
}

/**
 * The probe: an honest BitTorrent handshake for `infoHash`; resolves with the time to the target's handshake in
 * ms, or null when none came within `ms` (a freeze) or the connection failed. Always closes its socket.
 */
export async function probe(port: number, infoHash: string, ms = 2_000): Promise<number | null> {
  const started = Date.now();
  let socket: Socket | undefined;
  try {
    socket = await open(port, ms);
    socket.on("error", () => undefined);
    const answered = new Promise<boolean>((resolve) => {
      let got = 0;
      const timer = setTimeout(() => resolve(false), Math.max(1, ms - (Date.now() - started)));
      socket?.on("data", (chunk: Buffer) => {
        got += chunk.length;
        if (got >= 68) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      socket?.once("close", () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    socket.write(handshake(infoHash));
    return (await answered) ? Date.now() - started : null;
  } catch {
    return null;
  } finally {
    socket?.destroy();
  }
}

/** Resolves true once `socket` was closed by the other side (or errored), false if still open after `ms`. */
export function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer);
      socket.off("close", onClose);
      socket.off("end", onClose);
      resolve(value);
    };
    const onClose = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    socket.once("close", onClose);
    socket.once("end", onClose);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Processes

/** VmRSS of `pid` in MiB (null when it is gone). */
export function rssMiB(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? null : Number(kb) / 1024;
  } catch {
    return null;
  }
}

/** Percent of one core `pid` used over `ms` (from /proc/<pid>/stat; null when gone). */
export async function cpuPercent(pid: number, ms = 1_000): Promise<number | null> {
  const ticks = () => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100 per second)
    } catch {
      return null;
    }
  };
  const before = ticks();
  await new Promise((r) => setTimeout(r, ms));
  const after = ticks();
  if (before === null || after === null) return null;
  return ((after - before) / 100 / (ms / 1000)) * 100;
}

/** The TCP ports `pid` listens on (from /proc: its socket inodes matched against /proc/net/tcp{,6}). */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
        if (inode) inodes.add(inode);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return [];
  }
  const ports = new Set<number>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let lines: string[];
    try {
      lines = readFileSync(table, "utf8").split("\n").slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== "0A" || !inodes.has(cols[9])) continue;
      ports.add(Number.parseInt(cols[1].split(":")[1], 16));
    }
  }
  return [...ports];
}

/** A CLI child process: its pid, how it ended (once it did) and the tail of its stderr. */
export interface CliChild {
  name: string;
  child: ChildProcess;
  pid: number;
  port: number;
  infoHash: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  stderrTail(lines?: number): string;
  alive(): boolean;
  /** SIGINT, then SIGKILL after `ms`; resolves with how it ended and whether SIGINT alone was enough. */
  stop(ms?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; graceful: boolean }>;
}

/** `node client/cli/bin.mjs ...args` without the machine's PIECEPAY_ variables; its output kept (tails). */
export function spawnCli(args: string[], env: Record<string, string> = {}) {
  const cleaned = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PIECEPAY_")));
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: root,
    env: { ...cleaned, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout = (stdout + chunk.toString()).slice(-200_000);
  });
  const state = { exit: null as { code: number | null; signal: NodeJS.Signals | null } | null };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      state.exit = { code, signal };
      resolve({ code, signal });
    }),
  );
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  exited.then(() => process.off("exit", kill));
  return { child, exited, state, stdout: () => stdout, stderr: () => stderr };
}

function cliChild(
  name: string,
  spawned: ReturnType<typeof spawnCli>,
  port: number,
  infoHash: string,
  extra: { stdout: () => string },
): CliChild & { stdout: () => string } {
  const { child, exited, state } = spawned;
  return {
    name,
    child,
    pid: child.pid as number,
    port,
    infoHash,
    exited,
    get exit() {
      return state.exit;
    },
    stdout: extra.stdout,
    stderrTail: (lines = 20) => spawned.stderr().trim().split("\n").slice(-lines).join("\n"),
    alive: () => state.exit === null,
    async stop(ms = 5_000) {
      if (state.exit) return { ...state.exit, graceful: false };
      child.kill("SIGINT");
      let graceful = true;
      const timer = setTimeout(() => {
        graceful = false;
        child.kill("SIGKILL");
      }, ms);
      const how = await exited;
      clearTimeout(timer);
      return { ...how, graceful };
    },
  };
}

/** A peer that accepts connections and never says a word: a leecher pointed at it waits forever. */
export async function blackhole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * The world of a wire test: anvil (offline, 30 funded dev accounts), the contracts deployed from account 0, a
 * scratch directory with a deployment record, and helpers to start `piecepay seed` and `piecepay get` children.
 */
export class WireWorld {
  node!: LocalNode;
  provider!: JsonRpcProvider;
  dir!: string;
  adjudicator!: string;
  voucherApp!: string;
  #record!: string;
  #runs = 0;
  #children: CliChild[] = [];
  #holes: { close(): Promise<void> }[] = [];
  readonly #env: Record<string, string>;

  /** `env`: added to every child's environment (the fuzzer caps their V8 heap with NODE_OPTIONS). */
  constructor(options: { env?: Record<string, string> } = {}) {
    this.#env = options.env ?? {};
  }

  async start(): Promise<this> {
    this.node = await startAnvil(["--accounts", "30"]);
    this.provider = new JsonRpcProvider(this.node.url, undefined, { cacheTimeout: -1, pollingInterval: 200 });
    const deployer = new Wallet(devKey(0), this.provider);
    const adjudicator = await (await new Adjudicator__factory(deployer).deploy()).waitForDeployment();
    const voucherApp = await (await new VoucherPaymentApp__factory(deployer).deploy()).waitForDeployment();
    this.adjudicator = await adjudicator.getAddress();
    this.voucherApp = await voucherApp.getAddress();
    this.dir = mkdtempSync(path.join(tmpdir(), "piecepay-wire-"));
    this.#record = JSON.stringify({
      chainId: 31337,
      contracts: { Adjudicator: { address: this.adjudicator }, VoucherPaymentApp: { address: this.voucherApp } },
    });
    return this;
  }

  /** A fresh data dir with the deployment record in it. */
  dataDir(name: string): string {
    const dir = path.join(this.dir, `${name}-${++this.#runs}`);
    mkdirSync(path.join(dir, "deployments"), { recursive: true });
    writeFileSync(path.join(dir, "deployments", "31337.json"), this.#record);
    return dir;
  }

  /** A file of `bytes` random bytes in the scratch dir. */
  file(name: string, bytes: number): string {
    const dir = path.join(this.dir, `files-${++this.#runs}`);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, name);
    writeFileSync(file, randomBytes(bytes));
    return file;
  }

  /**
   * `piecepay seed <file> --price 0.001 --piece-length 64 --json` with dev account `account`; resolves once it
   * printed its ready line (port, torrent, magnet).
   */
  async seed(
    account: number,
    options: { file?: string; bytes?: number; price?: string } = {},
  ): Promise<CliChild & { torrent: string; stdout: () => string }> {
    const file = options.file ?? this.file("payload.bin", options.bytes ?? 1024 * 1024);
    const args = ["seed", file, "--price", options.price ?? "0.001", "--piece-length", "64", "--json"];
    const dataDir = this.dataDir("seeder");
    const spawned = spawnCli([...args, "--rpc", this.node.url, "--data-dir", dataDir], {
      ...this.#env,
      PIECEPAY_KEY: devKey(account),
    });
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`seed: no ready line in 60 s\n${spawned.stderr()}`)), 60_000);
      const check = () => {
        const line = spawned.stdout().split("\n")[0];
        if (spawned.stdout().includes("\n")) {
          clearTimeout(timer);
          resolve(JSON.parse(line));
        }
      };
      spawned.child.stdout?.on("data", check);
      spawned.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`seed exited (${code ?? signal}) before it was ready\n${spawned.stderr()}`));
      });
    });
    const infoHash = /xt=urn:btih:([0-9a-f]{40})/i.exec(String(ready.magnet))?.[1]?.toLowerCase();
    if (!infoHash) throw new Error(`no infohash in ${ready.magnet}`);
    const child = cliChild("seeder", spawned, Number(ready.port), infoHash, spawned);
    this.#children.push(child);
    return Object.assign(child, { torrent: String(ready.torrent) });
  }

  /**
   * `piecepay get <torrent> --peer ...` with dev account `account`: a leecher that stays in progress. Without
   * `peers`, it is pointed at a peer that never answers. Resolves once it listens for peers (its port, read from
   * /proc) and answers a probe. `infoHash` is the torrent's (the caller knows it: it made the torrent).
   */
  async get(
    account: number,
    torrent: string,
    infoHash: string,
    options: { peers?: string[]; budget?: string; maxPrice?: string; out?: string } = {},
  ): Promise<CliChild & { stdout: () => string; out: string }> {
    let peers = options.peers;
    if (!peers) {
      const hole = await blackhole();
      this.#holes.push(hole);
      peers = [`127.0.0.1:${hole.port}`];
    }
    const out = options.out ?? path.join(this.dataDir("out"), "files");
    const args = [
      "get",
      torrent,
      "--max-price",
      options.maxPrice ?? "0.001",
      "--budget",
      options.budget ?? "1",
      "--out",
      out,
      "--timeout",
      "100000",
      "--json",
      ...peers.flatMap((p) => ["--peer", p]),
    ];
    const spawned = spawnCli([...args, "--rpc", this.node.url, "--data-dir", this.dataDir("leecher")], {
      ...this.#env,
      PIECEPAY_KEY: devKey(account),
    });
    const deadline = Date.now() + 60_000;
    let port: number | undefined;
    while (port === undefined) {
      if (spawned.state.exit) throw new Error(`get exited before it listened\n${spawned.stderr()}`);
      if (Date.now() > deadline) throw new Error(`get: not listening within 60 s\n${spawned.stderr()}`);
      for (const candidate of listeningPorts(spawned.child.pid as number)) {
        if ((await probe(candidate, infoHash, 1_000)) !== null) port = candidate;
      }
      if (port === undefined) await new Promise((r) => setTimeout(r, 200));
    }
    const child = cliChild("leecher", spawned, port, infoHash, spawned);
    this.#children.push(child);
    return Object.assign(child, { out });
  }

  /** A .torrent of a fresh random file of `bytes` (nobody seeds it); resolves with its path and infohash. */
  async torrentOfNothing(bytes = 8 * 1024 * 1024): Promise<{ torrent: string; infoHash: string }> {
    const file = this.file("nothing.bin", bytes);
    // Neither package ships type declarations: imported by a name TypeScript does not resolve.
    const packages = { create: "create-torrent", parse: "parse-torrent" };
    const { default: createTorrent } = (await import(packages.create)) as {
      default: (input: string, opts: object, cb: (err: Error | null, torrent: Uint8Array) => void) => void;
    };
    const torrentBytes = await new Promise<Uint8Array>((resolve, reject) =>
      createTorrent(file, { announceList: [], pieceLength: 64 * 1024 }, (err, t) => (err ? reject(err) : resolve(t))),
    );
    const { default: parseTorrent } = (await import(packages.parse)) as {
      default: (t: Uint8Array) => Promise<{ infoHash: string }>;
    };
    const { infoHash } = await parseTorrent(torrentBytes);
    const torrent = `${file}.torrent`;
    writeFileSync(torrent, torrentBytes);
    rmSync(file);
    return { torrent, infoHash };
  }

  async stop(): Promise<void> {
    await Promise.all(this.#children.splice(0).map((c) => c.stop(3_000)));
    await Promise.all(this.#holes.splice(0).map((h) => h.close()));
    this.provider?.destroy();
    await this.node?.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
