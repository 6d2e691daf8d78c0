// A leecher on hold (PaidLeecherOptions.hold): what a page shows for a link before the person chooses a price and a
// budget. It hears every seeder's offer and asks nobody for anything; `start(terms)` then judges the seeders already
// connected by those terms. Real webtorrent peers over TCP loopback on the in-process chain; the money read from it.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import type { LeecherRefusal, SeenOffer } from "../../../client/session/leecher.js";
import { gasSpentSince } from "../helpers/balances.js";
import { ethers } from "../helpers/fixtures.js";
import { done, eventually, failOnUnhandledRejections, PIECE, PRICE, usePaidNetwork } from "./helpers.js";

describe("a leecher on hold: the seeders' offers before any payment", function () {
  this.timeout(60_000);
  failOnUnhandledRejections();
  const net = usePaidNetwork();
  const balanceOf = (address: string) => ethers.provider.getBalance(address);

  it("hears both seeders' prices, sends nothing and asks for nothing; started at the cheaper price, it pays that seeder exactly and refuses the dearer", async function () {
    const { alice, bob, carol } = net.f;
    const data = randomBytes(8 * PIECE + 123);
    const cheap = await net.seed(bob, data, { price: PRICE });
    const dear = await net.seed(carol, data, { price: 3n * PRICE });
    const start = await ethers.provider.getBlockNumber();
    const before = await Promise.all([alice, bob, carol].map((x) => balanceOf(x.address)));
    const heard: SeenOffer[] = [];
    const refused: LeecherRefusal[] = [];
    const { torrent, leecher, path } = await net.leech(alice, cheap.torrent.torrentFile, [cheap.port, dear.port], {
      hold: true,
      maxPricePerPiece: 0n,
      budget: 0n,
    });
    leecher.on("offer", (offer) => heard.push(offer));
    leecher.on("refused", (refusal) => refused.push(refusal));
    await eventually(() => leecher.offers().length === 2, "both offers");
    expect(leecher.held).to.equal(true);
    expect(heard.map((o) => o.offer.pricePerPiece).sort()).to.deep.equal([PRICE, 3n * PRICE]);
    expect(heard.map((o) => o.offer.payee.toLowerCase()).sort()).to.deep.equal(
      [bob.address, carol.address].map((a) => a.toLowerCase()).sort(),
    );
    expect(heard.every((o) => o.unusable === undefined)).to.equal(true);
    // On hold for a while: no piece asked for or received, no channel, not a wei or a transaction from alice.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(torrent.downloaded).to.equal(0);
    expect(torrent.wires.every((wire) => wire.requests.length === 0)).to.equal(true);
    expect(leecher.stats().every((s) => s.channelId === undefined && s.deposited === 0n)).to.equal(true);
    expect(await balanceOf(alice.address)).to.equal(before[0]);
    expect(await ethers.provider.getTransactionCount(alice.address)).to.equal(
      await ethers.provider.getTransactionCount(alice.address, start),
    );

    leecher.start({ maxPricePerPiece: PRICE, budget: parseEther("1"), asset: ZeroAddress });
    expect(() => leecher.start({ maxPricePerPiece: PRICE, budget: 1n, asset: ZeroAddress })).to.throw(
      "started already",
    );
    await done(torrent);
    const settled = await leecher.settle();
    expect(readFileSync(join(path, "file.bin")).equals(data)).to.equal(true);
    expect(refused.map((r) => r.offer.pricePerPiece)).to.deep.equal([3n * PRICE]);
    const pieces = BigInt(cheap.torrent.pieces.length);
    expect(settled).to.have.lengthOf(1);
    expect(settled[0]).to.deep.include({ delivered: Number(pieces), closed: true });
    const [aliceGas, bobGas, carolGas] = await Promise.all(
      [alice, bob, carol].map((x) => gasSpentSince(ethers.provider, x.address, start)),
    );
    expect(before[0] - (await balanceOf(alice.address))).to.equal(pieces * PRICE + aliceGas);
    expect((await balanceOf(bob.address)) - before[1]).to.equal(pieces * PRICE - bobGas);
    expect(carolGas).to.equal(0n);
    expect(await balanceOf(carol.address)).to.equal(before[2]);
  });
});
