// How long two piecepay peers take to find each other through the DHT alone: a bootstrap node on loopback (no public
// network here), a seeder and a leecher on the CLI's guarded webtorrent client with that node as their only
// bootstrap, no tracker, no LSD, no --peer. Each run times, from the leecher's `add(magnet)`: its first connection to
// the seeder, and its last verified piece (1 MiB). Target: the first connection within 5 s.
// Usage: tsx scripts/bench-discovery.ts [--runs N] [--json]
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type WebTorrent from "webtorrent";
import type { Torrent } from "webtorrent";
import { createTorrentClient } from "../client/session/guarded-client.js";
import { startDhtBootstrap } from "../test/ts/helpers/dht.js";

const { values } = parseArgs({
  options: { runs: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean" } },
});
if (values.help) {
  console.log("Usage: npm run bench:discovery -- [--runs N] [--json]");
  process.exit(0);
}
const runs = Number(values.runs ?? 5);
const TARGET_MS = 5_000;

const destroy = (client: WebTorrent) => new Promise<void>((resolve) => client.destroy(() => resolve()));

async function once(): Promise<{ firstPeerMs: number; doneMs: number }> {
  const dht = await startDhtBootstrap();
  const dir = mkdtempSync(path.join(tmpdir(), "piecepay-bench-dht-"));
  const options = {
    dht: { bootstrap: [dht.address] },
    lsd: false,
    tracker: false,
    utp: false,
    natUpnp: false,
    natPmp: false,
  };
  const seeder = createTorrentClient(options);
  const leecher = createTorrentClient(options);
  try {
    const seeded = await new Promise<Torrent>((resolve) =>
      seeder.seed(randomBytes(1024 * 1024), { name: "found.bin", announce: [] }, resolve),
    );
    const started = performance.now();
    const torrent = leecher.add(seeded.magnetURI, { path: dir });
    const firstPeer = new Promise<number>((resolve) =>
      torrent.once("wire", () => resolve(performance.now() - started)),
    );
    const finished = new Promise<number>((resolve, reject) => {
      torrent.once("done", () => resolve(performance.now() - started));
      setTimeout(() => reject(new Error("not found within 60 s")), 60_000).unref();
    });
    return { firstPeerMs: await firstPeer, doneMs: await finished };
  } finally {
    await Promise.all([destroy(seeder), destroy(leecher)]);
    await dht.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: { firstPeerMs: number; doneMs: number }[] = [];
for (let i = 0; i < runs; i++) results.push(await once());
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
const first = results.map((r) => r.firstPeerMs);
const summary = {
  runs,
  firstPeerMs: { median: median(first), max: Math.max(...first), each: first.map(Math.round) },
  doneMs: { median: median(results.map((r) => r.doneMs)), each: results.map((r) => Math.round(r.doneMs)) },
  targetMs: TARGET_MS,
  met: Math.max(...first) <= TARGET_MS,
};
if (values.json) console.log(JSON.stringify(summary));
else {
  console.log(`Two peers through a local DHT bootstrap node (no tracker, no LSD, no --peer), ${runs} runs:`);
  console.log(
    `  add(magnet) -> first connection: median ${Math.round(summary.firstPeerMs.median)} ms, max ${Math.round(summary.firstPeerMs.max)} ms (runs ${summary.firstPeerMs.each.join(", ")}); target <= ${TARGET_MS} ms: ${summary.met ? "met" : "NOT met"}`,
  );
  console.log(
    `  add(magnet) -> every piece (1 MiB): median ${Math.round(summary.doneMs.median)} ms (runs ${summary.doneMs.each.join(", ")})`,
  );
}
