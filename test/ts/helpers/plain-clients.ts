// Plain BitTorrent clients that are not webtorrent, from Debian (`.ci/run` installs them when missing): aria2 seeding
// or downloading, and transmission-create making a .torrent the way Transmission does. Each runs with no DHT, no
// local discovery and no peer exchange, so that it meets only the peers a test gives it.
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

/**
 * aria2 seeding `files` (name -> bytes, written under `dir/aria2`) of the torrent `torrentFile`, checked from disk
 * first; resolves once it accepts connections on its port.
 */
export async function aria2Seed(
  dir: string,
  torrentFile: Uint8Array,
  files: Record<string, Uint8Array>,
): Promise<{ port: number; child: ChildProcess; stop(): void }> {
  requireTool("aria2c", "aria2");
  const folder = join(dir, "aria2");
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(join(folder, name, ".."), { recursive: true });
    writeFileSync(join(folder, name), bytes);
  }
  const torrentPath = join(dir, "aria2-seed.torrent");
  writeFileSync(torrentPath, torrentFile);
  const port = await freePort();
  const child = spawn(
    "aria2c",
    [
      `--dir=${folder}`,
      "--check-integrity=true",
      "--seed-ratio=0.0",
      `--listen-port=${port}`,
      ...ARIA2_QUIET,
      torrentPath,
    ],
    { stdio: "ignore" },
  );
  await accepting(port, 15_000);
  return { port, child, stop: () => child.kill("SIGTERM") };
}

/**
 * aria2 downloading `torrentPath` into `out` from the peers its trackers give, and quitting once done (no seeding);
 * resolves with its exit code and what it printed.
 */
export function aria2Get(
  torrentPath: string,
  out: string,
  timeoutS = 60,
): Promise<{ code: number | null; log: string }> {
  requireTool("aria2c", "aria2");
  return new Promise((resolve) => {
    const child = spawn(
      "aria2c",
      [`--dir=${out}`, "--seed-time=0", `--bt-stop-timeout=${timeoutS}`, ...ARIA2_QUIET, torrentPath],
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
      clearTimeout(timer);
      resolve({ code, log });
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
