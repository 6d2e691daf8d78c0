// Every wei accounted for in a mixed swarm (docs/security.md rows 42 and 43): a paying leecher that downloads
// from a paid seeder and a free (plain, unpaid) peer at once pays the paid seeder exactly for what it delivered,
// and reports what it actually spent; and it keeps one channel per payee however many connections lead to it.
// Real webtorrent peers over TCP loopback, Hardhat's in-process chain; the chain is the judge: every test reads
// balances and gas, and lets a seeder whose channel was not closed enforce its voucher before it looks.
import { randomBytes } from "node:crypto";
import type { Wire } from "bittorrent-protocol";
import { expect } from "chai";
import type WebTorrent from "webtorrent";
import type { Torrent } from "webtorrent";
import type { PaidSeeder } from "../../../client/session/seeder.js";
import { decodeMessage } from "../../../client/wire/codec.js";
import type { PaidMessage } from "../../../client/wire/messages.js";
import { gasSpentSince } from "../helpers/balances.js";
import { ethers, networkHelpers, type Signer } from "../helpers/fixtures.js";
import { aria2Seed } from "../helpers/plain-clients.js";
import { done, eventually, failOnUnhandledRejections, PIECE, PRICE, usePaidNetwork } from "./helpers.js";
import { offerHandshake } from "./raw-session.js";

const balanceOf = (address: string) => ethers.provider.getBalance(address);
/** Moves the chain's clock to a challenge's end (SDK `redeem`'s `waitFor`). */
const timeTravel = async (finalizesAt: bigint) => networkHelpers.time.increaseTo(finalizesAt);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the chain says each signer gained (negative: spent), gas left out, since `start`. */
async function netOfGas(signers: Signer[], before: bigint[], start: number): Promise<bigint[]> {
  const gas = await Promise.all(signers.map((s) => gasSpentSince(ethers.provider, s.address, start)));
  const after = await Promise.all(signers.map((s) => balanceOf(s.address)));
  return signers.map((_, i) => after[i] - before[i] + gas[i]);
}

/** Destroys a webtorrent client: its peers see every connection close (a seeder then enforces, if owed). */
function destroyClient(client: WebTorrent): Promise<void> {
  return new Promise((resolve) => client.destroy(() => resolve()));
}

/**
 * Wraps the `piecepay` extension of every wire of `torrent` (a seeder's or a leecher's): counts each message type
 * that arrives, and lets the test hold or drop messages of one type.
 */
function tapMessages(torrent: Torrent) {
  const tap = {
    counts: new Map<string, number>(),
    hold: new Set<PaidMessage["type"]>(),
    drop: new Set<PaidMessage["type"]>(),
    held: [] as (() => void)[],
    release(): void {
      tap.hold.clear();
      for (const deliver of tap.held.splice(0)) deliver();
    },
  };
  torrent.on("wire", (wire: Wire) => {
    const ext = (wire as unknown as { piecepay?: { onMessage(b: Uint8Array): void } }).piecepay;
    if (!ext) return;
    const onMessage = ext.onMessage.bind(ext);
    ext.onMessage = (buffer) => {
      let type: string | undefined;
      try {
        type = decodeMessage(new Uint8Array(buffer)).type;
      } catch {
        type = undefined;
      }
      if (type) tap.counts.set(type, (tap.counts.get(type) ?? 0) + 1);
      if (type && tap.drop.has(type as PaidMessage["type"])) return;
      if (type && tap.hold.has(type as PaidMessage["type"])) {
        tap.held.push(() => onMessage(buffer));
        return;
      }
      onMessage(buffer);
    };
  });
  return tap;
}

/**
 * A slow link from a paid seeder: each block it sends (and counts as served) reaches the wire `ms` later, in order.
 * Installed before the seeder's own wrapper of `wire.piece`, which counts the block when it is handed over.
 */
function delayBlocks(torrent: Torrent, ms: number): void {
  torrent.prependListener("wire", (wire: Wire) => {
    const piece = wire.piece.bind(wire);
    wire.piece = (index, offset, buffer) => {
      setTimeout(() => {
        if (!wire.destroyed) piece(index, offset, buffer);
      }, ms);
    };
  });
}

