// The web app's figures (issue 14), for scripts/bench-web.ts: the real app (client/web/app/, built by Vite into
// client/web/dist) as `piecepay web` serves it, on anvil mining a block a second, started as its tests start it
// (test/ts/browser/web-app.ts), in the browser tests' headless Chromium (test/ts/browser/harness.ts):
// - the page's JavaScript: every script the page fetched while it loaded, gzipped with node:zlib's default level;
//   and webtorrent's service worker, which the page registers only to play a file;
// - time to interactive: in a fresh browser context each time (an empty HTTP cache), from navigation start to the
//   end of the first frame that shows the first button (`connect-dev`) enabled, or to the end of the last long task
//   (50 ms or more on the main thread, PerformanceObserver "longtask") if one ends later; a load ends once 5 s pass
//   with no long task (Lighthouse's quiet window);
// - a download of --app-mib MiB of random bytes from `piecepay seed --webrtc` into the page, paid per piece from the
//   page's development account, in a Chromium of its own on a profile on disk (as a person's browser: the harness's
//   usual contexts are off the record, where OPFS holds the pieces in the browser process's memory): the tab's
//   renderer memory sampled every 250 ms from /proc (RSS and PSS), its JS heap (CDP Performance.getMetrics), all of
//   Chromium's PSS by kind of process, MiB/s, and on chain the seeder's PaidOut = pieces x price once settled.
import { randomFillSync } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parseEther } from "ethers";
import type { CDPSession, Page } from "playwright-core";
import { anvilAccount } from "../test/ts/browser/anvil-contracts.js";
import { closeBrowser, openUrl, type TestPage } from "../test/ts/browser/harness.js";
import {
  connectDev,
  downloadState,
  paidOutTo,
  startDownload,
  startWebApp,
  type WebApp,
  waitForDownload,
} from "../test/ts/browser/web-app.js";
import { startCli } from "../test/ts/client/cli-process.js";
import { WEB_DIST } from "../vite.config.js";
import { chromiumPssByKind, processesOfKind, processMemory, processTicks } from "./process-memory.js";

const MiB = 1024 * 1024;
const KiB = 1024;
const PIECE_KIB = 256;
const PRICE = "0.00001";
const BUDGET = "1";
const QUIET_MS = 5000;
const SAMPLE_MS = 250;
const CHROMIUM_EVERY = 4;

export interface AppBenchOptions {
  /** The download's size. */
  sizeMiB: number;
  /** The download tab in an off-the-record context of the shared Chromium (OPFS in memory), not an on-disk profile. */
  offTheRecord: boolean;
  /** Page loads for the time to interactive. */
  loads: number;
  progress(message: string): void;
}

/** What the page's probe (TTI_PROBE) recorded, in ms since navigation start. */
interface TtiProbe {
  inDomAt?: number;
  paintedAt?: number;
  longTasks: [start: number, duration: number][];
}

declare global {
  interface Window {
    ttiProbe: TtiProbe;
  }
}

/**
 * Runs before the page's own scripts in every document: records each long task, the first moment the first button
 * is in the DOM and enabled (a MutationObserver runs right after the DOM changes), and the end of the frame that
 * first shows it (a message posted from requestAnimationFrame arrives after that frame's rendering).
 */
const TTI_PROBE = `(() => {
  const probe = (window.ttiProbe = { longTasks: [] });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) probe.longTasks.push([e.startTime, e.duration]);
  }).observe({ type: "longtask", buffered: true });
  const seen = () => {
    const button = document.querySelector('[data-testid="connect-dev"]');
    if (button === null || button.disabled) return;
    probe.inDomAt = performance.now();
    watcher.disconnect();
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => (probe.paintedAt = performance.now());
      channel.port2.postMessage(null);
    });
  };
  const watcher = new MutationObserver(seen);
  watcher.observe(document, { subtree: true, childList: true, attributes: true });
})();`;

interface Load {
  interactiveMs: number;
  buttonInDomMs: number;
  buttonPaintedMs: number;
  longTasks: number;
  longTasksMs: number;
  firstContentfulPaintMs: number;
  domContentLoadedMs: number;
  loadMs: number;
  /** The scripts the page fetched while it loaded, by path. */
  scripts: string[];
}

