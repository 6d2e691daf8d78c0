// A free download from a plain BitTorrent seeder: `piecepay get` against aria2 downloading the same file from the
// same seeder, measured in one run. One aria2 process (Debian's) seeds a random file from disk, made into a torrent
// by transmission-create; then, N times each and in turn (piecepay first in rounds 1, 3, ..., aria2 in 2, 4, ...):
//   - `piecepay get <torrent> --peer 127.0.0.1:PORT --out DIR` as a child process (the CLI as a person runs it),
//     with no key and `--rpc` pointing at nothing, so a download that touched a chain would fail;
//   - `aria2c <torrent>` as a leecher, finding the seeder through a tracker (in this process) that the seeder
//     announced to: aria2 has no --peer.
// Each run times three spans on one clock: from the leecher's spawn to its exit (what a person waits for, process
// start included; the target is on this one); from the first byte the seeder sent to it to its exit; and from that
// first byte to the last (the transfer alone). The bytes sent are the seeder's own upload counter, polled through its
// JSON-RPC every POLL_MS, the same for both leechers. Every download is checked byte for byte against the file, then
// deleted.
// Usage: tsx scripts/bench-plain.ts [--json] [--size MiB] [--runs N] [--piece KiB]
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { closeSync, createReadStream, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import Server from "bittorrent-tracker/server";
import { BIN, cleanEnv } from "../test/ts/client/cli-process.js";
import { freePort } from "../test/ts/helpers/nodes.js";
import {
  aria2Get,
  aria2SeedFolder,
  infoHashOf,
  requireTool,
  transmissionCreate,
} from "../test/ts/helpers/plain-clients.js";
import { benchArgs, printReport } from "./bench-args.js";

const USAGE = `Usage: npm run bench:plain -- [--json] [--size MiB] [--runs N] [--piece KiB]

A free download from a plain aria2 seeder on loopback: \`piecepay get <torrent> --peer\` (the CLI as a child process,
no key, no chain) against aria2c downloading the same file from the same seeder (through a tracker), --runs times
each in turn (default 3; medians count). The file: --size MiB of random bytes on disk (default 256), pieces of
--piece KiB (default 1024), the torrent made by transmission-create. Prints MiB/s from spawn to exit and from the
first byte the seeder sent to exit and to its last byte, and the ratios piecepay / aria2 (target >= 1.0, from spawn
to exit).
Needs Debian's aria2 and transmission-cli. --json prints one JSON object.`;

const { json, counts } = benchArgs(USAGE, { size: "256", runs: "3", piece: "1024" });
const SIZE_MIB = counts.size as number;
const RUNS = counts.runs as number;
const PIECE_KIB = counts.piece as number;
if (PIECE_KIB < 16 || (PIECE_KIB & (PIECE_KIB - 1)) !== 0) throw new Error("--piece must be a power of two >= 16");
requireTool("aria2c", "aria2");
requireTool("transmission-create", "transmission-cli", "--help");

const MiB = 1024 * 1024;
const POLL_MS = 20;
const TARGET = 1.0;
const NO_CHAIN = ["--rpc", "http://127.0.0.1:9"];

type Leecher = "piecepay" | "aria2";
interface Run {
  leecher: Leecher;
  /** Spawn to exit. */
  totalMs: number;
  /** The seeder's first byte sent to this leecher, to the leecher's exit. */
  fromFirstByteMs: number;
  /** The seeder's first byte to this leecher, to the poll that saw the whole file sent (the transfer alone). */
  transferMs: number;
  /** piecepay's own figure from its done line (torrent added -> every piece verified). */
  ownSeconds?: number;
}

const sha256 = async (file: string) => {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
};

const root = mkdtempSync(join(tmpdir(), "piecepay-bench-plain-"));
const seedFolder = join(root, "seed");
mkdirSync(seedFolder);
const file = join(seedFolder, "plain.bin");
const fd = openSync(file, "w");
for (let written = 0; written < SIZE_MIB; written++) writeSync(fd, randomBytes(MiB));
closeSync(fd);
const torrentPath = join(root, "plain.torrent");
const infoHash = await infoHashOf(transmissionCreate(file, torrentPath, { pieceKiB: PIECE_KIB }));
const expected = await sha256(file);

const tracker = new Server({ udp: false, http: true, ws: false, stats: false });
const trackerPort = await freePort();
await new Promise<void>((resolve) => tracker.listen(trackerPort, "127.0.0.1", resolve));
const announce = `http://127.0.0.1:${trackerPort}/announce`;
const announced = new Promise<void>((resolve) =>
  tracker.on("start", (_address: string, params: { info_hash?: string }) => {
    if (params.info_hash === infoHash) resolve();
  }),
);
const seeder = await aria2SeedFolder(seedFolder, torrentPath, { tracker: announce, rpc: true, readyMs: 120_000 });

/** Runs `download` while polling the seeder's upload counter; returns the three spans. */
async function timed(leecher: Leecher, download: () => Promise<{ ms: number; ownSeconds?: number }>): Promise<Run> {
  const before = await seeder.uploaded();
  const started = performance.now();
  let firstByte: number | undefined;
  let lastByte: number | undefined;
  let polling = true;
  const poll = (async () => {
    while (polling && lastByte === undefined) {
      const sent = (await seeder.uploaded()) - before;
      const now = performance.now();
      if (sent > 0 && firstByte === undefined) firstByte = now;
      if (sent >= SIZE_MIB * MiB) lastByte = now;
      else await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  const { ms, ownSeconds } = await download();
  const ended = started + ms;
  polling = false;
  await poll;
  if (firstByte === undefined) throw new Error(`${leecher}: the seeder sent it nothing`);
  // A leecher that exited before the next poll saw the whole file sent: the file was sent by its exit at the latest.
  const last = Math.min(lastByte ?? ended, ended);
  return {
    leecher,
    totalMs: ms,
    fromFirstByteMs: ended - firstByte,
    transferMs: last - firstByte,
    ownSeconds,
  };
}

async function piecepayRun(out: string): Promise<{ ms: number; ownSeconds?: number }> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      BIN,
      "get",
      torrentPath,
      "--peer",
      `127.0.0.1:${seeder.port}`,
      "--out",
      out,
      "--data-dir",
      join(out, "..", "piecepay-data"),
      "--timeout",
      "300",
      "--json",
      ...NO_CHAIN,
    ],
    { env: cleanEnv({}), stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, "exit")) as [number | null];
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`piecepay get exited with ${code}:\n${stderr}`);
  const done = stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { event?: string; seconds?: number })
    .find((line) => line.event === "done");
  return { ms, ownSeconds: done?.seconds };
}

