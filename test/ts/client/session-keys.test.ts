// Peers whose channel participant is a session key and whose money goes to a wallet apart from it, as a web page has
// them (the key signs every state and voucher, the wallet sends the transactions and is paid). The seeder says where
// it is paid in its offer (`payTo`); the leecher's proposal carries both destinations of the funding state. Money
// terms, read from the chain: the seeder's wallet gets price x pieces, the leecher's wallet the rest of its deposit,
// each session key exactly 0; a proposal that would pay the seeder anywhere but its wallet, or refund to nobody, is
// refused before anything is signed or stored.
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { Wallet, ZeroAddress } from "ethers";
import { encodeMessage } from "../../../client/wire/codec.js";
import { decodeHandshake } from "../../../client/wire/handshake.js";
import { EXTENSION_NAME } from "../../../client/wire/messages.js";
import { toDestination } from "../../../sdk/node.js";
import { gasSpentSince } from "../helpers/balances.js";
import { ethers } from "../helpers/fixtures.js";
import { done, failOnUnhandledRejections, PIECE, PRICE, usePaidNetwork } from "./helpers.js";
import { payerHandshake, proposeMessage } from "./raw-session.js";

const balanceOf = (address: string) => ethers.provider.getBalance(address);

describe("session keys over the wire: each side paid to its wallet", function () {
  this.timeout(60_000);
  failOnUnhandledRejections();
  const net = usePaidNetwork();

  it("a download between two session keys pays the seeder's wallet price x pieces and refunds the leecher's wallet; the keys hold 0", async function () {
    const { f } = net;
    const [seederKey, leecherKey] = [Wallet.createRandom(), Wallet.createRandom()];
    const data = randomBytes(6 * PIECE + 1000);
    const start = await ethers.provider.getBlockNumber();
    const [aliceBefore, bobBefore] = await Promise.all([balanceOf(f.alice.address), balanceOf(f.bob.address)]);
    const seeded = await net.seed(seederKey, data, { wallet: f.bob });
    const { torrent, leecher } = await net.leech(leecherKey, seeded.torrent.torrentFile, [seeded.port], {
      wallet: f.alice,
    });
    await done(torrent);
    const [settled] = await leecher.settle();
    const pieces = BigInt(seeded.torrent.pieces.length);
    expect(settled).to.deep.include({ delivered: Number(pieces), closed: true });
    const id = settled.channelId as string;

    // The chain: PaidOut to the two wallets, nothing to the keys.
    const events = await f.adjudicator.queryFilter(f.adjudicator.filters.PaidOut(id));
    const paid = new Map(events.map((e) => [e.args.destination.toLowerCase(), e.args.amount]));
    const deposit = (await leecher.options.client.store.getChannel(id))?.deposited ?? 0n;
    expect(paid.get(toDestination(f.bob.address))).to.equal(pieces * PRICE);
    // The rest of the deposit back to the leecher's wallet (no event when nothing is left), none to a key.
    expect(paid.get(toDestination(f.alice.address)) ?? 0n).to.equal(deposit - pieces * PRICE);
    const wallets = [toDestination(f.alice.address), toDestination(f.bob.address)];
    expect([...paid.keys()].filter((to) => !wallets.includes(to))).to.deep.equal([]);
    expect(await Promise.all([seederKey, leecherKey].map((k) => balanceOf(k.address)))).to.deep.equal([0n, 0n]);
    const [aliceGas, bobGas] = await Promise.all(
      [f.alice, f.bob].map((w) => gasSpentSince(ethers.provider, w.address, start)),
    );
    expect((await balanceOf(f.bob.address)) - bobBefore).to.equal(pieces * PRICE - bobGas);
    expect(aliceBefore - (await balanceOf(f.alice.address))).to.equal(pieces * PRICE + aliceGas);
  });

  it("the seeder advertises its wallet as payTo; a proposal paying it elsewhere, or refunding to the zero address, is refused with nothing stored", async function () {
    const { f } = net;
    const seederKey = Wallet.createRandom();
    const seeded = await net.seed(seederKey, randomBytes(2 * PIECE), { wallet: f.bob });
    const eve = await net.sdkFor(f.eve);
    const eveBefore = await balanceOf(f.eve.address);
    const warnings: string[] = [];
    seeded.seeder.on("warning", (error: Error) => warnings.push(error.message));

    const theirs = async () => {
      const peer = await net.rawPeer(seeded.port, seeded.torrent.infoHash, payerHandshake(eve));
      const handshake = (peer.wire as unknown as { peerExtendedHandshake: Record<string, unknown> })
        .peerExtendedHandshake;
      return { peer, offer: decodeHandshake(handshake[EXTENSION_NAME]).offer };
    };
    const first = await theirs();
    expect(first.offer).to.deep.include({ payee: seederKey.address, payTo: f.bob.address });

    // Eve's funding state pays the seeder's share back to Eve: signed by her, but not what the seeder serves for.
    const stealing = await eve.propose({ payee: seederKey.address, payeeDestination: f.eve.address, deposit: PRICE });
    first.peer.send(encodeMessage(proposeMessage(stealing, PRICE)));
    expect(await first.peer.dropped(5_000)).to.equal(true);

    // A refund to the zero address (its money would burn): refused before the signature is even looked at.
    const second = await theirs();
    const honest = await eve.propose({ payee: seederKey.address, payeeDestination: f.bob.address, deposit: PRICE });
    second.peer.send(encodeMessage({ ...proposeMessage(honest, PRICE), payerDestination: ZeroAddress }));
    expect(await second.peer.dropped(5_000)).to.equal(true);
    expect(warnings.join("\n")).to.include(`not to our wallet ${f.bob.address}`).and.to.include("refunds the payer to");

    // Nothing accepted, nothing stored by the seeder, nothing spent by Eve.
    for (const peer of [first.peer, second.peer]) {
      expect(peer.inbox.some((m) => !(m instanceof Uint8Array) && m.type === "accept")).to.equal(false);
    }
    expect(await seeded.seeder.options.client.store.listChannels()).to.deep.equal([]);
    expect(await balanceOf(f.eve.address)).to.equal(eveBefore);
  });
});