/** One load of `url` in a fresh browser context, measured by TTI_PROBE and the page's navigation timing. */
async function loadOnce(url: string): Promise<Load> {
  const tab = await openUrl(url, { initScript: TTI_PROBE });
  try {
    await tab.page.waitForFunction(() => window.ttiProbe.paintedAt !== undefined, undefined, { timeout: 60_000 });
    await tab.page.waitForFunction(
      (quietMs) => {
        const { paintedAt = 0, longTasks } = window.ttiProbe;
        return performance.now() - Math.max(paintedAt, ...longTasks.map(([s, d]) => s + d)) >= quietMs;
      },
      QUIET_MS,
      { timeout: 120_000, polling: 100 },
    );
    return await tab.page.evaluate(() => {
      const { inDomAt = 0, paintedAt = 0, longTasks } = window.ttiProbe;
      const navigation = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
      const paint = performance.getEntriesByName("first-contentful-paint")[0];
      return {
        interactiveMs: Math.max(paintedAt, ...longTasks.map(([s, d]) => s + d)),
        buttonInDomMs: inDomAt,
        buttonPaintedMs: paintedAt,
        longTasks: longTasks.length,
        longTasksMs: longTasks.reduce((sum, [, d]) => sum + d, 0),
        firstContentfulPaintMs: paint?.startTime ?? Number.NaN,
        domContentLoadedMs: navigation.domContentLoadedEventEnd,
        loadMs: navigation.loadEventEnd,
        scripts: performance
          .getEntriesByType("resource")
          .map((e) => new URL(e.name).pathname)
          .filter((path) => path.endsWith(".js")),
      };
    });
  } finally {
    await tab.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits;
const kib = (bytes: number) => round(bytes / KiB, 1);
const mib = (kibs: number) => round(kibs / KiB, 1);

/** `path` of the built app (a URL path), raw and gzipped, in KiB. */
function gzipped(path: string): { file: string; KiB: number; gzipKiB: number } {
  const bytes = readFileSync(join(WEB_DIST, path));
  return { file: path.replace(/^\//, ""), KiB: kib(bytes.length), gzipKiB: kib(gzipSync(bytes).length) };
}

/** Time to interactive, median of `loads` loads, and the page's JavaScript as those loads fetched it. */
async function measureLoads(app: WebApp, loads: number, progress: (m: string) => void) {
  const runs: Load[] = [];
  for (let i = 1; i <= loads; i++) {
    progress(`the app's time to interactive, load ${i} of ${loads}`);
    runs.push(await loadOnce(app.url));
  }
  const scripts = [...new Set(runs.flatMap((r) => r.scripts))];
  if (scripts.length === 0) throw new Error("the app's page fetched no script");
  const files = scripts.map(gzipped);
  const serviceWorker = gzipped("/sw.min.js");
  const byTti = [...runs].sort((a, b) => a.interactiveMs - b.interactiveMs);
  const typical = byTti[Math.floor(byTti.length / 2)];
  return {
    javascript: {
      files,
      KiB: round(
        files.reduce((sum, f) => sum + f.KiB, 0),
        1,
      ),
      gzipKiB: round(
        files.reduce((sum, f) => sum + f.gzipKiB, 0),
        1,
      ),
      serviceWorker,
    },
    timeToInteractive: {
      definition: `from navigation start to the end of the first frame that shows the connect-dev button enabled, or of the last long task (>= 50 ms on the main thread) if one ends later; a fresh browser context per load, and a load ends after ${QUIET_MS / 1000} s with no long task`,
      medianMs: round(median(runs.map((r) => r.interactiveMs))),
      runsMs: runs.map((r) => round(r.interactiveMs)),
      // The load whose time to interactive is the median, with its steps.
      median: {
        firstContentfulPaintMs: round(typical.firstContentfulPaintMs),
        domContentLoadedMs: round(typical.domContentLoadedMs),
        loadMs: round(typical.loadMs),
        buttonInDomMs: round(typical.buttonInDomMs),
        buttonPaintedMs: round(typical.buttonPaintedMs),
        longTasks: typical.longTasks,
        longTasksMs: round(typical.longTasksMs),
      },
    },
  };
}

/** `bytes` random bytes in a new file, written 16 MiB at a time (never the whole file in this process's memory). */
function writeRandomFile(path: string, bytes: number): void {
  const chunk = Buffer.alloc(16 * MiB);
  const fd = openSync(path, "w");
  try {
    for (let at = 0; at < bytes; at += chunk.length) {
      const part = chunk.subarray(0, Math.min(chunk.length, bytes - at));
      writeSync(fd, randomFillSync(part));
    }
  } finally {
    closeSync(fd);
  }
}

/** One process's samples, in KiB: its peaks; its RSS at the click, and once a quarter, half... of the pieces held. */
interface ProcessSamples {
  atClickRssKiB?: number;
  rssKiB: number;
  pssKiB: number;
  rssAtQuarterKiB: number[];
}

const QUARTERS = [0.25, 0.5, 0.75, 1];
const sumOf = (byKind: Map<string, number>) => [...byKind.values()].reduce((a, b) => a + b, 0);
const mibByKind = (byKind: Map<string, number>) =>
  Object.fromEntries([...byKind].map(([kind, kiB]) => [kind, mib(kiB)]));

/**
 * Samples every SAMPLE_MS until `stop()`: the memory of each of `renderers` and of all Chromium's processes (PSS,
 * by kind), the page's JS heap, and when the page first showed a piece held and every piece held.
 */
function sampleDownload(page: Page, cdp: CDPSession, renderers: number[]) {
  const processes = new Map<number, ProcessSamples>(
    renderers.map((pid) => [pid, { rssKiB: 0, pssKiB: 0, rssAtQuarterKiB: [] }]),
  );
  const ticksBefore = new Map(renderers.map((pid) => [pid, processTicks(pid)]));
  const chromiumAtStart = chromiumPssByKind();
  const chromiumPeakByKind = new Map<string, number>();
  let chromiumPeak = 0;
  const started = performance.now();
  const at = { firstPieceMs: Number.NaN, allPiecesMs: Number.NaN };
  let jsHeapUsed = 0;
  let samples = 0;
  let procMs = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const tick = performance.now();
      const { have, pieces } = await page.evaluate(() => {
        const stats = document.querySelector('[data-testid="transfer"][data-kind="download"] [data-testid="stats"]');
        return {
          have: Number(stats?.getAttribute("data-have") ?? 0),
          pieces: Number(stats?.getAttribute("data-pieces") ?? 0),
        };
      });
      const now = performance.now() - started;
      if (have > 0 && Number.isNaN(at.firstPieceMs)) at.firstPieceMs = now;
      if (pieces > 0 && have === pieces && Number.isNaN(at.allPiecesMs)) at.allPiecesMs = now;
      const read = performance.now();
      for (const [pid, process] of processes) {
        const memory = processMemory(pid);
        if (memory === undefined) continue;
        process.atClickRssKiB ??= memory.rssKiB;
        process.rssKiB = Math.max(process.rssKiB, memory.rssKiB);
        process.pssKiB = Math.max(process.pssKiB, memory.pssKiB ?? 0);
        const quarter = process.rssAtQuarterKiB.length;
        if (quarter < QUARTERS.length && pieces > 0 && have >= QUARTERS[quarter] * pieces) {
          process.rssAtQuarterKiB.push(memory.rssKiB);
        }
      }
      // All of Chromium every CHROMIUM_EVERY samples: PSS costs the kernel a walk of each process's page tables.
      if (samples % CHROMIUM_EVERY === 0) {
        const byKind = chromiumPssByKind();
        chromiumPeak = Math.max(chromiumPeak, sumOf(byKind));
        for (const [kind, kiB] of byKind)
          chromiumPeakByKind.set(kind, Math.max(chromiumPeakByKind.get(kind) ?? 0, kiB));
      }
      procMs += performance.now() - read;
      const { metrics } = await cdp.send("Performance.getMetrics");
      jsHeapUsed = Math.max(jsHeapUsed, metrics.find((m) => m.name === "JSHeapUsedSize")?.value ?? 0);
      samples++;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, SAMPLE_MS - (performance.now() - tick))));
    }
  })();
  return {
    at,
    /** Stops sampling and returns the figures; rejects if a sample failed (the page gone, say). */
    async stop() {
      stopped = true;
      await loop;
      const elapsed = performance.now() - started;
      const cpu = renderers.map((pid) => processTicks(pid) - (ticksBefore.get(pid) ?? 0));
      // The tab's renderer: of the renderers that started with the tab, the one that worked through the download
      // (a spare renderer that Chromium keeps ready for the next navigation stays idle).
      const tab = renderers[cpu.indexOf(Math.max(...cpu))];
      const renderer = processes.get(tab) as ProcessSamples;
      return {
        rendererRss: mib(renderer.rssKiB),
        rendererPss: mib(renderer.pssKiB),
        rendererRssAtClick: mib(renderer.atClickRssKiB ?? 0),
        rendererRssAtQuarters: renderer.rssAtQuarterKiB.map(mib),
        otherNewRenderersRss: renderers.filter((pid) => pid !== tab).map((pid) => mib(processes.get(pid)?.rssKiB ?? 0)),
        jsHeapUsed: round(jsHeapUsed / MiB, 1),
        chromiumPss: mib(chromiumPeak),
        chromiumPssAtClick: mib(sumOf(chromiumAtStart)),
        // The peak of each kind's PSS (summed over its processes), each at its own moment, and at the click.
        chromiumPssByKind: mibByKind(chromiumPeakByKind),
        chromiumPssAtClickByKind: mibByKind(chromiumAtStart),
        sampling: {
          samples,
          meanIntervalMs: round(elapsed / Math.max(1, samples)),
          // This process's wall time reading /proc, of the download's.
          procPercent: round((100 * procMs) / elapsed, 1),
        },
      };
    },
  };
}

