// `piecepay seed --free` (or `--price 0`): seeds to everyone, plain BitTorrent clients included, as any BitTorrent
// client does. No key, no chain, no channel: nothing is paid and nothing is asked.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type WebTorrent from "webtorrent";
import type { Output } from "./output.js";
import { destroyTorrentClient } from "./ports.js";
import { type SeedSource, startSeeding } from "./seed-source.js";

export interface FreeSeedSettings {
  torrentClient: WebTorrent;
  source: SeedSource;
  dataDir: string;
  /** Said after the address line, e.g. which WebRTC trackers introduce peers. */
  webrtcNote?: string;
}

/** Seeds until `signal` aborts; prints the magnet, the .torrent it wrote and the port, then what it uploaded. */
export async function freeSeed(settings: FreeSeedSettings, output: Output, signal: AbortSignal): Promise<void> {
  const { torrentClient } = settings;
  try {
    const torrent = await startSeeding(torrentClient, settings.source, () => undefined);
    mkdirSync(settings.dataDir, { recursive: true });
    const torrentPath = path.join(settings.dataDir, `${torrent.name}.torrent`);
    writeFileSync(torrentPath, torrent.torrentFile);
    const listening = torrentClient.address()?.port ?? torrentClient.torrentPort;
    output.result(
      {
        event: "seeding",
        free: true,
        magnet: torrent.magnetURI,
        torrent: torrentPath,
        port: listening,
        pieces: torrent.pieces.length,
        webrtc: settings.webrtcNote !== undefined,
        pricePerPiece: 0n,
      },
      [
        `seeding ${torrent.name} (${torrent.pieces.length} pieces) free, to every peer`,
        `magnet:  ${torrent.magnetURI}`,
        `torrent: ${torrentPath}`,
        `peers:   127.0.0.1:${listening}${settings.webrtcNote ?? ""}`,
      ].join("\n"),
    );
    const bar = output.progress("seed");
    const tick = setInterval(() => {
      bar.update({ bytes: torrent.uploaded, speed: torrent.uploadSpeed, peers: torrent.numPeers });
    }, 250);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", () => resolve(), { once: true });
    });
    clearInterval(tick);
    bar.done();
    output.result(
      { event: "stopped", free: true, uploaded: torrent.uploaded },
      `stopped: ${torrent.uploaded} bytes uploaded, free`,
    );
  } finally {
    await destroyTorrentClient(torrentClient);
  }
}
