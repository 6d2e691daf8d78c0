// The browser's figures of the test pages (issue 14), for scripts/bench-web.ts, measured in one run in headless
// Chromium (test/ts/browser/harness.ts): pages that seed and download over WebRTC through a WebSocket tracker on
// loopback, with the same guarded webtorrent client unpaid and with the paid sessions (PaidSeeder/PaidLeecher,
// IndexedDB stores, the injected wallet on anvil with automine: each transaction is mined as it arrives). Each page is
// in its own browser context (its own IndexedDB and OPFS, where webtorrent keeps the pieces on both sides).
// - browser -> browser: MiB/s unpaid and paid, and paid / unpaid;
// - Node seeder (node-datachannel, test/ts/helpers/webrtc-peers.ts) -> browser: MiB/s unpaid and paid;
// - from the page's add(magnet) to the first verified paid piece, with its steps: metadata, first connection,
//   deposit confirmed, first piece (browser -> browser, paid runs).
// Unpaid and paid runs alternate; the median of each counts. MiB/s counts from the leecher's first connection to its
// last verified piece, as scripts/bench-webrtc.ts does for Node -> Node. Every paid run is checked to settle in full.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { JsonRpcProvider, parseEther } from "ethers";
import { fromJson, PiecepayClient, SqliteChannelStore } from "../sdk/node.js";
import { anvilAccount, deployForPages } from "../test/ts/browser/anvil-contracts.js";
import { bundleForBrowser, closeBrowser, openPage, type TestPage } from "../test/ts/browser/harness.js";
import type { Download, DownloadOptions } from "../test/ts/browser/pages/paid-leecher.js";
import type { Seeding } from "../test/ts/browser/pages/paid-seeder.js";
import { root, startAnvil } from "../test/ts/helpers/nodes.js";
import { seedOverWebRtc, startWebSocketTracker } from "../test/ts/helpers/webrtc-peers.js";

const MiB = 1024 * 1024;
const CHAIN_ID = 31_337n;
const PRICE = parseEther("0.00001");
const BUDGET = parseEther("1");
const NAME = "bench.bin";

export interface PagesBenchOptions {
  /** The file's size. */
  sizeMiB: number;
  pieceKiB: number;
  /** Unpaid and paid downloads of each kind. */
  runCount: number;
  /** The paying page's credit window (undefined: PaidLeecher's). */
  maxWindow?: number;
  progress(message: string): void;
}

export type PagesFigures = Awaited<ReturnType<typeof measurePages>>;