async function aria2Run(out: string): Promise<{ ms: number }> {
  const got = await aria2Get(torrentPath, out, 300, { tracker: announce });
  if (got.code !== 0) throw new Error(`aria2c exited with ${got.code}:\n${got.log}`);
  return { ms: got.ms };
}

const runs: Run[] = [];
try {
  await announced;
  for (let round = 0; round < RUNS; round++) {
    const order: Leecher[] = round % 2 === 0 ? ["piecepay", "aria2"] : ["aria2", "piecepay"];
    for (const leecher of order) {
      const dir = join(root, `${leecher}-${round}`);
      const out = join(dir, "out");
      const run = await timed(leecher, () => (leecher === "piecepay" ? piecepayRun(out) : aria2Run(out)));
      if ((await sha256(join(out, "plain.bin"))) !== expected) throw new Error(`${leecher}: the file differs`);
      rmSync(dir, { recursive: true, force: true });
      runs.push(run);
      if (!json) {
        const own = run.ownSeconds === undefined ? "" : `; its own add -> done ${run.ownSeconds.toFixed(2)} s`;
        console.error(
          `  run ${round + 1} ${leecher}: ${(run.totalMs / 1000).toFixed(2)} s spawn -> exit, ${(run.fromFirstByteMs / 1000).toFixed(2)} s first byte -> exit, ${(run.transferMs / 1000).toFixed(2)} s first -> last byte${own}`,
        );
      }
    }
  }
} finally {
  seeder.stop();
  await new Promise<void>((resolve) => tracker.close(() => resolve()));
  rmSync(root, { recursive: true, force: true });
}

