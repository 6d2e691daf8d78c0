// A property test of downloaders that buy from and sell to each other (security rows 104 to 107): for seeded random
// swarms of three downloaders, each holding a random part of a file on disk and selling at a random price, all
// connected to all, every one finishes, closes what it bought, and the chain says that:
// - every channel paid its seller exactly the pieces the buyer received from it (verified) at the seller's price,
//   and that is what the seller counted as served;
// - no wei was created or lost: each channel paid out its whole deposit, to the seller and back to the buyer;
// - each downloader's balance moved by what it earned less what it paid, less its gas.
// PIECEPAY_TRADING_RUNS sets the number of swarms (default 4, a few seconds each); a failing run names its seed.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { gasSpentSince } from "../helpers/balances.js";
import { ethers } from "../helpers/fixtures.js";
import { Random } from "../helpers/random.js";
import { done, failOnUnhandledRejections, PIECE, PRICE, usePaidNetwork } from "./helpers.js";
import { torrentOf, trader } from "./trader.js";

const RUNS = Number(process.env.PIECEPAY_TRADING_RUNS ?? 4);
const PIECES = 12;
const TRADERS = 3;

describe("downloaders that trade pieces among themselves (property)", function () {
  this.timeout(120_000);
  failOnUnhandledRejections();
  const net = usePaidNetwork();

  for (let run = 0; run < RUNS; run++) {
    const seed = 0x7ad1 + run * 7919;
    it(`swarm of seed ${seed}: every seller paid exactly what it delivered at its price; no wei created or lost`, async function () {
      const random = new Random(seed);
      const signers = (await ethers.getSigners()).slice(5, 5 + TRADERS);
      const data = randomBytes(PIECES * PIECE);
      const torrentFile = await torrentOf(net, data, PIECE);
      // Each piece is on the disk of one or two of them; each sells at 1 to 4 quarters of PRICE.
      const holds: boolean[][] = signers.map(() => new Array<boolean>(PIECES).fill(false));
      for (let piece = 0; piece < PIECES; piece++) {
        const first = random.int(TRADERS);
        holds[first][piece] = true;
        if (random.int(2) === 1) holds[(first + 1 + random.int(TRADERS - 1)) % TRADERS][piece] = true;
      }
      const prices = signers.map(() => (BigInt(1 + random.int(4)) * PRICE) / 4n);
      const start = await ethers.provider.getBlockNumber();
      const before = await Promise.all(signers.map((s) => ethers.provider.getBalance(s.address)));
      const traders = [];
      for (const [i, signer] of signers.entries()) {
        const onDisk = Buffer.alloc(PIECES * PIECE);
        for (let piece = 0; piece < PIECES; piece++) {
          if (holds[i][piece]) data.copy(onDisk, piece * PIECE, piece * PIECE, (piece + 1) * PIECE);
        }
        traders.push(await trader(net, signer, torrentFile, prices[i], onDisk));
      }
      for (const [i, t] of traders.entries()) {
        for (const earlier of traders.slice(0, i)) t.torrent.addPeer(`127.0.0.1:${earlier.port}`);
      }
      const what = `seed ${seed}, pieces on disk ${JSON.stringify(holds.map((h) => h.map(Number).join("")))}`;
      await Promise.all(traders.map((t) => done(t.torrent, 60_000))).catch((error) => {
        throw new Error(`${what}: ${error.message}`);
      });
      const bought = await Promise.all(traders.map((t) => t.leecher.settle()));
      for (const t of traders) expect(readFileSync(join(t.path, "file.bin")).equals(data), what).to.equal(true);

      const payee = new Map(signers.map((s, i) => [s.address.toLowerCase(), i]));
      const earned = signers.map(() => 0n);
      const paid = signers.map(() => 0n);
      for (const [buyer, channels] of bought.entries()) {
        for (const channel of channels) {
          const id = channel.channelId as string;
          const record = await traders[buyer].sdk.store.getChannel(id);
          const seller = payee.get(String(record?.fixedPart.participants[1]).toLowerCase());
          expect(seller, `${what}: channel ${id} pays one of the traders`).to.not.equal(undefined);
          const s = seller as number;
          expect(channel.closed, `${what}: channel ${id} closed`).to.equal(true);
          // The chain: the seller got exactly what the buyer received from it at the seller's price ...
          const settled = await traders[buyer].sdk.settlement(id);
          expect(settled.toPeer, `${what}: paid on ${id}`).to.equal(BigInt(channel.delivered) * prices[s]);
          // ... which is what the seller counted as served on that channel ...
          const sold = traders[s].leecher.seller?.stats().peers.find((p) => p.channelId === id);
          expect(sold?.served, `${what}: served on ${id}`).to.equal(channel.delivered);
          // ... and the whole deposit came out: to the seller, and the rest back to the buyer.
          expect(settled.toPeer + settled.toUs, `${what}: deposit of ${id}`).to.equal(channel.deposited);
          expect((await traders[buyer].sdk.onChain(id)).holdings).to.equal(0n);
          paid[buyer] += settled.toPeer;
          earned[s] += settled.toPeer;
        }
      }
      // Sellers have nobody left to wait for: every buyer closed.
      for (const t of traders) expect(await t.leecher.seller?.farewell(1_000)).to.deep.equal([]);
      for (const [i, signer] of signers.entries()) {
        const gas = await gasSpentSince(ethers.provider, signer.address, start);
        const after = await ethers.provider.getBalance(signer.address);
        expect(after - before[i], `${what}: trader ${i}'s balance`).to.equal(earned[i] - paid[i] - gas);
      }
    });
  }
});
