// Plain BitTorrent clients that are not webtorrent, from Debian (`.ci/run` installs them when missing): aria2 seeding
// or downloading, qBittorrent-nox (libtorrent) driven through its Web API, and transmission-create making a .torrent
// the way Transmission does. Each runs with no DHT, no local discovery and no peer exchange, so that it meets only
// the peers a test gives it.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { freePort } from "./nodes.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Throws a clear error when Debian's `command` (package `pkg`) is missing. */
export function requireTool(command: string, pkg: string, versionFlag = "--version"): void {
  const probe = spawnSync(command, [versionFlag]);
  if (probe.error || probe.status !== 0)
    throw new Error(`${command} is not installed (Debian package ${pkg}; .ci/run installs it)`);
}

/** Resolves once something accepts TCP connections on `port`. */
export async function accepting(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${ms} ms`);
    await sleep(100);
  }
}

const ARIA2_QUIET = [
  "--enable-dht=false",
  "--enable-dht6=false",
  "--bt-enable-lpd=false",
  "--enable-peer-exchange=false",
  "--console-log-level=error",
  "--summary-interval=0",
  "--no-conf=true",
];

/** An aria2 process seeding one torrent. */
export interface Aria2Seeder {
  port: number;
  child: ChildProcess;
  stop(): void;
  /** Bytes it has sent so far, read through its JSON-RPC (seeders started with `rpc: true` only). */
  uploaded(): Promise<number>;
}

/**
 * aria2 seeding `files` (name -> bytes, written under `dir/aria2`) of the torrent `torrentFile`, checked from disk
 * first; resolves once it accepts connections on its port.
 */
export async function aria2Seed(
  dir: string,
  torrentFile: Uint8Array,
  files: Record<string, Uint8Array>,
): Promise<Aria2Seeder> {
  const folder = join(dir, "aria2");
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(join(folder, name, ".."), { recursive: true });
    writeFileSync(join(folder, name), bytes);
  }
  const torrentPath = join(dir, "aria2-seed.torrent");
  writeFileSync(torrentPath, torrentFile);
  return aria2SeedFolder(folder, torrentPath);
}

/**
 * aria2 seeding the torrent at `torrentPath` from the files already in `folder`, checked from disk first; with
 * `tracker`, announcing to it too; with `rpc`, answering JSON-RPC on loopback (for `uploaded()`). Resolves once it
 * accepts connections on its port (the check of a large file takes a while: `readyMs`).
 */
export async function aria2SeedFolder(
  folder: string,
  torrentPath: string,
  options: { tracker?: string; rpc?: boolean; readyMs?: number } = {},
): Promise<Aria2Seeder> {
  requireTool("aria2c", "aria2");
  const port = await freePort();
  const rpcPort = options.rpc ? await freePort() : undefined;
  const child = spawn(
    "aria2c",
    [
      `--dir=${folder}`,
      "--check-integrity=true",
      "--seed-ratio=0.0",
      `--listen-port=${port}`,
      ...(options.tracker === undefined ? [] : [`--bt-tracker=${options.tracker}`]),
      ...(rpcPort === undefined ? [] : ["--enable-rpc=true", `--rpc-listen-port=${rpcPort}`]),
      ...ARIA2_QUIET,
      torrentPath,
    ],
    { stdio: "ignore" },
  );
  await accepting(port, options.readyMs ?? 15_000);
  return {
    port,
    child,
    stop: () => child.kill("SIGTERM"),
    uploaded: async () => {
      if (rpcPort === undefined) throw new Error("this aria2 seeder was started without rpc: true");
      const answer = await fetch(`http://127.0.0.1:${rpcPort}/jsonrpc`, {
        method: "POST",
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "aria2.tellActive", params: [["uploadLength"]] }),
      });
      const { result } = (await answer.json()) as { result: { uploadLength: string }[] };
      return result.reduce((sum, download) => sum + Number(download.uploadLength), 0);
    },
  };
}

/**
 * aria2 downloading `torrentPath` into `out` from the peers its trackers give (and `options.tracker`'s), and
 * quitting once done (no seeding); resolves with its exit code, what it printed, and the milliseconds from its
 * spawn to its exit.
 */
export function aria2Get(
  torrentPath: string,
  out: string,
  timeoutS = 60,
  options: { tracker?: string } = {},
): Promise<{ code: number | null; log: string; ms: number }> {
  requireTool("aria2c", "aria2");
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(
      "aria2c",
      [
        `--dir=${out}`,
        "--seed-time=0",
        `--bt-stop-timeout=${timeoutS}`,
        ...(options.tracker === undefined ? [] : [`--bt-tracker=${options.tracker}`]),
        ...ARIA2_QUIET,
        torrentPath,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let log = "";
    child.stdout.on("data", (chunk: Buffer) => {
      log += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      log += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), (timeoutS + 10) * 1000);
    child.once("exit", (code) => {
      const ms = performance.now() - started;
      clearTimeout(timer);
      resolve({ code, log, ms });
    });
  });
}

/** A .torrent made by Transmission's `transmission-create` for `path` (a file or folder), as its bytes. */
export function transmissionCreate(path: string, out: string, options: { pieceKiB?: number; tracker?: string } = {}) {
  requireTool("transmission-create", "transmission-cli", "--help");
  const args = ["-o", out];
  if (options.pieceKiB !== undefined) args.push("-s", String(options.pieceKiB));
  if (options.tracker !== undefined) args.push("-t", options.tracker);
  const made = spawnSync("transmission-create", [...args, path], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`transmission-create failed: ${made.stderr || made.stdout}`);
  return readFileSync(out);
}

