// `piecepay get` without payment flags: a plain BitTorrent download, as webtorrent-cli does it. No key, no chain
// and no price are needed. Free peers (piecepay's `seed --free`, any other BitTorrent client) serve us, and we share
// what we have as BitTorrent peers do. A paid seeder met on the way is named once, with its price, and skipped: it
// serves a peer that does not pay nothing. With --seed it keeps sharing after the download, until Ctrl-C.
import { ZeroAddress } from "ethers";
import type WebTorrent from "webtorrent";
import type { Torrent } from "webtorrent";
import { type HeardOffer, listenForOffers } from "../session/offer-listener.js";
import { CliError, interruptedExitCode } from "./command.js";
import { explainText } from "./errors.js";
import { keepSeeding } from "./keep-seeding.js";
import { formatAmount, type Output } from "./output.js";
import { destroyTorrentClient, listeningPort } from "./ports.js";

export interface FreeGetSettings {
  torrentClient: WebTorrent;
  torrentId: string | Uint8Array;
  out: string;
  /** `--peer` addresses, added once the info hash is known. */
  peers: string[];
  /** Whether the DHT or LSD may find peers besides --peer and the trackers. */
  discovers: boolean;
  timeoutSeconds: number;
  /** Whether a key was given: the note on a paid seeder then says only which flags would pay it. */
  hasKey: boolean;
  /** Checked once the torrent's own trackers are known (`--webrtc` needs a WebSocket tracker). */
  checkTrackers?: (announce: string[]) => void;
  /** --seed: after the download, keep sharing until `signal` aborts; our port is printed first. */
  seed?: boolean;
  /** The --port asked for (0: any free port), for a message when it cannot be had. */
  port?: number;
}

/** Downloads `torrentId` free; resolves once every piece is verified, with what the `done` line reports. */
export async function freeGet(settings: FreeGetSettings, output: Output, signal: AbortSignal): Promise<void> {
  const { torrentClient, peers } = settings;
  const paidSeeders = new Map<string, string>();
  let fatal: ((error: Error) => void) | undefined;
  let onlyPeers = false;
  try {
    if (settings.seed) {
      const port = await listeningPort(torrentClient, settings.port ?? 0);
      output.result(
        { event: "listening", free: true, port, seed: true },
        `sharing what we verify, free, during the download and after it until Ctrl-C\npeers:   127.0.0.1:${port}`,
      );
    }
    const started = Date.now();
    const torrent: Torrent = torrentClient.add(settings.torrentId, { path: settings.out });
    listenForOffers(torrent, ({ peer, offer }: HeardOffer) => {
      if (paidSeeders.has(peer)) return;
      const price = formatAmount(offer.pricePerPiece, offer.asset);
      const how = settings.hasKey
        ? "give --max-price and --budget to pay it"
        : "give --max-price, --budget and --key or --keystore to pay it";
      const text = `seeder ${peer} asks ${price} per piece: skipped (${how})`;
      paidSeeders.set(peer, text);
      output.note(text);
      // With --peer as the only source and every one of them a paid seeder, nobody is left to serve us.
      if (onlyPeers && peers.every((p) => paidSeeders.has(p))) {
        fatal?.(new CliError(`every peer asks to be paid: ${[...paidSeeders.values()].join("; ")}`, how));
      }
    });
    let onDisk = 0;
    torrent.on("verified", () => {
      if (!torrent.ready) onDisk++;
    });
    torrent.once("ready", () => {
      if (onDisk > 0)
        output.note(`resuming: ${onDisk} of ${torrent.pieces.length} pieces already on disk and verified`);
    });
    torrent.on("infoHash", () => {
      try {
        settings.checkTrackers?.(torrent.announce ?? []);
      } catch (error) {
        fatal?.(error as Error);
        return;
      }
      onlyPeers = peers.length > 0 && (torrent.announce ?? []).length === 0 && !settings.discovers;
      for (const peer of peers) torrent.addPeer(peer);
    });
    const bar = output.progress("get");
    const tick = setInterval(() => {
      bar.update({
        bytes: torrent.downloaded,
        total: torrent.length || undefined,
        speed: torrent.downloadSpeed,
        peers: torrent.numPeers,
      });
    }, 250);
    try {
      await new Promise<void>((resolve, reject) => {
        fatal = reject;
        const timer = setTimeout(() => {
          const skipped = [...paidSeeders.values()];
          reject(
            new CliError(
              [`not finished after ${settings.timeoutSeconds} s`, ...skipped].join("; "),
              skipped.length > 0 ? "the seeders we met ask to be paid" : "check --peer and the torrent's trackers",
            ),
          );
        }, settings.timeoutSeconds * 1000);
        torrent.once("done", () => {
          clearTimeout(timer);
          resolve();
        });
        torrent.once("error", (error: Error) => reject(new CliError(`download failed: ${explainText(error.message)}`)));
        const interrupted = () =>
          reject(
            new CliError(
              "interrupted: the same command again resumes the download from the pieces on disk",
              undefined,
              {
                exitCode: interruptedExitCode(signal.reason),
              },
            ),
          );
        if (signal.aborted) interrupted();
        else signal.addEventListener("abort", interrupted, { once: true });
      });
    } finally {
      clearInterval(tick);
    }
    const seconds = (Date.now() - started) / 1000;
    bar.done();
    output.result(
      {
        event: "done",
        name: torrent.name,
        bytes: torrent.length,
        seconds,
        asset: ZeroAddress,
        paid: 0n,
        channels: 0,
        piecesOnDisk: onDisk,
        free: true,
        skippedPaidSeeders: paidSeeders.size,
      },
      `done: ${torrent.name}, ${torrent.length} bytes in ${seconds.toFixed(2)} s, free (nothing paid)`,
    );
    if (settings.seed) {
      output.note("download done: sharing it free until Ctrl-C");
      await keepSeeding(torrent, signal, output);
      output.result(
        { event: "stopped", free: true, uploaded: torrent.uploaded },
        `stopped: ${torrent.uploaded} bytes uploaded, free`,
      );
    }
  } finally {
    await destroyTorrentClient(torrentClient);
  }
}
