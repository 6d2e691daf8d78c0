// Where a download in a page spends the machine's CPU (client/README.md, "Figures in the browser"): one unpaid
// download of --size MiB over WebRTC into a page of headless Chromium (the browser tests' harness and pages, as
// scripts/bench-web.ts runs them), from a Node seeder and then from a seeding page, each with its MiB/s and the CPU
// seconds that this process and each of Chromium's processes and threads spent meanwhile (Linux's /proc). A
// renderer's main thread is the thread named "chromium"; its WebRTC_W_and_N thread runs DTLS and SCTP; the
// network service's Chrome_ChildIOThread carries every UDP packet between the socket and the renderer.
// Usage: tsx scripts/profile-web.ts [--json] [--size MiB] [--piece KiB]
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { fromJson } from "../sdk/node.js";
import { bundleForBrowser, closeBrowser, openPage, type TestPage } from "../test/ts/browser/harness.js";
import type { Download } from "../test/ts/browser/pages/paid-leecher.js";
import type { Seeding } from "../test/ts/browser/pages/paid-seeder.js";
import { root } from "../test/ts/helpers/nodes.js";
import { seedOverWebRtc, startWebSocketTracker } from "../test/ts/helpers/webrtc-peers.js";
import { benchArgs, printReport } from "./bench-args.js";
import { cpuBetween, cpuSnapshot } from "./process-cpu.js";

const USAGE = `Usage: npm run profile:web -- [--json] [--size MiB] [--piece KiB]

One unpaid download of --size MiB (default 64) in pieces of --piece KiB (default 256) over WebRTC into a page of
headless Chromium, from a Node seeder, then from a seeding page: MiB/s, and the CPU seconds of this process and of
each Chromium process and thread meanwhile (Linux only). --json prints one JSON object.`;

const { json, counts } = benchArgs(USAGE, { size: "64", piece: "256" });
const SIZE_MIB = Number(counts.size);
const PIECE_KIB = Number(counts.piece);
const MiB = 1024 * 1024;
const NAME = "bench.bin";
// The pages download unpaid: nothing reaches the chain, so their wallet's RPC points nowhere.
const NO_CHAIN = "http://127.0.0.1:9";

const [tracker, seederBundle, leecherBundle] = await Promise.all([
  startWebSocketTracker(),
  bundleForBrowser(join(root, "test/ts/browser/pages/paid-seeder.ts"), [], { webtorrent: true }),
  bundleForBrowser(join(root, "test/ts/browser/pages/paid-leecher.ts"), [], { webtorrent: true }),
]);
const pages: TestPage[] = [];

async function page(bundle: string, global: "seeder" | "leecher"): Promise<TestPage> {
  const opened = await openPage(bundle, NO_CHAIN);
  pages.push(opened);
  await opened.page.waitForFunction((name) => name in window, global);
  return opened;
}

/** Downloads `magnet` unpaid in a new page; its MiB/s and the CPU spent from the download's start to its end. */
async function profiledDownload(magnet: string) {
  const leecher = await page(leecherBundle, "leecher");
  const before = cpuSnapshot();
  const started = Date.now();
  const download = fromJson(
    await leecher.page.evaluate(([m, name]) => window.leecher.download(m, name, "0", "0", { paid: false }), [
      magnet,
      NAME,
    ] as const),
  ) as Download;
  const cpu = cpuBetween(before, cpuSnapshot());
  if (download.held !== download.pieces) throw new Error(`held ${download.held} of ${download.pieces} pieces`);
  const seconds = (Date.now() - started) / 1000;
  return {
    MiBps: Math.round((SIZE_MIB / (download.timings.downloadMs / 1000)) * 10) / 10,
    wallSeconds: Math.round(seconds * 10) / 10,
    cpuSeconds: cpu.totalSeconds,
    cpuSecondsPerMiB: Math.round((cpu.totalSeconds / SIZE_MIB) * 1000) / 1000,
    processes: cpu.processes,
    threads: cpu.threads.slice(0, 10),
  };
}

async function fromNode() {
  const seeding = await seedOverWebRtc({
    client: undefined,
    files: { [NAME]: randomBytes(SIZE_MIB * MiB) },
    name: NAME,
    pieceLength: PIECE_KIB * 1024,
    pricePerPiece: 0n,
    announce: tracker.announce,
  });
  try {
    return await profiledDownload(seeding.torrent.magnetURI);
  } finally {
    for (const p of pages.splice(0)) await p.close();
    await seeding.close();
  }
}

async function fromPage() {
  try {
    const seeder = await page(seederBundle, "seeder");
    const request = {
      name: NAME,
      bytes: SIZE_MIB * MiB,
      pieceLength: PIECE_KIB * 1024,
      announce: tracker.announce,
      price: null,
    };
    const seeding = fromJson(await seeder.page.evaluate((r) => window.seeder.seed(r), request)) as Seeding;
    return await profiledDownload(seeding.magnet);
  } finally {
    for (const p of pages.splice(0)) await p.close();
  }
}

const report = await (async () => ({
  date: new Date().toISOString(),
  sizeMiB: SIZE_MIB,
  pieceLengthKiB: PIECE_KIB,
  nodeToBrowser: await fromNode(),
  browserToBrowser: await fromPage(),
}))().finally(async () => {
  for (const p of pages.splice(0)) await p.close();
  await closeBrowser();
  await tracker.close();
});
printReport(json, report, (r) =>
  (
    [
      ["Node -> browser", r.nodeToBrowser],
      ["browser -> browser", r.browserToBrowser],
    ] as const
  ).flatMap(([label, f]) => [
    `${label}, ${r.sizeMiB} MiB unpaid: ${f.MiBps} MiB/s; CPU ${f.cpuSeconds} s in ${f.wallSeconds} s (${f.cpuSecondsPerMiB} s per MiB)`,
    ...f.processes.map(([p, s]) => `  ${s.toFixed(2)} s  ${p}`),
    "  busiest threads:",
    ...f.threads.map(([t, s]) => `    ${s.toFixed(2)} s  ${t}`),
  ]),
);
// node-datachannel's threads would keep the process alive after the last connection closed.
process.exit(0);
