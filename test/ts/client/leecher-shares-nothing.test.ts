// A paying leecher gives away nothing: the pieces it bought are the paid seeders' to sell, and a downloader that
// shared them free (webtorrent's default) undercut the seeder it had just paid, with any plain peer or any other
// downloader. Real webtorrent peers over TCP loopback on the in-process chain; the money read from it.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { gasSpentSince } from "../helpers/balances.js";
import { ethers } from "../helpers/fixtures.js";
import { done, failOnUnhandledRejections, PIECE, PRICE, usePaidNetwork } from "./helpers.js";

describe("a paying leecher shares nothing", function () {
  this.timeout(60_000);
  failOnUnhandledRejections();
  const net = usePaidNetwork();

  it("neither a plain peer (while it downloads and after) nor a second paying leecher gets a piece from it; the second pays the seeder for every piece", async function () {
    const { alice, bob, carol } = net.f;
    const data = randomBytes(16 * PIECE + 77);
    const seeded = await net.seed(bob, data);
    const pieces = BigInt(seeded.torrent.pieces.length);
    const first = await net.leech(alice, seeded.torrent.torrentFile, [seeded.port]);
    // A plain BitTorrent peer joins the leecher as soon as it listens, and stays through its download.
    const plainClient = net.webtorrent();
    const plain = plainClient.add(seeded.torrent.torrentFile, { path: join(net.dir, "plain") });
    plain.on("infoHash", () => plain.addPeer(`127.0.0.1:${first.port}`));
    await done(first.torrent);
    await first.leecher.settle();

    const start = await ethers.provider.getBlockNumber();
    const bobBefore = await ethers.provider.getBalance(bob.address);
    const second = await net.leech(carol, seeded.torrent.torrentFile, [first.port, seeded.port]);
    await done(second.torrent);
    const settled = await second.leecher.settle();
    expect(readFileSync(join(second.path, "file.bin")).equals(data)).to.equal(true);
    // Both are still connected to the first leecher, which sent neither a block (a wire's `uploaded` counts the
    // blocks of pieces, not the protocol's other messages).
    expect(first.torrent.wires.length, "the seeder, the plain peer and the second leecher").to.equal(3);
    expect(first.torrent.wires.map((wire) => wire.uploaded)).to.deep.equal([0, 0, 0]);
    expect(plain.downloaded, "bytes the plain peer got").to.equal(0);
    expect(settled).to.have.lengthOf(1);
    expect(settled[0]).to.deep.include({ delivered: Number(pieces), closed: true });
    // The chain: the seeder earned every piece of the second download.
    const bobGas = await gasSpentSince(ethers.provider, bob.address, start);
    expect((await ethers.provider.getBalance(bob.address)) - bobBefore).to.equal(pieces * PRICE - bobGas);
  });
});