/** The test pages' figures: starts their chain, tracker and Chromium, and stops them. */
export async function measurePages(options: PagesBenchOptions) {
  const { sizeMiB, pieceKiB, runCount, maxWindow, progress } = options;
  const dir = mkdtempSync(join(tmpdir(), "piecepay-bench-web-"));
  const [node, tracker, seederBundle, leecherBundle] = await Promise.all([
    startAnvil(),
    startWebSocketTracker(),
    bundleForBrowser(join(root, "test/ts/browser/pages/paid-seeder.ts"), [], { webtorrent: true }),
    bundleForBrowser(join(root, "test/ts/browser/pages/paid-leecher.ts"), [], { webtorrent: true }),
  ]);
  const provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1, pollingInterval: 100 });
  const { settings } = await deployForPages(provider, CHAIN_ID);
  const pages: TestPage[] = [];

  async function page(bundle: string, global: "seeder" | "leecher"): Promise<TestPage> {
    const opened = await openPage(bundle, node.url);
    pages.push(opened);
    await opened.page.waitForFunction((name) => name in window, global);
    return opened;
  }

  async function closePages(): Promise<void> {
    for (const p of pages.splice(0)) await p.close();
  }

  /** A seeder page (paid to anvil's account 3, or unpaid) seeding --size MiB of random bytes; its magnet link. */
  async function seederPage(paid: boolean): Promise<string> {
    const seeder = await page(seederBundle, "seeder");
    if (paid) await seeder.page.evaluate(([s, a]) => window.seeder.start(s, a), [settings, 3] as const);
    const request = {
      name: NAME,
      bytes: sizeMiB * MiB,
      pieceLength: pieceKiB * 1024,
      announce: tracker.announce,
      price: paid ? String(PRICE) : null,
    };
    const seeding = fromJson(await seeder.page.evaluate((r) => window.seeder.seed(r), request)) as Seeding;
    return seeding.magnet;
  }

  /** A leecher page (paying from anvil's account 0, or unpaid) downloading `magnet`; checks it got every piece. */
  async function leecherPage(magnet: string, paid: boolean): Promise<Download> {
    const leecher = await page(leecherBundle, "leecher");
    if (paid) await leecher.page.evaluate((s) => window.leecher.start(s), settings);
    const options: DownloadOptions = { paid, maxWindow };
    const download = fromJson(
      await leecher.page.evaluate(
        ([m, price, budget, o]) => window.leecher.download(m, "bench.bin", price, budget, o),
        [magnet, String(PRICE), String(BUDGET), options] as const,
      ),
    ) as Download;
    if (download.held !== download.pieces || download.peerTypes.some((t) => t !== "webrtc")) {
      throw new Error(`held ${download.held} of ${download.pieces} pieces over ${download.peerTypes.join(", ")}`);
    }
    if (paid) {
      const delivered = download.settled.reduce((a, p) => a + p.delivered, 0);
      if (delivered !== download.pieces || download.settled.some((p) => !p.closed)) {
        throw new Error(`settled ${delivered} of ${download.pieces} pieces`);
      }
    }
    return download;
  }

  const mibps = (download: Download) => Math.round((sizeMiB / (download.timings.downloadMs / 1000)) * 10) / 10;

  async function browserToBrowser(paid: boolean): Promise<Download> {
    try {
      return await leecherPage(await seederPage(paid), paid);
    } finally {
      await closePages();
    }
  }

  let nodeBytes: Uint8Array | undefined;

  async function nodeToBrowser(paid: boolean): Promise<Download> {
    nodeBytes ??= randomBytes(sizeMiB * MiB); // the same bytes in every run
    const store = paid ? new SqliteChannelStore(join(dir, `seeder-${Date.now()}.db`)) : undefined;
    const client = store
      ? await PiecepayClient.create({
          signer: anvilAccount(provider, 1),
          chainId: CHAIN_ID,
          adjudicator: settings.adjudicator,
          voucherApp: settings.voucherApp,
          store,
          pollingIntervalMs: 100,
        })
      : undefined;
    const seeding = await seedOverWebRtc({
      client,
      files: { [NAME]: nodeBytes },
      name: NAME,
      pieceLength: pieceKiB * 1024,
      pricePerPiece: PRICE,
      announce: tracker.announce,
    });
    try {
      return await leecherPage(seeding.torrent.magnetURI, paid);
    } finally {
      await closePages();
      await seeding.close();
      await store?.close();
    }
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ms = (x: number | undefined) => Math.round(x ?? Number.NaN);

  async function measure() {
    const downloads = {
      browser: { unpaid: [] as Download[], paid: [] as Download[] },
      node: { unpaid: [] as Download[], paid: [] as Download[] },
    };
    for (let i = 1; i <= runCount; i++) {
      for (const [from, run] of [
        ["browser", browserToBrowser],
        ["node", nodeToBrowser],
      ] as const) {
        progress(`${from} -> browser over WebRTC, ${sizeMiB} MiB, unpaid then paid (run ${i} of ${runCount})`);
        downloads[from].unpaid.push(await run(false));
        downloads[from].paid.push(await run(true));
      }
    }
    const figures = (kind: { unpaid: Download[]; paid: Download[] }) => {
      const unpaid = kind.unpaid.map(mibps);
      const paid = kind.paid.map(mibps);
      return {
        unpaidMiBps: median(unpaid),
        paidMiBps: median(paid),
        ratio: Math.round((median(paid) / median(unpaid)) * 1000) / 1000,
        runsMiBps: { unpaid, paid },
      };
    };
    // The first paid piece: the paid browser -> browser run whose first piece came at the median time, with its steps.
    const byFirst = [...downloads.browser.paid].sort((a, b) => a.timings.firstPiece - b.timings.firstPiece);
    const first = byFirst[Math.floor(byFirst.length / 2)].timings;
    return {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
      chain: "anvil, automine (each transaction mined as it arrives)",
      sizeMiB,
      pieceLengthKiB: pieceKiB,
      maxWindow: maxWindow ?? "default",
      runs: runCount,
      browserToBrowser: figures(downloads.browser),
      nodeToBrowser: figures(downloads.node),
      firstPaidPieceMs: {
        metadata: ms(first.metadata),
        connection: ms(first.wire),
        depositConfirmed: ms(first.deposit),
        firstPiece: ms(first.firstPiece),
        runs: downloads.browser.paid.map((d) => ms(d.timings.firstPiece)),
      },
    };
  }

  return await measure().finally(async () => {
    await closePages();
    await closeBrowser();
    await tracker.close();
    provider.destroy();
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });
}

/** The test pages' figures as text lines. */
export function pagesLines(r: PagesFigures): string[] {
  return [
    `Browsers over WebRTC, measured in this run (${r.machine.cpus} cores, ${r.machine.cpu}, Node ${r.machine.node}, headless Chromium, ${r.chain});`,
    `${r.sizeMiB} MiB, pieces of ${r.pieceLengthKiB} KiB, median of ${r.runs} runs (unpaid and paid alternate)`,
    ...(
      [
        ["browser -> browser", r.browserToBrowser],
        ["Node -> browser   ", r.nodeToBrowser],
      ] as const
    ).map(
      ([label, f]) =>
        `  ${label}  unpaid ${f.unpaidMiBps} MiB/s, paid ${f.paidMiBps} MiB/s, paid / unpaid ${f.ratio}   (runs: unpaid ${f.runsMiBps.unpaid.join(", ")}; paid ${f.runsMiBps.paid.join(", ")})`,
    ),
    `  add(magnet) -> first verified paid piece (browser -> browser): ${r.firstPaidPieceMs.firstPiece} ms (runs ${r.firstPaidPieceMs.runs.join(", ")} ms); first connection at ${r.firstPaidPieceMs.connection} ms, metadata at ${r.firstPaidPieceMs.metadata} ms, deposit confirmed at ${r.firstPaidPieceMs.depositConfirmed} ms`,
  ];
}
