// Attacks on a downloader that sells what it has (security rows 104 to 106): a raw peer, driven byte by byte, plays
// a buyer that asks for pieces the seller has not verified, and a peer that sends a close for a channel that is
// neither the one it pays on nor the one it is paid on. The money is read from the chain.
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { encodeMessage } from "../../../client/wire/codec.js";
import { gasSpentSince } from "../helpers/balances.js";
import { ethers } from "../helpers/fixtures.js";
import { BLOCK, eventually, failOnUnhandledRejections, PIECE, PRICE, usePaidNetwork } from "./helpers.js";
import {
  countPieces,
  fundingProposal,
  offerHandshake,
  payAndWait,
  payerHandshake,
  proposeBytes,
  proposeOnly,
  requestMessage,
} from "./raw-session.js";
import { torrentOf, trader } from "./trader.js";

const balanceOf = (address: string) => ethers.provider.getBalance(address);

describe("a downloader that sells, against a hostile peer", function () {
  this.timeout(60_000);
  failOnUnhandledRejections();
  const net = usePaidNetwork();

  /** Alice holds the first 8 of 16 pieces (verified from disk) and sells them at PRICE; nobody else is there. */
  async function halfTrader(options: Parameters<typeof trader>[5] = {}) {
    const data = randomBytes(16 * PIECE);
    const torrentFile = await torrentOf(net, data, PIECE);
    const onDisk = Buffer.concat([data.subarray(0, 8 * PIECE), Buffer.alloc(8 * PIECE)]);
    const a = await trader(net, net.f.alice, torrentFile, PRICE, onDisk, options);
    expect(a.torrent.progress).to.equal(0.5);
    return a;
  }

  it("a buyer that asks for pieces the seller lacks gets them refused (BEP 6) and its credit untouched; the close pays only what was served", async function () {
    const { alice, eve } = net.f;
    const a = await halfTrader();
    const eveSdk = await net.sdkFor(eve);
    const start = await ethers.provider.getBlockNumber();
    const [aliceBefore, eveBefore] = await Promise.all([balanceOf(alice.address), balanceOf(eve.address)]);
    const peer = await net.rawPeer(a.port, a.torrent.infoHash, payerHandshake(eveSdk));
    const got = countPieces(peer.wire);
    let rejected = 0;
    peer.wire.on("reject", () => rejected++);
    peer.wire.interested();
    const opened = await proposeOnly(peer, eveSdk, alice.address, 16n * PRICE);
    await eveSdk.fund(opened.proposal, opened.accept);
    await payAndWait(peer, eveSdk, opened.id, 4n * PRICE);
    await peer.unchoked();
    // First every block of the 8 pieces alice lacks, then the 4 she has and was paid for.
    const asked: Buffer[] = [];
    for (const index of [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3])
      for (let at = 0; at < PIECE; at += BLOCK) asked.push(requestMessage(index, at, BLOCK));
    peer.socket.write(Buffer.concat(asked));
    await eventually(() => got.bytes / BLOCK + rejected === asked.length, "an answer to every request");
    expect(rejected, "every block of the pieces alice lacks").to.equal((8 * PIECE) / BLOCK);
    expect([...got.perPiece.keys()].sort()).to.deep.equal([0, 1, 2, 3]);
    expect(a.leecher.seller?.stats().served).to.equal(4);
    // Eve closes at what she got; alice's seller role countersigns and sends the close.
    const paid = 4n * PRICE;
    const offer = await eveSdk.offerClose(opened.id, { paid });
    peer.send(
      encodeMessage({
        type: "close",
        channelId: opened.id,
        turnNum: offer.final.turnNum,
        paid,
        signature: offer.signature,
      }),
    );
    expect((await peer.next("notice")).code).to.equal("closed");
    // The chain: alice got 4 pieces' price, eve paid it; nothing for the pieces alice never had.
    expect((await eveSdk.settlement(opened.id)).toPeer).to.equal(paid);
    const [aliceGas, eveGas] = await Promise.all(
      [alice, eve].map((x) => gasSpentSince(ethers.provider, x.address, start)),
    );
    expect((await balanceOf(alice.address)) - aliceBefore).to.equal(paid - aliceGas);
    expect(eveBefore - (await balanceOf(eve.address))).to.equal(paid + eveGas);
  });

  it("a close for a channel that is neither the one it pays on nor the one it is paid on drops the peer; nothing is signed or sent", async function () {
    const { eve } = net.f;
    const a = await halfTrader();
    const eveSdk = await net.sdkFor(eve);
    const before = await a.sdk.store.listChannels();
    // Eve says she buys and sells: both roles of alice's session face her.
    const both = { ...payerHandshake(eveSdk), offer: offerHandshake(eveSdk).offer };
    const peer = await net.rawPeer(a.port, a.torrent.infoHash, both);
    const blockBefore = await ethers.provider.getBlockNumber();
    peer.send(
      encodeMessage({
        type: "close",
        channelId: `0x${randomBytes(32).toString("hex")}`,
        turnNum: 3n,
        paid: PRICE,
        signature: `0x${randomBytes(65).toString("hex")}`,
      }),
    );
    expect(await peer.dropped(), "dropped").to.equal(true);
    expect(await a.sdk.store.listChannels()).to.deep.equal(before);
    expect(await ethers.provider.getBlockNumber(), "no transaction").to.equal(blockBefore);
  });

  it("a proposal to it that is never funded is refused without closing the connection on which it buys", async function () {
    const { alice, eve } = net.f;
    const a = await halfTrader({ sell: { pricePerPiece: PRICE, fundingTimeoutMs: 1_000 } });
    const eveSdk = await net.sdkFor(eve);
    // Eve buys and sells, and has the half alice lacks: alice opens a channel to buy from her.
    const both = { ...payerHandshake(eveSdk), offer: offerHandshake(eveSdk).offer };
    const peer = await net.rawPeer(a.port, a.torrent.infoHash, both);
    peer.wire._message(5, [], Uint8Array.of(0x00, 0xff)); // bitfield: pieces 8 to 15
    const p = await peer.next("propose");
    const acceptance = await eveSdk.join(fundingProposal(p), { assets: [ZeroAddress] });
    peer.send(encodeMessage({ type: "accept", ...acceptance }));
    const voucher = await peer.next("voucher");
    expect(voucher.voucher.amount).to.equal(2n * PRICE);
    // Eve proposes a channel to buy from alice, and never funds it.
    const proposal = await eveSdk.propose({ payee: alice.address, deposit: 4n * PRICE });
    peer.send(proposeBytes(proposal, 4n * PRICE));
    await peer.next("accept");
    const notice = await peer.next("notice", 10_000);
    expect(notice.code).to.equal("refused");
    expect(notice.reason).to.match(/not funded/);
    // The connection stays: alice still buys from eve on it, and her channel to eve is open and paid.
    expect(await peer.dropped(1_000), "dropped").to.equal(false);
    const buying = a.leecher.stats().find((s) => s.channelId === acceptance.channelId.toLowerCase());
    expect(buying).to.deep.include({ paid: 2n * PRICE, closed: false });
    // The unfunded proposal left no row.
    const rows = await a.sdk.store.listChannels();
    expect(rows.map((r) => r.id.toLowerCase())).to.deep.equal([acceptance.channelId.toLowerCase()]);
  });
});