/**
 * `piecepay seed --webrtc` seeds `sizeMiB` MiB of random bytes from anvil's account 1; a fresh tab opens its link,
 * connects the development account and downloads it, sampled by sampleDownload; then the chain's PaidOut events.
 */
async function downloadFromNodeSeeder(app: WebApp, options: AppBenchOptions) {
  const { sizeMiB, offTheRecord, progress } = options;
  const dir = mkdtempSync(join(tmpdir(), "piecepay-bench-web-app-"));
  const file = join(dir, "bench.bin");
  writeRandomFile(file, sizeMiB * MiB);
  const seederKey = anvilAccount(app.provider, 1);
  const start = await app.provider.getBlockNumber();
  progress(`\`piecepay seed --webrtc\` of ${sizeMiB} MiB (hashing it first)`);
  // biome-ignore format: the command line as a person types it
  const seeding = await startCli([
    "seed", file, "--webrtc", "--announce", app.tracker, "--price", PRICE, "--piece-length", String(PIECE_KIB),
    "--key", seederKey.privateKey, "--rpc", app.node.url, "--data-dir", app.dataDir,
  ], 600_000);
  let tab: TestPage | undefined;
  let sampler: ReturnType<typeof sampleDownload> | undefined;
  try {
    const before = new Set(processesOfKind("renderer"));
    tab = await openUrl(`${app.url}#${String(seeding.ready.magnet)}`, { onDiskProfile: !offTheRecord });
    await connectDev(tab.page);
    const renderers = processesOfKind("renderer").filter((pid) => !before.has(pid));
    if (renderers.length === 0) throw new Error("no new Chromium renderer process for the tab (is this Linux?)");
    const cdp = await tab.page.context().newCDPSession(tab.page);
    await cdp.send("Performance.enable");
    progress(`the app downloads ${sizeMiB} MiB from the Node seeder, paying per piece`);
    sampler = sampleDownload(tab.page, cdp, renderers);
    const clicked = performance.now();
    await startDownload(tab.page, PRICE, BUDGET);
    // At 0.5 MiB/s at worst, plus the settling.
    await waitForDownload(tab.page, "settled", Math.max(300_000, sizeMiB * 2000));
    const settledS = (performance.now() - clicked) / 1000;
    const peakMiB = await sampler.stop();
    const { have, pieces } = await downloadState(tab.page);
    if (have !== pieces) throw new Error(`settled with ${have} of ${pieces} pieces`);
    const events = await app.adjudicator.queryFilter(app.adjudicator.filters.PaidOut(), start);
    const paidOut = paidOutTo(events, seederKey.address);
    const expected = parseEther(PRICE) * BigInt(pieces);
    const { firstPieceMs, allPiecesMs } = sampler.at;
    return {
      sizeMiB,
      pieces,
      pieceLengthKiB: PIECE_KIB,
      profile: offTheRecord ? "off the record (OPFS in the browser process's memory)" : "on disk",
      seconds: {
        firstPiece: round(firstPieceMs / 1000, 1),
        allPieces: round(allPiecesMs / 1000, 1),
        settled: round(settledS, 1),
      },
      // From the click on Download (deposit and connection included), and from the first piece held.
      MiBps: round(sizeMiB / (allPiecesMs / 1000), 1),
      MiBpsAfterFirstPiece: round((sizeMiB * (1 - 1 / pieces)) / ((allPiecesMs - firstPieceMs) / 1000), 1),
      peakMiB,
      chain: { paidOutWei: String(paidOut), expectedWei: String(expected), ok: paidOut === expected },
    };
  } finally {
    // After a failure the sampler is still running: stopped first, so that closing the tab fails none of its reads.
    await sampler?.stop().catch(() => undefined);
    await tab?.close();
    seeding.child.kill("SIGINT");
    await seeding.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

export type AppFigures = Awaited<ReturnType<typeof measureApp>>;

/** The app's figures: starts the app (and its chain) and Chromium, and stops them. */
export async function measureApp(options: AppBenchOptions) {
  options.progress("starting anvil, the contracts and `piecepay web` (it builds the app when it is stale)");
  const app = await startWebApp();
  try {
    const loads = await measureLoads(app, options.loads, options.progress);
    // The download's Chromium is then the only one, holding only its tab.
    await closeBrowser();
    const download = await downloadFromNodeSeeder(app, options);
    return { ...loads, download };
  } finally {
    await closeBrowser();
    await app.close();
  }
}

const byKindText = (peaks: Record<string, number>, atClick: Record<string, number>) =>
  Object.entries(peaks)
    .map(([kind, peak]) => `${kind} ${peak} (${atClick[kind] ?? 0})`)
    .join(", ");

/** The app's figures as text lines. */
export function appLines(f: AppFigures): string[] {
  const js = f.javascript;
  const tti = f.timeToInteractive;
  const d = f.download;
  const peak = d.peakMiB;
  const files = js.files.map((x) => `${x.file} ${x.gzipKiB}`).join(", ");
  return [
    "The web app (client/web/dist, served by `piecepay web`, anvil mining a block a second):",
    `  JavaScript the page loads: ${js.gzipKiB} KiB gzipped (${js.KiB} KiB; ${files}); webtorrent's service worker (loaded to play) ${js.serviceWorker.gzipKiB} KiB gzipped (${js.serviceWorker.KiB} KiB)`,
    `  time to interactive: ${tti.medianMs} ms, median of ${tti.runsMs.length} loads (${tti.runsMs.join(", ")} ms)`,
    `    its load: first paint ${tti.median.firstContentfulPaintMs} ms, DOMContentLoaded ${tti.median.domContentLoadedMs} ms, load ${tti.median.loadMs} ms, button in the DOM ${tti.median.buttonInDomMs} ms and painted ${tti.median.buttonPaintedMs} ms, ${tti.median.longTasks} long tasks (${tti.median.longTasksMs} ms)`,
    `    (${tti.definition})`,
    `  ${d.sizeMiB} MiB from \`piecepay seed --webrtc\` into the app, Chromium profile ${d.profile} (${d.pieces} pieces of ${d.pieceLengthKiB} KiB, paid per piece):`,
    `    ${d.MiBps} MiB/s from the click on Download (first piece at ${d.seconds.firstPiece} s, all at ${d.seconds.allPieces} s, settled at ${d.seconds.settled} s), ${d.MiBpsAfterFirstPiece} MiB/s after the first piece`,
    `    the tab's renderer process, peak: RSS ${peak.rendererRss} MiB, PSS ${peak.rendererPss} MiB (target < 300 MiB); JS heap used ${peak.jsHeapUsed} MiB; RSS at the click ${peak.rendererRssAtClick} MiB, at 1/4, 1/2, 3/4 and all of the pieces ${peak.rendererRssAtQuarters.join(", ")} MiB`,
    `    all of Chromium, PSS: peak ${peak.chromiumPss} MiB, ${peak.chromiumPssAtClick} at the click; by kind, peak (at the click): ${byKindText(peak.chromiumPssByKind, peak.chromiumPssAtClickByKind)}`,
    `    sampled every ${peak.sampling.meanIntervalMs} ms (${peak.sampling.samples} samples; reading /proc took ${peak.sampling.procPercent}% of the time)`,
    `    chain: the seeder's PaidOut ${d.chain.paidOutWei} wei, pieces x price ${d.chain.expectedWei} wei: ${d.chain.ok ? "equal" : "NOT EQUAL"}`,
  ];
}