describe("a paying leecher in a mixed swarm (rows 42 and 43)", function () {
  this.timeout(120_000);
  const net = usePaidNetwork();
  let f: typeof net.f;
  failOnUnhandledRejections();
  beforeEach(() => {
    f = net.f;
  });

  /** A plain webtorrent seeder of `data`, the same torrent as the paid seeders' (same name and piece length). */
  async function plainSeed(data: Buffer) {
    const client = net.webtorrent();
    const torrent = await new Promise<Torrent>((resolve) =>
      client.seed(data, { name: "file.bin", announce: [], pieceLength: PIECE }, resolve),
    );
    await eventually(() => Boolean(client.address()?.port), "the plain seeder to listen", 5_000);
    return { torrent, port: client.address()?.port as number, client };
  }

  /** A paid seeder that enforces its voucher 100 ms after a leecher leaves without closing, the clock moved. */
  const paidSeed = (signer: Signer, data: Buffer) =>
    net.seed(signer, data, { enforceAfterMs: 100, waitFor: timeTravel });

  /** Waits until `seeder` holds no channel still open on its side (closed, or enforced and paid out). */
  async function seederSettled(seeder: PaidSeeder): Promise<void> {
    const store = seeder.options.client.store;
    await eventually(
      async () => (await store.listChannels()).every((c) => ["proposed", "withdrawn", "finalized"].includes(c.phase)),
      "the seeder's channels to be closed or paid out",
      20_000,
    ).catch(() => undefined); // a channel left open shows in the balances below
  }

  describe("row 42: a paid seeder and a free peer feed one leecher", function () {
    // The free peer at full speed (it races the paid seeder for the last pieces), and held to 1 MiB/s (both deliver
    // a good share).
    for (const { pieces, maxWindow, freeRate, paidRate, latencyMs } of [
      { pieces: 48 },
      { pieces: 96, maxWindow: 8 },
      { pieces: 64, freeRate: 1024 * 1024 },
      { pieces: 64, paidRate: 256 * 1024 },
      { pieces: 64, maxWindow: 4, paidRate: 256 * 1024 },
      { pieces: 64, latencyMs: 300 },
      { pieces: 96, maxWindow: 8, latencyMs: 300 },
    ] as { pieces: number; maxWindow?: number; freeRate?: number; paidRate?: number; latencyMs?: number }[]) {
      const speed = [
        freeRate ? `a free peer at ${freeRate / 1024} KiB/s` : "a free peer at full speed",
        ...(paidRate ? [`the paid seeder at ${paidRate / 1024} KiB/s`] : []),
        ...(latencyMs ? [`the paid seeder's blocks ${latencyMs} ms on their way`] : []),
      ].join(", ");
      it(`${pieces} pieces, window ${maxWindow ?? "default"}, ${speed}: the seeder is paid exactly what it delivered, the leecher spends and reports exactly that`, async function () {
        const data = randomBytes(pieces * PIECE);
        const start = await ethers.provider.getBlockNumber();
        const signers = [f.alice, f.bob];
        const before = await Promise.all(signers.map((s) => balanceOf(s.address)));
        const paid = await paidSeed(f.bob, data);
        // A slow paid seeder has blocks on their way (counted by it as served) when a free peer finishes the rest.
        if (paidRate) (paid.client as unknown as { throttleUpload(rate: number): void }).throttleUpload(paidRate);
        if (latencyMs) delayBlocks(paid.torrent, latencyMs);
        const free = await plainSeed(data);
        if (freeRate) (free.client as unknown as { throttleUpload(rate: number): void }).throttleUpload(freeRate);
        expect(free.torrent.infoHash).to.equal(paid.torrent.infoHash);
        const { torrent, leecher, client } = await net.leech(
          f.alice,
          paid.torrent.torrentFile,
          [paid.port, free.port],
          {
            maxWindow,
            closeTimeoutMs: 10_000,
          },
        );
        const warnings: string[] = [];
        leecher.on("warning", (e: Error) => warnings.push(e.message));
        await done(torrent);
        const settled = await leecher.settle();
        await destroyClient(client); // a channel not closed now gets enforced by its seeder
        await seederSettled(paid.seeder);
        const served = BigInt(paid.seeder.stats().served);
        const [alice, bob] = await netOfGas(signers, before, start);
        expect(bob, `the seeder served ${served} pieces; warnings: ${warnings.join("; ")}`).to.equal(served * PRICE);
        expect(-alice, "what the leecher spent, gas aside").to.equal(served * PRICE);
        // What the leecher reports is what the chain says it spent.
        expect(
          settled.reduce((a, p) => a + p.spent, 0n),
          "the leecher's own summary",
        ).to.equal(-alice);
        expect(settled.every((p) => p.closed)).to.equal(true);
        expect(settled.reduce((a, p) => a + p.delivered, 0)).to.equal(Number(served));
      });
    }

    it("the free peer finishes everything before the paid channel is funded: no deposit left behind, nothing paid", async function () {
      const data = randomBytes(24 * PIECE);
      const start = await ethers.provider.getBlockNumber();
      const signers = [f.alice, f.bob];
      const before = await Promise.all(signers.map((s) => balanceOf(s.address)));
      const paid = await paidSeed(f.bob, data);
      const free = await plainSeed(data);
      const { torrent, leecher, client } = await net.leech(f.alice, paid.torrent.torrentFile, [paid.port], {
        closeTimeoutMs: 10_000,
      });
      // The leecher's proposal waits at the seeder until the free peer has delivered the whole file.
      const tap = tapMessages(paid.torrent);
      tap.hold.add("propose");
      await eventually(() => tap.held.length > 0, "the leecher's proposal");
      torrent.addPeer(`127.0.0.1:${free.port}`);
      await done(torrent);
      tap.release();
      const settled = await leecher.settle();
      await sleep(500); // an acceptance, a deposit or a voucher still on its way
      await destroyClient(client);
      await seederSettled(paid.seeder);
      const [alice, bob] = await netOfGas(signers, before, start);
      expect(paid.seeder.stats().served).to.equal(0);
      expect(bob, "the paid seeder served nothing").to.equal(0n);
      expect(alice, "nothing spent but gas: no deposit locked, no voucher").to.equal(0n);
      expect(settled.reduce((a, p) => a + p.spent, 0n)).to.equal(0n);
      expect(leecher.budgetLeft(), "the reservation given back").to.equal(leecher.options.budget);
    });

    it("the seeder does not answer the close: it enforces its voucher, and the leecher loses at most one window", async function () {
      const MAX_WINDOW = 4;
      const data = randomBytes(48 * PIECE);
      const start = await ethers.provider.getBlockNumber();
      const signers = [f.alice, f.bob];
      const before = await Promise.all(signers.map((s) => balanceOf(s.address)));
      const paid = await paidSeed(f.bob, data);
      const tap = tapMessages(paid.torrent);
      tap.drop.add("close");
      const free = await plainSeed(data);
      const { torrent, leecher, client } = await net.leech(f.alice, paid.torrent.torrentFile, [paid.port, free.port], {
        maxWindow: MAX_WINDOW,
        closeTimeoutMs: 300,
      });
      const enforced = new Promise((resolve) => paid.seeder.once("enforced", resolve));
      await done(torrent);
      const settled = await leecher.settle();
      expect(tap.counts.get("close") ?? 0).to.be.at.most(1);
      await destroyClient(client);
      const channel = settled.find((p) => p.channelId);
      if (channel) {
        expect(channel.closed).to.equal(false);
        if (channel.paid > 0n) await enforced;
      }
      const voucher = paid.seeder.stats().peers.reduce((a, p) => a + p.paid, 0n);
      const served = BigInt(paid.seeder.stats().served);
      const [alice, bob] = await netOfGas(signers, before, start);
      expect(bob, "the seeder's largest voucher").to.equal(voucher);
      expect(-alice).to.equal(voucher);
      expect(-alice, "at most what it delivered and one window").to.be.at.most((served + BigInt(MAX_WINDOW)) * PRICE);
      // Not closed: the leecher reports the most the seeder can take, which is what it took.
      expect(settled.reduce((a, p) => a + p.spent, 0n)).to.equal(voucher);
    });
  });

  describe("row 43: two connections to one paid seeder", function () {
    it("two raw connections presenting one payee: one proposal; the second waits, and takes over when the first leaves unaccepted", async function () {
      const data = randomBytes(8 * PIECE);
      const { torrent: seeded } = await paidSeed(f.bob, data);
      const budget = 100n * PRICE;
      const { torrent, leecher, port } = await net.leech(f.alice, seeded.torrentFile, [], { budget });
      await eventually(() => Boolean(torrent.pieces?.length), "the leecher's metadata");
      const carol = await net.sdkFor(f.carol);
      const first = await net.rawPeer(port, torrent.infoHash, offerHandshake(carol));
      const proposal = await first.next("propose");
      expect(proposal.deposit).to.equal(8n * PRICE);
      const second = await net.rawPeer(port, torrent.infoHash, offerHandshake(carol));
      let secondProposed = false;
      const secondProposal = second.next("propose", 20_000).then(
        (m) => {
          secondProposed = true;
          return m;
        },
        () => undefined,
      );
      await sleep(1_000);
      expect(secondProposed, "a second proposal to the same payee").to.equal(false);
      expect(leecher.budgetLeft(), "one deposit reserved, not two").to.equal(budget - 8n * PRICE);
      // The first never accepts and leaves: its reservation comes back, and the second connection is used.
      first.destroy();
      const next = await secondProposal;
      expect(next?.deposit).to.equal(8n * PRICE);
      expect(leecher.budgetLeft()).to.equal(budget - 8n * PRICE);
    });

    it("the leecher dials the seeder while the seeder dials the leecher: one channel, paid exactly what was served", async function () {
      const data = randomBytes(32 * PIECE);
      const start = await ethers.provider.getBlockNumber();
      const signers = [f.alice, f.bob];
      const before = await Promise.all(signers.map((s) => balanceOf(s.address)));
      const paid = await paidSeed(f.bob, data);
      // Proposals wait at the seeder until both connections are up.
      const tap = tapMessages(paid.torrent);
      tap.hold.add("propose");
      const { torrent, leecher, client, port } = await net.leech(f.alice, paid.torrent.torrentFile, []);
      await eventually(() => Boolean(torrent.pieces?.length), "the leecher's metadata");
      torrent.addPeer(`127.0.0.1:${paid.port}`);
      paid.torrent.addPeer(`127.0.0.1:${port}`);
      await eventually(() => paid.seeder.peers.size >= 2, "two connections between the seeder and the leecher");
      await sleep(500);
      tap.release();
      await done(torrent);
      const settled = await leecher.settle();
      await destroyClient(client);
      await seederSettled(paid.seeder);
      expect(tap.counts.get("propose"), "proposals the seeder received").to.equal(1);
      expect(settled.filter((p) => p.channelId)).to.have.length(1);
      const served = BigInt(paid.seeder.stats().served);
      expect(served).to.equal(32n);
      const [alice, bob] = await netOfGas(signers, before, start);
      expect(bob).to.equal(served * PRICE);
      expect(-alice).to.equal(served * PRICE);
    });
  });

  describe("mixed swarms beyond webtorrent", function () {
    it("a paid seeder and a plain aria2 peer: the seeder is paid exactly what it delivered, aria2 nothing", async function () {
      const data = randomBytes(64 * PIECE);
      const start = await ethers.provider.getBlockNumber();
      const signers = [f.alice, f.bob];
      const before = await Promise.all(signers.map((s) => balanceOf(s.address)));
      const paid = await paidSeed(f.bob, data);
      // Held to 1 MiB/s: aria2 answers a handshake only on its next event-loop turn (up to a second), and by then
      // an unthrottled seeder on loopback would have sent the whole file.
      (paid.client as unknown as { throttleUpload(rate: number): void }).throttleUpload(1024 * 1024);
      const aria2 = await aria2Seed(net.dir, paid.torrent.torrentFile, { "file.bin": data });
      try {
        const { torrent, leecher, client } = await net.leech(
          f.alice,
          paid.torrent.torrentFile,
          [paid.port, aria2.port],
          { closeTimeoutMs: 10_000 },
        );
        await done(torrent);

        const settled = await leecher.settle();
        await destroyClient(client);
        await seederSettled(paid.seeder);
        const served = BigInt(paid.seeder.stats().served);
        const [alice, bob] = await netOfGas(signers, before, start);
        expect(bob, `the paid seeder served ${served} pieces`).to.equal(served * PRICE);
        expect(-alice, "what the leecher spent, gas aside").to.equal(served * PRICE);
        expect(settled.reduce((a, p) => a + p.spent, 0n)).to.equal(-alice);
        expect(
          settled.filter((p) => p.channelId),
          "a channel with the paid seeder only",
        ).to.have.length.at.most(1);
        expect(Number(served), "aria2 delivered the rest, unpaid").to.be.below(64);
        expect(Number(served), "the paid seeder delivered a share").to.be.above(0);
      } finally {
        aria2.child.kill("SIGTERM");
        await sleep(500);
      }
    });

    it("two paid seeders, one slow: each is paid exactly what it delivered", async function () {
      const data = randomBytes(64 * PIECE);
      const start = await ethers.provider.getBlockNumber();
      const signers = [f.alice, f.bob, f.carol];
      const before = await Promise.all(signers.map((s) => balanceOf(s.address)));
      const fast = await paidSeed(f.bob, data);
      const slow = await paidSeed(f.carol, data);
      (slow.client as unknown as { throttleUpload(rate: number): void }).throttleUpload(128 * 1024);
      const { torrent, leecher, client } = await net.leech(f.alice, fast.torrent.torrentFile, [fast.port, slow.port], {
        closeTimeoutMs: 10_000,
      });
      await done(torrent);
      const settled = await leecher.settle();
      await destroyClient(client);
      await seederSettled(fast.seeder);
      await seederSettled(slow.seeder);
      const servedFast = BigInt(fast.seeder.stats().served);
      const servedSlow = BigInt(slow.seeder.stats().served);
      const [alice, bob, carol] = await netOfGas(signers, before, start);
      expect(bob, `the fast seeder served ${servedFast} pieces`).to.equal(servedFast * PRICE);
      expect(carol, `the slow seeder served ${servedSlow} pieces`).to.equal(servedSlow * PRICE);
      expect(servedSlow, "the slow seeder delivered some of the file").to.be.greaterThan(0n);
      expect(-alice).to.equal((servedFast + servedSlow) * PRICE);
      expect(
        settled.reduce((a, p) => a + p.spent, 0n),
        "the leecher's own summary",
      ).to.equal(-alice);
      expect(settled.every((p) => !p.channelId || p.closed)).to.equal(true);
    });
  });
});
