// Saves a downloaded file to disk: the browser's own download of a Blob read from webtorrent's store.
import type { WebPeer } from "./web-peer.js";

export async function saveFile(peer: WebPeer, infoHash: string, path: string): Promise<void> {
  const torrent = peer.torrent(infoHash);
  const file = torrent?.files.find((f: { path: string }) => f.path === path) as
    | { name: string; blob(): Promise<Blob> }
    | undefined;
  if (file === undefined) throw new Error(`no file ${path} in this torrent`);
  const url = URL.createObjectURL(await file.blob());
  const anchor = Object.assign(document.createElement("a"), { href: url, download: file.name });
  anchor.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
