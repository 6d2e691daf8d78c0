// Paid torrenting end to end, in process: real webtorrent peers over TCP loopback, real signatures, real stores on
// disk, Hardhat's in-process chain. Balances after settlement equal price x pieces served, to the wei.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { parseEther } from "ethers";
import type { Torrent } from "webtorrent";
import { gasSpentSince } from "../helpers/balances.js";
import { ethers, type Signer } from "../helpers/fixtures.js";
import { PIECE, PRICE, usePaidNetwork } from "./helpers.js";

describe("paid torrenting end to end", function () {
  this.timeout(120_000);
  const net = usePaidNetwork();
  let f: typeof net.f;
  let dir: string;
  beforeEach(() => {
    ({ f, dir } = net);
  });

  const webtorrent = () => net.webtorrent();
  const seed = (signer: Signer, data: Buffer) => net.seed(signer, data);
  async function leech(signer: Signer, torrentFile: Uint8Array, ports: number[], budget = parseEther("1")) {
    return net.leech(signer, torrentFile, ports, { budget });
  }

  it("one seeder, one leecher: the file arrives intact; the seeder ends with price x pieces, the leecher with the rest", async function () {
    const data = randomBytes(4 * 1024 * 1024 + 1234);
    const start = await ethers.provider.getBlockNumber();
    const [aliceBefore, bobBefore] = await Promise.all(
      [f.alice, f.bob].map((s) => ethers.provider.getBalance(s.address)),
    );
    const { torrent: seeded, seeder, port } = await seed(f.bob, data);
    const { torrent, leecher, path: out } = await leech(f.alice, seeded.torrentFile, [port]);
    await new Promise<void>((resolve) => torrent.once("done", () => resolve()));
    const settled = await leecher.settle();
    const pieces = BigInt(seeded.pieces.length);
    expect(settled).to.have.length(1);
    expect(settled[0]).to.deep.include({ delivered: Number(pieces), closed: true });
    expect(readFileSync(join(out, "file.bin")).equals(data)).to.equal(true);
    expect(seeder.stats().served).to.equal(Number(pieces));
    const [aliceGas, bobGas] = await Promise.all(
      [f.alice, f.bob].map((s) => gasSpentSince(ethers.provider, s.address, start)),
    );
    const [aliceAfter, bobAfter] = await Promise.all(
      [f.alice, f.bob].map((s) => ethers.provider.getBalance(s.address)),
    );
    expect(bobAfter - bobBefore).to.equal(pieces * PRICE - bobGas);
    expect(aliceBefore - aliceAfter).to.equal(pieces * PRICE + aliceGas);
  });

  it("two seeders, one leecher: each seeder is paid exactly for the pieces it served", async function () {
    const data = randomBytes(6 * 1024 * 1024);
    const start = await ethers.provider.getBlockNumber();
    const sellers = [f.bob, f.carol];
    const before = await Promise.all([f.alice, ...sellers].map((s) => ethers.provider.getBalance(s.address)));
    const first = await seed(f.bob, data);
    const second = await seed(f.carol, data);
    const { torrent, leecher } = await leech(f.alice, first.torrent.torrentFile, [first.port, second.port]);
    await new Promise<void>((resolve) => torrent.once("done", () => resolve()));
    const settled = await leecher.settle();
    const total = first.torrent.pieces.length;
    const served = [first.seeder.stats().served, second.seeder.stats().served];
    // No piece is paid twice: each was asked of one seeder only.
    expect(settled.map((p) => p.delivered).reduce((a, b) => a + b, 0)).to.equal(total);
    expect(served.reduce((a, b) => a + b, 0)).to.equal(total);
    expect(served.every((n) => n > 0)).to.equal(true);
    const gas = await Promise.all([f.alice, ...sellers].map((s) => gasSpentSince(ethers.provider, s.address, start)));
    const after = await Promise.all([f.alice, ...sellers].map((s) => ethers.provider.getBalance(s.address)));
    let paidOut = 0n;
    for (const [i, seller] of [first, second].entries()) {
      const delivered = settled.find((p) => p.channelId === seller.seeder.stats().peers[0]?.channelId)?.delivered ?? 0;
      const earned = BigInt(delivered) * PRICE;
      expect(after[i + 1] - before[i + 1], `seeder ${i}`).to.equal(earned - gas[i + 1]);
      paidOut += earned;
    }
    expect(paidOut).to.equal(BigInt(total) * PRICE);
    expect(before[0] - after[0]).to.equal(paidOut + gas[0]);
  });

  it("a seeder priced above the leecher's maximum is neither paid nor used: no channel, no deposit, nothing served", async function () {
    const data = randomBytes(2 * 1024 * 1024);
    const start = await ethers.provider.getBlockNumber();
    const before = await Promise.all([f.alice, f.bob, f.carol].map((s) => ethers.provider.getBalance(s.address)));
    const cheap = await net.seed(f.bob, data);
    const dear = await net.seed(f.carol, data, { price: PRICE + 1n });
    const { torrent, leecher } = await leech(f.alice, cheap.torrent.torrentFile, [dear.port, cheap.port]);
    await new Promise<void>((resolve) => torrent.once("done", () => resolve()));
    const settled = await leecher.settle();
    const pieces = cheap.torrent.pieces.length;
    expect(settled).to.have.length(1);
    expect(settled[0]).to.deep.include({ delivered: pieces, closed: true });
    expect(dear.seeder.stats()).to.deep.include({ paid: 0n, served: 0 });
    expect(dear.seeder.stats().peers.every((p) => p.channelId === undefined)).to.equal(true);
    expect(cheap.seeder.stats().served).to.equal(pieces);
    expect(torrent.wires.some((w) => w.remotePort === dear.port)).to.equal(false); // dropped at its handshake
    const gas = await Promise.all(
      [f.alice, f.bob, f.carol].map((s) => gasSpentSince(ethers.provider, s.address, start)),
    );
    const after = await Promise.all([f.alice, f.bob, f.carol].map((s) => ethers.provider.getBalance(s.address)));
    expect(before[0] - after[0]).to.equal(BigInt(pieces) * PRICE + gas[0]);
    expect(after[1] - before[1]).to.equal(BigInt(pieces) * PRICE - gas[1]);
    expect(after[2]).to.equal(before[2]); // the dear seeder: not a wei, not a transaction
    expect(gas[2]).to.equal(0n);
  });

  it("with --max-window 1, never more than one piece is paid ahead, from the first voucher on", async function () {
    const data = randomBytes(1024 * 1024);
    const { torrent: seeded, port } = await seed(f.bob, data);
    const { torrent, leecher } = await net.leech(f.alice, seeded.torrentFile, [port], { maxWindow: 1 });
    let mostAhead = 0n;
    leecher.on("paid", (stats: { paid: bigint; delivered: number }) => {
      const ahead = stats.paid - BigInt(stats.delivered) * PRICE;
      if (ahead > mostAhead) mostAhead = ahead;
    });
    await new Promise<void>((resolve) => torrent.once("done", () => resolve()));
    const [settled] = await leecher.settle();
    expect(settled).to.deep.include({ delivered: seeded.pieces.length, closed: true });
    expect(mostAhead).to.equal(PRICE);
  });

  it("one seeder, two leechers: each leecher pays exactly for its own download", async function () {
    const data = randomBytes(3 * 1024 * 1024);
    const start = await ethers.provider.getBlockNumber();
    const before = await Promise.all([f.alice, f.eve, f.bob].map((s) => ethers.provider.getBalance(s.address)));
    const { torrent: seeded, seeder, port } = await seed(f.bob, data);
    const a = await leech(f.alice, seeded.torrentFile, [port]);
    const b = await leech(f.eve, seeded.torrentFile, [port]);
    await Promise.all(
      [a, b].map(({ torrent }) => new Promise<void>((resolve) => torrent.once("done", () => resolve()))),
    );
    await Promise.all([a.leecher.settle(), b.leecher.settle()]);
    const pieces = BigInt(seeded.pieces.length);
    const gas = await Promise.all([f.alice, f.eve, f.bob].map((s) => gasSpentSince(ethers.provider, s.address, start)));
    const after = await Promise.all([f.alice, f.eve, f.bob].map((s) => ethers.provider.getBalance(s.address)));
    // Leechers may also trade pieces with each other (free between them); each pays the seeder for what it served.
    const fromSeeder = [a, b].map(({ leecher }) => BigInt(leecher.stats().find((p) => p.channelId)?.delivered ?? 0));
    expect(before[0] - after[0]).to.equal(fromSeeder[0] * PRICE + gas[0]);
    expect(before[1] - after[1]).to.equal(fromSeeder[1] * PRICE + gas[1]);
    expect(after[2] - before[2]).to.equal((fromSeeder[0] + fromSeeder[1]) * PRICE - gas[2]);
    expect(fromSeeder[0] + fromSeeder[1]).to.be.at.least(pieces);
    expect(seeder.stats().served).to.equal(Number(fromSeeder[0] + fromSeeder[1]));
  });

  it("a leecher that stops paying (its budget runs out) gets no more pieces; the seeder ends with exactly what it was owed", async function () {
    const data = randomBytes(2 * 1024 * 1024);
    const start = await ethers.provider.getBlockNumber();
    const bobBefore = await ethers.provider.getBalance(f.bob.address);
    const { torrent: seeded, seeder, port } = await seed(f.bob, data);
    const { torrent, leecher } = await leech(f.alice, seeded.torrentFile, [port], 5n * PRICE); // pays for 5 pieces
    await new Promise((r) => setTimeout(r, 1500));
    expect(torrent.done).to.equal(false);
    expect(seeder.stats().served).to.equal(5);
    const settled = await leecher.settle();
    expect(settled[0].delivered).to.equal(5);
    const bobGas = await gasSpentSince(ethers.provider, f.bob.address, start);
    expect((await ethers.provider.getBalance(f.bob.address)) - bobBefore).to.equal(5n * PRICE - bobGas);
  });

  it("a paid seeder gives a plain BitTorrent peer nothing, and nothing breaks", async function () {
    const data = randomBytes(1024 * 1024);
    const { torrent: seeded, seeder, port } = await seed(f.bob, data);
    const plain = webtorrent().add(seeded.torrentFile, { path: join(dir, "plain") });
    plain.on("infoHash", () => plain.addPeer(`127.0.0.1:${port}`));
    await new Promise((r) => setTimeout(r, 1500));
    expect(plain.downloaded).to.equal(0);
    expect(seeder.stats().served).to.equal(0);
  });

  it("a paid seeder allows no piece fast (BEP 6): a plain peer that speaks the fast extension is told of none, and its request is rejected", async function () {
    const data = randomBytes(1024 * 1024);
    const { torrent: seeded, seeder, port } = await seed(f.bob, data);
    const peer = await net.rawPeer(port, seeded.infoHash);
    const rejected = new Promise<number>((resolve) => peer.wire.once("reject", (index: number) => resolve(index)));
    peer.wire.interested();
    peer.wire._message(6, [0, 0, 16 * 1024], null); // request: piece 0, its first block
    expect(await rejected).to.equal(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(peer.wire.hasFast).to.equal(true);
    expect((peer.wire as unknown as { peerAllowedFastSet: number[] }).peerAllowedFastSet).to.deep.equal([]);
    expect(peer.wire.downloaded).to.equal(0);
    expect(seeder.stats().served).to.equal(0);
  });

  it("a free torrent (no price) downloads from and seeds to plain peers as usual", async function () {
    const data = randomBytes(1024 * 1024);
    const seederClient = webtorrent();
    const seeded = await new Promise<Torrent>((resolve) =>
      seederClient.seed(data, { name: "free.bin", announce: [], pieceLength: PIECE }, resolve),
    );
    const plain = webtorrent().add(seeded.torrentFile, { path: join(dir, "free") });
    plain.on("infoHash", () => plain.addPeer(`127.0.0.1:${seederClient.address()?.port}`));
    await new Promise<void>((resolve) => plain.once("done", () => resolve()));
    expect(readFileSync(join(dir, "free", "free.bin")).equals(data)).to.equal(true);
  });
});