/** The infohash of a .torrent's bytes, as parse-torrent (webtorrent's parser) reads it. */
export async function infoHashOf(torrent: Uint8Array): Promise<string> {
  // parse-torrent ships no type declarations: imported by a name TypeScript does not resolve.
  const name = "parse-torrent";
  const { default: parseTorrent } = (await import(name)) as {
    default: (t: Uint8Array) => Promise<{ infoHash: string }>;
  };
  return (await parseTorrent(torrent)).infoHash;
}

/** One torrent as qBittorrent's Web API lists it (the fields the tests read). */
export interface QbittorrentTorrent {
  hash: string;
  name: string;
  state: string;
  progress: number;
  uploaded: number;
}

/** A qBittorrent-nox process with its own profile, driven through its Web API on loopback. */
export interface Qbittorrent {
  /** Its BitTorrent port. */
  port: number;
  /** Adds a .torrent's bytes or a magnet, saving into (or seeding from) `savepath`; the files there are checked. */
  add(source: Uint8Array | string, savepath: string): Promise<void>;
  /** Connects it to these peers (HOST:PORT) of the torrent `hash`. */
  addPeers(hash: string, peers: string[]): Promise<void>;
  /** Resolves with the torrent once its state is one of `states`; throws on an error state or after `ms`. */
  waitFor(hash: string, states: string[], ms: number): Promise<QbittorrentTorrent>;
  stop(): Promise<void>;
}

/** The states of a torrent that has every piece and seeds: with peers to serve, or waiting for some. */
export const QBITTORRENT_SEEDING = ["uploading", "stalledUP"];

/**
 * Debian's qbittorrent-nox with a fresh profile in `profile`: no DHT, local discovery, peer exchange or port mapping;
 * the Web API on 127.0.0.1 without a login (WebUI\LocalHostAuth=false: a request from localhost needs none). Its
 * outgoing connections use TCP alone: by default libtorrent tries uTP first, and against a peer without uTP (piecepay,
 * like webtorrent in Node, has none) that attempt costs 3 s before it falls back to TCP.
 */
export async function startQbittorrent(profile: string): Promise<Qbittorrent> {
  requireTool("qbittorrent-nox", "qbittorrent-nox");
  const config = join(profile, "qBittorrent", "config");
  mkdirSync(config, { recursive: true });
  writeFileSync(
    join(config, "qBittorrent.conf"),
    [
      "[LegalNotice]",
      "Accepted=true",
      "[BitTorrent]",
      "Session\\BTProtocol=TCP",
      "Session\\DHTEnabled=false",
      "Session\\LSDEnabled=false",
      "Session\\PeXEnabled=false",
      "Session\\QueueingSystemEnabled=false",
      "[Network]",
      "PortForwardingEnabled=false",
      "[Preferences]",
      "Connection\\ResolvePeerCountries=false",
      "WebUI\\Address=127.0.0.1",
      "WebUI\\LocalHostAuth=false",
      "",
    ].join("\n"),
  );
  const [webui, port] = [await freePort(), await freePort()];
  const child = spawn(
    "qbittorrent-nox",
    [`--profile=${profile}`, `--webui-port=${webui}`, `--torrenting-port=${port}`],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const api = async (path: string, body?: URLSearchParams | FormData): Promise<string> => {
    const answer = await fetch(`http://127.0.0.1:${webui}/api/v2/${path}`, body ? { method: "POST", body } : {});
    const text = await answer.text();
    if (!answer.ok) throw new Error(`qBittorrent ${path}: HTTP ${answer.status} ${text}`);
    return text;
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`qbittorrent-nox exited (${child.exitCode ?? child.signalCode}): ${log}`);
    if (
      await api("app/version").then(
        () => true,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`qbittorrent-nox's Web API did not answer within 15 s: ${log}`);
    }
    await sleep(100);
  }
  return {
    port,
    async add(source, savepath) {
      const form = new FormData();
      if (typeof source === "string") form.append("urls", source);
      else form.append("torrents", new Blob([Uint8Array.from(source)]), "added.torrent");
      form.append("savepath", savepath);
      form.append("skip_checking", "false");
      const answer = await api("torrents/add", form);
      if (answer.trim() !== "Ok.") throw new Error(`qBittorrent refused the torrent: ${answer}`);
    },
    async addPeers(hash, peers) {
      // A torrent just added is listed a moment later; peers given before that would be refused.
      const until = Date.now() + 10_000;
      while ((JSON.parse(await api(`torrents/info?hashes=${hash}`)) as unknown[]).length === 0) {
        if (Date.now() > until) throw new Error(`qBittorrent does not list ${hash} 10 s after it was added`);
        await sleep(50);
      }
      await api("torrents/addPeers", new URLSearchParams({ hashes: hash, peers: peers.join("|") }));
    },
    async waitFor(hash, states, ms) {
      const until = Date.now() + ms;
      let last: QbittorrentTorrent | undefined;
      for (;;) {
        [last] = JSON.parse(await api(`torrents/info?hashes=${hash}`)) as QbittorrentTorrent[];
        if (last && states.includes(last.state)) return last;
        if (last && ["error", "missingFiles"].includes(last.state))
          throw new Error(`qBittorrent: ${last.name} is in state ${last.state}`);
        if (Date.now() > until)
          throw new Error(`qBittorrent: ${hash} not ${states.join(" or ")} after ${ms} ms: ${JSON.stringify(last)}`);
        await sleep(100);
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