const median = (list: number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const mibps = (ms: number) => Math.round((SIZE_MIB / (ms / 1000)) * 10) / 10;
const figures = (leecher: Leecher) => {
  const mine = runs.filter((r) => r.leecher === leecher);
  return {
    spawnToExitMiBps: { median: mibps(median(mine.map((r) => r.totalMs))), each: mine.map((r) => mibps(r.totalMs)) },
    firstByteToExitMiBps: {
      median: mibps(median(mine.map((r) => r.fromFirstByteMs))),
      each: mine.map((r) => mibps(r.fromFirstByteMs)),
    },
    firstToLastByteMiBps: {
      median: mibps(median(mine.map((r) => r.transferMs))),
      each: mine.map((r) => mibps(r.transferMs)),
    },
  };
};
const piecepay = figures("piecepay");
const aria2 = figures("aria2");
const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
const report = {
  sizeMiB: SIZE_MIB,
  pieceKiB: PIECE_KIB,
  runs: RUNS,
  node: process.version,
  loadAverage: loadavg().map((n) => Math.round(n * 100) / 100),
  piecepay: {
    ...piecepay,
    ownAddToDoneSeconds: runs.filter((r) => r.leecher === "piecepay").map((r) => r.ownSeconds),
  },
  aria2,
  ratio: {
    spawnToExit: ratio(piecepay.spawnToExitMiBps.median, aria2.spawnToExitMiBps.median),
    firstByteToExit: ratio(piecepay.firstByteToExitMiBps.median, aria2.firstByteToExitMiBps.median),
    firstToLastByte: ratio(piecepay.firstToLastByteMiBps.median, aria2.firstToLastByteMiBps.median),
  },
  target: TARGET,
  met: piecepay.spawnToExitMiBps.median / aria2.spawnToExitMiBps.median >= TARGET,
};
printReport(json, report, (r) => [
  `A free download from a plain aria2 seeder on loopback, ${r.sizeMiB} MiB in pieces of ${r.pieceKiB} KiB, ${r.runs} runs each in turn (medians; load average ${r.loadAverage.join(", ")}):`,
  `  spawn -> exit:       piecepay get ${r.piecepay.spawnToExitMiBps.median} MiB/s (${r.piecepay.spawnToExitMiBps.each.join(", ")}), aria2c ${r.aria2.spawnToExitMiBps.median} MiB/s (${r.aria2.spawnToExitMiBps.each.join(", ")}); ratio ${r.ratio.spawnToExit}, target >= ${r.target}: ${r.met ? "met" : "NOT met"}`,
  `  first byte -> exit:  piecepay get ${r.piecepay.firstByteToExitMiBps.median} MiB/s (${r.piecepay.firstByteToExitMiBps.each.join(", ")}), aria2c ${r.aria2.firstByteToExitMiBps.median} MiB/s (${r.aria2.firstByteToExitMiBps.each.join(", ")}); ratio ${r.ratio.firstByteToExit}`,
  `  first -> last byte:  piecepay get ${r.piecepay.firstToLastByteMiBps.median} MiB/s (${r.piecepay.firstToLastByteMiBps.each.join(", ")}), aria2c ${r.aria2.firstToLastByteMiBps.median} MiB/s (${r.aria2.firstToLastByteMiBps.each.join(", ")}); ratio ${r.ratio.firstToLastByte}`,
]);
