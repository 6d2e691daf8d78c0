// Free peers and paid seeders in one swarm: the leecher's choice between them (PaidLeecherOptions.prefer,
// `get --prefer`). Before it, a free peer held to 1 MiB/s set the pace while a fast paid seeder delivered nothing: the
// pieces granted to the seeder were always the ones the free peer was already sending. Real webtorrent peers over
// TCP loopback on the in-process chain; what each side gained is read from it.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import type WebTorrent from "webtorrent";
import type { Torrent } from "webtorrent";
import { gasSpentSince } from "../helpers/balances.js";
import { ethers } from "../helpers/fixtures.js";
import { done, eventually, failOnUnhandledRejections, PIECE, PRICE, usePaidNetwork } from "./helpers.js";

describe("a leecher between free peers and paid seeders (prefer fast | free)", function () {
  this.timeout(90_000);
  failOnUnhandledRejections();
  const net = usePaidNetwork();
  const throttle = (client: WebTorrent, rate: number) =>
    (client as unknown as { throttleUpload(rate: number): void }).throttleUpload(rate);

  /** A paid seeder and a free peer of the same 64 pieces, each held to its rate (undefined: full speed). */
  async function swarm(rates: { paid?: number; free?: number }) {
    const data = randomBytes(64 * PIECE);
    const paid = await net.seed(net.f.bob, data);
    if (rates.paid !== undefined) throttle(paid.client, rates.paid);
    const freeClient = net.webtorrent();
    await new Promise<Torrent>((resolve) =>
      freeClient.seed(data, { name: "file.bin", announce: [], pieceLength: PIECE }, resolve),
    );
    await eventually(() => Boolean(freeClient.address()?.port), "the free peer to listen", 5_000);
    if (rates.free !== undefined) throttle(freeClient, rates.free);
    return { paid, ports: [paid.port, freeClient.address()?.port as number] };
  }

  /** Downloads with `prefer`; returns the pieces the paid seeder served and what the chain moved, gas aside. */
  async function download(prefer: "fast" | "free" | undefined, rates: { paid?: number; free?: number }) {
    const { paid, ports } = await swarm(rates);
    const { alice, bob } = net.f;
    const start = await ethers.provider.getBlockNumber();
    const before = await Promise.all([alice, bob].map((s) => ethers.provider.getBalance(s.address)));
    const { torrent, leecher } = await net.leech(alice, paid.torrent.torrentFile, ports, {
      ...(prefer === undefined ? {} : { prefer }),
      closeTimeoutMs: 10_000,
    });
    const started = Date.now();
    await done(torrent);
    const seconds = (Date.now() - started) / 1000;
    const settled = await leecher.settle();
    expect(settled.every((s) => s.closed)).to.equal(true);
    const served = BigInt(paid.seeder.stats().served);
    const gas = await Promise.all([alice, bob].map((s) => gasSpentSince(ethers.provider, s.address, start)));
    const leecherTransactions =
      (await ethers.provider.getTransactionCount(alice.address)) -
      (await ethers.provider.getTransactionCount(alice.address, start));
    const after = await Promise.all([alice, bob].map((s) => ethers.provider.getBalance(s.address)));
    return {
      served,
      seconds,
      leecherSpent: before[0] - after[0] - gas[0],
      seederEarned: after[1] - before[1] + gas[1],
      delivered: settled.reduce((sum, s) => sum + s.delivered, 0),
      leecherTransactions,
    };
  }

  it("fast (the default): the paid seeder serves side by side with a free peer held to 1 MiB/s, and is paid exactly what it served", async function () {
    const result = await download(undefined, { free: 1024 * 1024 });
    expect(Number(result.served), "the fast paid seeder's share of 64 pieces").to.be.at.least(32);
    expect(result.delivered).to.equal(Number(result.served));
    expect(result.seederEarned).to.equal(result.served * PRICE);
    expect(result.leecherSpent).to.equal(result.served * PRICE);
  });

  it("free: the free peer gives every piece it has; the paid seeder is granted none, and no deposit is ever made", async function () {
    const result = await download("free", { free: 1024 * 1024 });
    expect(result.served).to.equal(0n);
    expect(result.seederEarned).to.equal(0n);
    expect(result.leecherSpent).to.equal(0n);
    expect(result.leecherTransactions, "no deposit, no close: not a transaction").to.equal(0);
  });

  it("free, with a free peer that has only half the pieces: the paid seeder is granted the other half alone, and paid for exactly what it served", async function () {
    const { alice, bob } = net.f;
    const data = randomBytes(64 * PIECE);
    const paid = await net.seed(bob, data);
    // A free peer with only the first half on disk (the rest zeros, which fail their hashes): it serves what it has.
    const halfPath = join(net.dir, "half");
    mkdirSync(halfPath);
    writeFileSync(join(halfPath, "file.bin"), Buffer.concat([data.subarray(0, 32 * PIECE), Buffer.alloc(32 * PIECE)]));
    const halfClient = net.webtorrent();
    const half = halfClient.add(paid.torrent.torrentFile, { path: halfPath });
    await new Promise<void>((resolve) => half.once("ready", () => resolve()));
    expect(half.progress).to.equal(0.5);
    await eventually(() => Boolean(halfClient.address()?.port), "the free peer to listen", 5_000);
    const start = await ethers.provider.getBlockNumber();
    const before = await Promise.all([alice, bob].map((s) => ethers.provider.getBalance(s.address)));
    const { torrent, leecher } = await net.leech(
      alice,
      paid.torrent.torrentFile,
      [paid.port, halfClient.address()?.port as number],
      { prefer: "free", closeTimeoutMs: 10_000 },
    );
    await done(torrent, 60_000);
    const settled = await leecher.settle();
    const served = BigInt(paid.seeder.stats().served);
    expect(Number(served), "the half no free peer had, and no more than a window beyond it").to.be.within(32, 34);
    expect(settled.reduce((sum, s) => sum + s.delivered, 0)).to.equal(Number(served));
    const gas = await Promise.all([alice, bob].map((s) => gasSpentSince(ethers.provider, s.address, start)));
    const after = await Promise.all([alice, bob].map((s) => ethers.provider.getBalance(s.address)));
    expect(after[1] - before[1] + gas[1]).to.equal(served * PRICE);
    expect(before[0] - after[0] - gas[0]).to.equal(served * PRICE);
  });

  it("fast with a paid seeder that stalls (8 KiB/s): the free peer finishes the pieces granted to it at the end; the seeder is paid what it served", async function () {
    const result = await download("fast", { paid: 8 * 1024 });
    expect(result.seconds, "not held up by the stalled seeder's window").to.be.below(30);
    expect(Number(result.served)).to.be.below(64);
    expect(result.seederEarned).to.equal(result.served * PRICE);
    expect(result.leecherSpent).to.equal(result.served * PRICE);
  });
});
