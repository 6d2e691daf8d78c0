// What `seed` seeds: a torrent it builds from <file|dir>, or, with --torrent, an existing torrent (a .torrent file
// or a magnet link, e.g. one that Transmission made) over the files at <file|dir>, so that we join the swarm that
// others made: the same infohash, whatever tool built it. The files are checked piece by piece before we seed.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type WebTorrent from "webtorrent";
import type { Torrent } from "webtorrent";
import { CliError } from "./command.js";
import { listenError } from "./ports.js";

export interface SeedSource {
  /** The file or folder given: the content itself, as for a new torrent. */
  input: string;
  /** --torrent: a .torrent path or a magnet link; absent: build a new torrent. */
  existing?: string;
  /** webtorrent's seed options for a new torrent: announce, pieceLength. */
  options: Record<string, unknown>;
  port: number;
}

/**
 * Starts seeding; `onTorrent` runs on the torrent at once (before any peer connects: a PaidSeeder attaches there).
 * Resolves once every piece is on disk and verified.
 * @throws CliError when the existing torrent cannot be read, names other content, or the files do not match it
 */
export function startSeeding(
  client: WebTorrent,
  source: SeedSource,
  onTorrent: (torrent: Torrent) => void,
): Promise<Torrent> {
  return new Promise<Torrent>((resolve, reject) => {
    client.once("error", (error: unknown) => reject(listenError(error, source.port)));
    if (source.existing === undefined) {
      onTorrent(client.seed(source.input, source.options, resolve));
      return;
    }
    const id = source.existing;
    let torrentId: string | Uint8Array;
    if (id.startsWith("magnet:")) torrentId = id;
    else if (existsSync(id)) torrentId = readFileSync(id);
    else return reject(new CliError(`--torrent ${id} is neither a magnet link nor a .torrent file`));
    const input = path.resolve(source.input);
    const announce = (source.options.announce as string[] | undefined) ?? [];
    // Nothing selected: we seed what is on disk and never download. Files that do not match the torrent are
    // refused below, never "repaired" from the swarm over what the person has.
    const torrent = client.add(torrentId, { path: path.dirname(input), announce, deselect: true });
    onTorrent(torrent);
    torrent.once("error", (error: Error) => reject(new CliError(`--torrent ${id}: ${error.message}`)));
    torrent.once("metadata", () => {
      if (torrent.name !== path.basename(input)) {
        reject(
          new CliError(
            `--torrent ${id} holds "${torrent.name}", not "${path.basename(input)}"`,
            `give the torrent's own file or folder: piecepay seed ${path.join(path.dirname(input), torrent.name)} --torrent ${id}`,
          ),
        );
      }
    });
    torrent.once("ready", () => {
      // webtorrent has checked the files on disk by now (a verified piece's entry is null); `done` comes later.
      const have = torrent.pieces.filter((piece) => piece === null).length;
      if (have === torrent.pieces.length) return resolve(torrent);
      reject(
        new CliError(
          `the files at ${source.input} do not match --torrent ${id}: ${have} of ${torrent.pieces.length} pieces verified`,
          "seed the very files the torrent was made of",
        ),
      );
    });
  });
}
