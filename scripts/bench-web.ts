// The browser's figures (issue 14), measured in this one run in headless Chromium: first the browser tests' pages
// (scripts/bench-web-pages.ts: throughput browser -> browser and Node -> browser, the first paid piece), then the
// web app itself (scripts/bench-web-app.ts: its JavaScript, its time to interactive, and the leecher tab's peak
// memory for a big download from a Node seeder, checked on chain). --json merges both into one object.
// Usage: tsx scripts/bench-web.ts [--json] [--size MiB] [--piece KiB] [--runs N] [--max-window N] [--app-mib MiB]
//   [--loads N] [--app-off-the-record] [--skip-pages] [--skip-app]
import { loadavg } from "node:os";
import { benchArgs, printReport } from "./bench-args.js";
import { appLines, measureApp } from "./bench-web-app.js";
import { measurePages, pagesLines } from "./bench-web-pages.js";

const USAGE = `Usage: npm run bench:web -- [--json] [--size MiB] [--piece KiB] [--runs N] [--max-window N]
                         [--app-mib MiB] [--loads N] [--app-off-the-record] [--skip-pages] [--skip-app]

Headless Chromium on loopback. First the browser tests' pages: a file of --size MiB (default 64) in pieces of
--piece KiB (default 256), unpaid and paid in turn --runs times (default 3): browser -> browser and Node seeder ->
browser MiB/s (median, from the first connection to the last piece), paid / unpaid, and the time from opening the
magnet link to the first verified paid piece with its steps. --max-window N sets the paying page's credit window
(default: PaidLeecher's).

Then the web app as \`piecepay web\` serves it (built by Vite when stale): the JavaScript the page loads, gzipped,
and webtorrent's service worker; the time to interactive (median of --loads fresh loads, default 5); and a download
of --app-mib MiB (default 256; 1024 for the 1 GiB figure) of random bytes from \`piecepay seed --webrtc\` into the
app, paid per piece: MiB/s, the peak RSS and PSS of the tab's renderer process (Linux's /proc, every 250 ms), its
peak JS heap, all of Chromium's PSS by kind of process, and the seeder's PaidOut on chain against pieces x price (a
mismatch fails the run). The download's tab runs in a Chromium of its own on a profile on disk, as a person's
browser does; --app-off-the-record opens it in a context of the shared Chromium instead, like a private window,
where OPFS keeps the pieces in the browser process's memory.

--skip-pages or --skip-app leaves that part out. --json prints one JSON object.`;

const { json, counts, flags } = benchArgs(
  USAGE,
  { size: "64", piece: "256", runs: "3", "max-window": undefined, "app-mib": "256", loads: "5" },
  ["skip-pages", "skip-app", "app-off-the-record"],
);
if (flags["skip-pages"] && flags["skip-app"]) throw new Error("--skip-pages and --skip-app leave nothing to measure");

const progress = (message: string) => {
  if (!json) process.stderr.write(`  ${message}\n`);
};
const round = (x: number) => Math.round(x * 100) / 100;
const loadAverageAtStart = loadavg().map(round);

const pages = flags["skip-pages"]
  ? undefined
  : await measurePages({
      sizeMiB: Number(counts.size),
      pieceKiB: Number(counts.piece),
      runCount: Number(counts.runs),
      maxWindow: counts["max-window"],
      progress,
    });
const app = flags["skip-app"]
  ? undefined
  : await measureApp({
      sizeMiB: Number(counts["app-mib"]),
      loads: Number(counts.loads),
      offTheRecord: flags["app-off-the-record"],
      progress,
    });
const report = {
  ...pages,
  ...(app === undefined ? {} : { app }),
  date: new Date().toISOString(),
  loadAverage: { atStart: loadAverageAtStart, atEnd: loadavg().map(round) },
};
printReport(json, report, (r) => [
  ...(pages === undefined ? [] : pagesLines(pages)),
  ...(app === undefined ? [] : appLines(app)),
  `Load average (1, 5, 15 min): ${r.loadAverage.atStart.join(", ")} at the start, ${r.loadAverage.atEnd.join(", ")} at the end`,
]);
if (app !== undefined && !app.download.chain.ok) {
  process.stderr.write("the chain paid the Node seeder other than pieces x price: see chain above\n");
  process.exit(1);
}
// node-datachannel's threads would keep the process alive after the last connection closed.
process.exit(0);
