// A paid seeder continues a funded channel on a new connection (`resume`, docs/security.md rows 61-63) only for the
// payer that funded it, with the payer's voucher, on one connection at a time; everything else is refused and dropped,
// with nothing served and no deposit. Real webtorrent seeder on the in-process chain; the leechers are raw
// connections.
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { encodeMessage, NO_SIGNATURE } from "../../../client/wire/codec.js";
import { signVoucher } from "../../../sdk/index.js";
import { gasSpentSince } from "../helpers/balances.js";
import { ethers } from "../helpers/fixtures.js";
import { BLOCK, failOnUnhandledRejections, PIECE, PRICE, usePaidNetwork } from "./helpers.js";
import { countPieces, payAndWait, payerHandshake, proposeOnly, rawRequest } from "./raw-session.js";

/** A raw leecher says it has no piece (BEP 6 `have none`): the seeder counts the pieces it served before against it. */
const haveNone = (peer: { wire: unknown }) => (peer.wire as { haveNone(): void }).haveNone();

describe("resume: continuing a funded channel on a new connection", function () {
  this.timeout(60_000);
  const net = usePaidNetwork();
  failOnUnhandledRejections();

  it("only the payer continues its channel, with its own voucher, on one connection at a time; the others are dropped unserved, and nothing is deposited twice", async function () {
    const f = net.f;
    const { torrent, seeder, port } = await net.seed(f.bob, randomBytes(8 * PIECE), { enforce: false });
    const warnings: string[] = [];
    seeder.on("warning", (e: Error) => warnings.push(e.message));
    const eve = await net.sdkFor(f.eve);
    const carol = await net.sdkFor(f.carol);
    const start = await ethers.provider.getBlockNumber();
    const eveBefore = await ethers.provider.getBalance(f.eve.address);
    const DEPOSIT = 8n * PRICE;

    // Eve opens and funds a channel, pays for 2 pieces, and leaves without closing.
    const first = await net.rawPeer(port, torrent.infoHash, payerHandshake(eve));
    const opened = await proposeOnly(first, eve, f.bob.address, DEPOSIT);
    await eve.fund(opened.proposal, opened.accept);
    const voucher = await payAndWait(first, eve, opened.id, 2n * PRICE);
    first.destroy();
    await first.closed;

    const resume = (v: { channelId: string; amount: bigint; signature: string }) =>
      encodeMessage({ type: "resume", voucher: v });
    const refused = async (who: typeof eve, bytes: Uint8Array, why: RegExp) => {
      const peer = await net.rawPeer(port, torrent.infoHash, payerHandshake(who));
      haveNone(peer);
      peer.send(bytes);
      const notice = await peer.next("notice");
      expect(notice.reason).to.match(why);
      expect(await peer.dropped()).to.equal(true);
      // The seeder's credit and channel are as Eve left them.
      expect((await seeder.options.client.store.getVoucher("received", opened.id))?.amount).to.equal(2n * PRICE);
      expect((await seeder.options.client.store.getChannel(opened.id))?.phase).to.equal("open");
    };
    // Carol replays Eve's voucher: not her channel.
    await refused(carol, resume(voucher), /not this peer's/);
    // Eve without a voucher, while the seeder holds 2 pieces of credit from her.
    await refused(eve, resume({ channelId: opened.id, amount: 0n, signature: NO_SIGNATURE }), /without the payer's/);
    // Eve with a voucher that Carol signed: dropped (the signature is checked), the credit stays Eve's.
    const forged = await signVoucher(f.carol, opened.id, 2n * PRICE);
    const peer = await net.rawPeer(port, torrent.infoHash, payerHandshake(eve));
    haveNone(peer);
    peer.send(resume(forged));
    expect(await peer.dropped()).to.equal(true);
    expect(warnings).to.include(`the voucher is signed by ${f.carol.address}, not by the payer ${f.eve.address}`);

    // Eve herself: the channel continues with her 2 pieces of credit, nothing served before, no new deposit.
    const again = await net.rawPeer(port, torrent.infoHash, payerHandshake(eve));
    haveNone(again);
    again.send(resume(voucher));
    const resumed = await again.next("resumed");
    expect(resumed).to.deep.include({ channelId: opened.id, amount: 2n * PRICE, served: 0n });
    // A second connection of Eve's while this one holds the channel: refused.
    await refused(eve, resume(voucher), /in use on another connection/);
    // The credit buys exactly 2 pieces on the continued channel.
    await again.unchoked();
    const received = countPieces(again.wire);
    for (const index of [0, 1, 2]) {
      for (let offset = 0; offset < PIECE; offset += BLOCK) rawRequest(again.wire, index, offset, BLOCK);
    }
    while (received.bytes < 2 * PIECE) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 200)); // a third piece would have arrived by now
    expect([...received.perPiece.keys()].sort()).to.deep.equal([0, 1]);
    expect(received.bytes).to.equal(2 * PIECE);

    // On chain: Eve deposited once; the channel holds that deposit.
    expect(await net.f.adjudicator.holdings(ZeroAddress, opened.id)).to.equal(DEPOSIT);
    const gas = await gasSpentSince(ethers.provider, f.eve.address, start);
    expect(eveBefore - (await ethers.provider.getBalance(f.eve.address))).to.equal(DEPOSIT + gas);
    again.destroy();
  });

  it("a continued channel's whole credit counts once its deposit is final: 20 pieces paid before the reconnection buy 20, not the 16 of an unconfirmed deposit", async function () {
    const f = net.f;
    const { torrent, port } = await net.seed(f.bob, randomBytes(24 * PIECE), { enforce: false });
    const eve = await net.sdkFor(f.eve);
    const first = await net.rawPeer(port, torrent.infoHash, payerHandshake(eve));
    const opened = await proposeOnly(first, eve, f.bob.address, 24n * PRICE);
    await eve.fund(opened.proposal, opened.accept);
    const voucher = await payAndWait(first, eve, opened.id, 20n * PRICE);
    first.destroy();
    await first.closed;

    const again = await net.rawPeer(port, torrent.infoHash, payerHandshake(eve));
    haveNone(again);
    again.send(encodeMessage({ type: "resume", voucher }));
    expect(await again.next("resumed")).to.deep.include({ channelId: opened.id, amount: 20n * PRICE, served: 0n });
    await again.unchoked();
    const received = countPieces(again.wire);
    for (let index = 0; index < 21; index++) {
      for (let offset = 0; offset < PIECE; offset += BLOCK) rawRequest(again.wire, index, offset, BLOCK);
    }
    const deadline = Date.now() + 10_000;
    while (received.bytes < 20 * PIECE && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((resolve) => setTimeout(resolve, 200)); // a 21st piece would have arrived by now
    expect(received.perPiece.size, "pieces served on the continued channel").to.equal(20);
    expect(received.bytes).to.equal(20 * PIECE);
    again.destroy();
  });
});
