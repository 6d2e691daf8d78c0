// docs/security.md rows 44 and 46 ("every wei accounted for"), in process with real webtorrent peers: a deposit that
// confirms after a free peer finished the file is still closed and comes back; a seeder with no ETH for gas is paid all
// the same (the leecher submits the close it countersigned).
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { type TransactionRequest, Wallet, ZeroAddress } from "ethers";
import type { Torrent } from "webtorrent";
import { gasSpentSince } from "../helpers/balances.js";
import { ethers, type Signer } from "../helpers/fixtures.js";
import { done, eventually, PIECE, PRICE, usePaidNetwork } from "./helpers.js";

/** `signer` whose transactions wait until `gate` resolves: a deposit that confirms late. */
function delayed(signer: Signer, gate: Promise<unknown>): Signer {
  return new Proxy(signer, {
    get(target, prop) {
      if (prop === "sendTransaction") {
        return async (tx: TransactionRequest) => {
          await gate;
          return target.sendTransaction(tx);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("every wei accounted for, end to end", function () {
  this.timeout(60_000);
  const net = usePaidNetwork();

  it("a free peer finishes the file before the paid channel's deposit confirms: the channel is still closed, and the whole deposit comes back", async function () {
    const { f } = net;
    const data = randomBytes(8 * PIECE);
    const { torrent: seeded, port: paidPort } = await net.seed(f.bob, data);
    const free = net.webtorrent();
    const freeTorrent = await new Promise<Torrent>((resolve) =>
      free.seed(data, { name: "file.bin", announce: [], pieceLength: PIECE }, resolve),
    );
    expect(freeTorrent.infoHash).to.equal(seeded.infoHash);
    await eventually(() => Boolean(free.address()?.port), "the free peer to listen", 5_000);
    const freePort = free.address()?.port as number;

    let finished: () => void = () => undefined;
    const downloaded = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const start = await ethers.provider.getBlockNumber();
    const before = await ethers.provider.getBalance(f.alice.address);
    const { torrent, leecher } = await net.leech(delayed(f.alice, downloaded), seeded.torrentFile, [paidPort], {
      closeTimeoutMs: 20_000,
    });
    let accepted = false;
    leecher.once("channel", () => {
      accepted = true;
    });
    // The deposit is on its way (the store says so before it is broadcast); only then the free peer comes.
    const store = leecher.options.client.store;
    await eventually(
      async () => (await store.listChannels()).some((r) => r.phase === "funding"),
      "the deposit to be on its way",
    );
    torrent.addPeer(`127.0.0.1:${freePort}`);
    await done(torrent);
    expect(accepted, "no deposit confirmed before the download finished").to.equal(false);
    finished();
    const settled = await leecher.settle();
    expect(settled).to.have.length(1);
    expect(settled[0]).to.deep.include({ delivered: 0, closed: true });
    const id = settled[0].channelId as string;
    expect(await f.adjudicator.holdings(ZeroAddress, id)).to.equal(0n);
    const gas = await gasSpentSince(ethers.provider, f.alice.address, start);
    expect(await ethers.provider.getBalance(f.alice.address)).to.equal(before - gas);
  });

  it("a seeder with 0 ETH serves a file: it countersigns the close, the leecher submits it, and the seeder's balance rises by exactly delivered x price", async function () {
    const { f } = net;
    const gasless = Wallet.createRandom().connect(ethers.provider) as unknown as Signer;
    expect(await ethers.provider.getBalance(gasless.address)).to.equal(0n);
    const data = randomBytes(6 * PIECE + 1000);
    const { torrent: seeded, seeder, port } = await net.seed(gasless, data);
    const countersigned: unknown[] = [];
    seeder.on("countersigned", (stats) => countersigned.push(stats));
    const closedBySeeder: string[] = [];
    seeder.on("closed", (_stats, hash: string) => closedBySeeder.push(hash));
    const start = await ethers.provider.getBlockNumber();
    const aliceBefore = await ethers.provider.getBalance(f.alice.address);
    const { torrent, leecher } = await net.leech(f.alice, seeded.torrentFile, [port]);
    await done(torrent);
    const settled = await leecher.settle();
    const pieces = seeded.pieces.length;
    expect(settled).to.have.length(1);
    expect(settled[0]).to.deep.include({ delivered: pieces, closed: true });
    expect(countersigned).to.have.length(1);
    expect(await ethers.provider.getBalance(gasless.address)).to.equal(BigInt(pieces) * PRICE);
    const gas = await gasSpentSince(ethers.provider, f.alice.address, start);
    expect(aliceBefore - (await ethers.provider.getBalance(f.alice.address))).to.equal(BigInt(pieces) * PRICE + gas);
    await eventually(() => closedBySeeder.length === 1, "the seeder to see the close on chain");
    expect(seeder.stats().peers[0]?.channelId).to.equal(settled[0].channelId);
  });
});
