// A downloader that sells what it has verified (PaidLeecherOptions.sell), set up for the tests of
// earn-while-downloading.test.ts and trading-hostile.test.ts: real webtorrent over TCP loopback, its store on disk.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseEther, type Wallet, ZeroAddress } from "ethers";
import type { Torrent } from "webtorrent";
import { PaidLeecher, type PaidLeecherOptions } from "../../../client/session/leecher.js";
import type { Signer } from "../helpers/fixtures.js";
import { type PaidNetwork, PRICE } from "./helpers.js";

/** A torrent of `data` (pieces of `pieceLength`) that nobody seeds: its .torrent file. */
export async function torrentOf(net: PaidNetwork, data: Buffer, pieceLength: number): Promise<Uint8Array> {
  const source = net.webtorrent();
  return new Promise<Uint8Array>((resolve) =>
    source.seed(data, { name: "file.bin", announce: [], pieceLength, path: join(net.dir, "source") }, (t: Torrent) => {
      const file = t.torrentFile;
      t.destroy();
      resolve(file);
    }),
  );
}

/** A downloader that sells at `sellAt`, with `onDisk` already in its output folder (the rest zeros: not verified). */
export async function trader(
  net: PaidNetwork,
  signer: Signer | Wallet,
  torrentFile: Uint8Array,
  sellAt: bigint,
  onDisk?: Buffer,
  options: Partial<Omit<PaidLeecherOptions, "client">> = {},
) {
  const client = net.webtorrent();
  const sdk = await net.sdkFor(signer);
  const path = join(net.dir, `trader-${signer.address}`);
  if (onDisk) {
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, "file.bin"), onDisk);
  }
  const leecher = new PaidLeecher({
    client: sdk,
    maxPricePerPiece: PRICE,
    budget: parseEther("1"),
    asset: ZeroAddress,
    sell: { pricePerPiece: sellAt, enforceAfterMs: 60_000 },
    ...options,
  });
  const torrent: Torrent = client.add(torrentFile, { path });
  leecher.attach(torrent);
  await new Promise<void>((resolve) => torrent.once("ready", () => resolve()));
  const port = (client as unknown as { address(): { port: number } }).address().port;
  return { leecher, torrent, port, path, sdk };
}
