// Fake seeders against a leecher's budget: a peer that advertises an offer, takes our proposal and never accepts
// costs us nothing we keep. Its budget reservation comes back and its proposal row goes when it leaves, so a swarm
// of them cannot leave the leecher unable to pay an honest seeder. Nothing is deposited in any case.
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import type { Torrent } from "webtorrent";
import { PROTOCOL_VERSION } from "../../../client/wire/messages.js";
import { done, eventually, PIECE, PRICE, usePaidNetwork } from "./helpers.js";

describe("leecher budget against seeders that never accept", function () {
  const net = usePaidNetwork();

  it("gives back each reservation and forgets each proposal when the seeder leaves; then pays an honest seeder", async function () {
    const data = randomBytes(8 * PIECE);
    const { torrent: seeded, port } = await net.seed(net.f.bob, data);
    // A budget for exactly one channel: 8 pieces at PRICE. Fake seeders take it first.
    const { torrent, leecher } = await net.leech(net.f.alice, seeded.torrentFile, [], { budget: 8n * PRICE });
    await eventually(() => Boolean((torrent as Torrent).pieces?.length), "the leecher's metadata");
    const carol = await net.sdkFor(net.f.carol);
    const offer = {
      version: PROTOCOL_VERSION,
      chainId: carol.chainId,
      adjudicator: carol.adjudicator.target as string,
      offer: { payee: carol.address, asset: ZeroAddress, pricePerPiece: PRICE },
    };
    const leecherPort = (torrent as unknown as { client: { address(): { port: number } } }).client.address().port;
    const balanceBefore = await net.f.alice.provider?.getBalance(net.f.alice.address);
    for (let i = 0; i < 5; i++) {
      const fake = await net.rawPeer(leecherPort, torrent.infoHash, offer);
      await fake.next("propose"); // our proposal, reserving the whole budget
      expect(leecher.budgetLeft(), `while fake seeder ${i} holds it`).to.equal(0n);
      fake.destroy();
      await eventually(() => leecher.budgetLeft() === 8n * PRICE, `reservation ${i} given back`);
    }
    const store = leecher.options.client.store;
    expect(await store.listChannels(), "no proposal rows left").to.have.length(0);
    expect(await net.f.alice.provider?.getBalance(net.f.alice.address), "nothing deposited").to.equal(balanceBefore);

    torrent.addPeer(`127.0.0.1:${port}`);
    await done(torrent);
    const [settled] = await leecher.settle();
    expect(settled).to.deep.include({ delivered: 8, closed: true, paid: 8n * PRICE });
  });
});
