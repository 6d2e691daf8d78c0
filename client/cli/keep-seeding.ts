// `get --seed`: after the download, the torrent keeps serving (free, or sold with --price) until Ctrl-C, with a
// "seed" progress line of what went up.
import type { Torrent } from "webtorrent";
import type { Output, ProgressStats } from "./output.js";

/**
 * Resolves once `signal` aborts (the first Ctrl-C or SIGTERM), drawing the upload on a progress line meanwhile;
 * `more` adds to each draw (e.g. the vouchers each way).
 * @example out.note("download done: sharing it until Ctrl-C"); await keepSeeding(torrent, signal, out)
 */
export async function keepSeeding(
  torrent: Torrent,
  signal: AbortSignal,
  out: Output,
  more: () => ProgressStats = () => ({}),
): Promise<void> {
  const bar = out.progress("seed");
  const tick = setInterval(() => {
    bar.update({ bytes: torrent.uploaded, speed: torrent.uploadSpeed, peers: torrent.numPeers, ...more() });
  }, 250);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
  clearInterval(tick);
  bar.done();
}
