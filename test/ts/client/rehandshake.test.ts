// A peer that sends a second extended handshake with another paid handshake mid-connection (BEP 10 lets a peer send
// the extended handshake again, and bittorrent-protocol hands each one to every extension): a seeder that raises
// its price after the channel is open, a leecher that names another payer. One paid handshake per connection: the
// other side drops the peer at once, and the money is what the first handshake agreed, read from the chain.
import { randomBytes } from "node:crypto";
import type { Wire } from "bittorrent-protocol";
import { expect } from "chai";
import { Wallet } from "ethers";
import { encodeHandshake } from "../../../client/wire/handshake.js";
import { EXTENSION_NAME, type PaidHandshake } from "../../../client/wire/messages.js";
import { ethers } from "../helpers/fixtures.js";
import { done, eventually, failOnUnhandledRejections, PIECE, PRICE, usePaidNetwork } from "./helpers.js";
import { offerHandshake, payerHandshake } from "./raw-session.js";

/** Sends `wire`'s peer a new extended handshake whose paid entry is `handshake`. */
function handshakeAgain(wire: Wire, handshake: PaidHandshake): void {
  const ids = (wire as unknown as { extendedMapping: Record<number, string> }).extendedMapping;
  const id = Number(Object.entries(ids).find(([, name]) => name === EXTENSION_NAME)?.[0]);
  (wire.extended as unknown as (ext: number, obj: unknown) => void)(0, {
    m: { [EXTENSION_NAME]: id },
    [EXTENSION_NAME]: encodeHandshake(handshake),
  });
}

describe("a second paid handshake on one connection", function () {
  this.timeout(90_000);
  failOnUnhandledRejections();
  const net = usePaidNetwork();
  const _balanceOf = (address: string) => ethers.provider.getBalance(address);

  it("a seeder that raises its price mid-download, then vanishes, is dropped at the raise: the leecher's vouchers stay at the first price, its loss within its credit window", async function () {
    const { alice, bob } = net.f;
    const data = randomBytes(128 * PIECE);
    const seeded = await net.seed(bob, data, { price: PRICE });
    let raised = false;
    seeded.torrent.on("wire", (wire: Wire) => {
      // Once 4 pieces went out, the seeder asks ten times the price on the same connection, then leaves with
      // every voucher it got (a leecher that took the new price would have paid ahead at ten times the price).
      let sent = 0;
      wire.on("upload", () => {
        if (raised || ++sent < 4 * (PIECE / 16_384)) return;
        raised = true;
        handshakeAgain(wire, offerHandshake(seeded.seeder.options.client, 10n * PRICE));
        setTimeout(() => {
          if (!(seeded.client as unknown as { destroyed: boolean }).destroyed) seeded.client.destroy();
        }, 300);
      });
    });
    const warnings: string[] = [];
    const { leecher } = await net.leech(alice, seeded.torrent.torrentFile, [seeded.port], {
      maxPricePerPiece: 100n * PRICE,
    });
    leecher.on("warning", (e) => warnings.push(e.message));
    await eventually(() => raised && leecher.peers.size === 0, "the seeder gone");
    const [channel] = leecher.stats();
    expect(channel.pricePerPiece, "the price agreed at the first handshake").to.equal(PRICE);
    const loss = channel.spent - BigInt(channel.delivered) * PRICE;
    expect(loss <= BigInt(channel.window) * PRICE, `lost ${loss} wei, window ${channel.window}`).to.equal(true);
    expect(warnings.join("\n")).to.match(/changed its paid handshake/);
    // What the seeder can take on chain is the largest voucher it holds: the leecher's own record of it above, and
    // the seeder's store agrees.
    const held = await seeded.seeder.options.client.store.getVoucher("received", channel.channelId as string);
    expect(held?.amount ?? 0n).to.be.at.most(channel.spent);
  });

  it("a leecher that names another payer mid-download is dropped by the seeder; the seeder is paid by the first payer's vouchers", async function () {
    const { alice, bob } = net.f;
    const data = randomBytes(16 * PIECE);
    const start = await ethers.provider.getBlockNumber();
    const seeded = await net.seed(bob, data, { price: PRICE });
    const seederWarnings: string[] = [];
    seeded.seeder.on("warning", (e: Error) => seederWarnings.push(e.message));
    const { torrent, leecher } = await net.leech(alice, seeded.torrent.torrentFile, [seeded.port]);
    let switched = false;
    torrent.on("verified", () => {
      const wire = torrent.wires[0];
      if (switched || !wire || torrent.pieces.filter((p) => p === null).length < 4) return;
      switched = true;
      const other = Wallet.createRandom();
      handshakeAgain(wire, { ...payerHandshake(leecher.options.client), payer: other.address });
    });
    await eventually(() => switched, "the other payer");
    await done(torrent);
    const settled = await leecher.settle();
    expect(seederWarnings.join("\n")).to.match(/changed its paid handshake/);
    const pieces = BigInt(seeded.torrent.pieces.length);
    expect(settled.reduce((sum, s) => sum + s.spent, 0n)).to.equal(pieces * PRICE);
    const paidOut = await seeded.seeder.options.client.adjudicator.queryFilter(
      seeded.seeder.options.client.adjudicator.filters.PaidOut(),
      start,
    );
    const toBob = paidOut
      .filter((e) => e.args.destination.toLowerCase().endsWith(bob.address.slice(2).toLowerCase()))
      .reduce((sum, e) => sum + e.args.amount, 0n);
    expect(toBob, "the seeder: price x pieces, from alice's channel").to.equal(pieces * PRICE);
  });
});
