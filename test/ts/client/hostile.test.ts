// Hostile peers against the paid client (docs/security.md rows 23, 25 to 28 and 89): a seeder that takes vouchers and
// stops, a seeder that serves a corrupt piece, malformed and unexpected extension messages, a fuzz run, requests
// outside the torrent, and payments or BitTorrent state messages duplicated and reordered. Real webtorrent peers over
// TCP loopback; the attacker is a raw BitTorrent connection driven byte by byte. Each test says where the money goes,
// to the wei when it moves on chain; any unhandled rejection fails the test.
import { randomBytes, randomInt } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Wire } from "bittorrent-protocol";
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import type { Torrent } from "webtorrent";
import { PaidSeeder } from "../../../client/session/seeder.js";
import { encodeMessage, MESSAGE_LENGTHS, MESSAGE_TYPE_IDS } from "../../../client/wire/codec.js";
import { type PaidMessage, PROTOCOL_VERSION, type ProposeMessage } from "../../../client/wire/messages.js";
import { channelId, type PiecepayClient, signVoucher, toDestination } from "../../../sdk/index.js";
import { gasSpentSince } from "../helpers/balances.js";
import { ethers, networkHelpers } from "../helpers/fixtures.js";
import {
  BLOCK,
  done,
  eventually,
  failOnUnhandledRejections,
  guardDrops,
  PIECE,
  PRICE,
  type RawPeer,
  type RawWire,
  until,
  usePaidNetwork,
} from "./helpers.js";
import {
  offerHandshake,
  payAndWait,
  payerHandshake,
  proposeMessage,
  rawRequest,
  requestMessage,
} from "./raw-session.js";

const balanceOf = (address: string) => ethers.provider.getBalance(address);
/** Moves the chain's clock to a challenge's end (SDK `redeem`'s `waitFor`). */
const timeTravel = async (finalizesAt: bigint) => networkHelpers.time.increaseTo(finalizesAt);

/** A raw leecher opens and funds a channel to the seeder behind `peer`, as the protocol says. */
async function openChannel(peer: RawPeer, sdk: PiecepayClient, payee: string, deposit: bigint) {
  const proposal = await sdk.propose({ payee, deposit });
  const { fixedPart } = proposal;
  peer.send(encodeMessage(proposeMessage(proposal, deposit)));
  const accept = await peer.next("accept");
  const record = await sdk.fund(proposal, accept);
  return { id: record.id, fixedPart };
}

/** Counts the bytes of piece data a raw peer receives. */
function countPieces(wire: Wire): { bytes: number; pieces: Set<number> } {
  const got = { bytes: 0, pieces: new Set<number>() };
  wire.on("piece", (index: number, _offset: number, buffer: Uint8Array) => {
    got.bytes += buffer.length;
    got.pieces.add(index);
  });
  return got;
}

/** Messages of every kind with a wrong length, type or version, and random bytes. */
function malformedCorpus(): { what: string; bytes: Uint8Array }[] {
  const corpus: { what: string; bytes: Uint8Array }[] = [];
  for (const length of [0, 1, 2, 3, 64, 131, 512]) {
    corpus.push({ what: `${length} random bytes`, bytes: randomBytes(length) });
  }
  corpus.push({ what: "513 bytes (over the cap)", bytes: randomBytes(513) });
  corpus.push({ what: "64 KiB", bytes: randomBytes(64 * 1024) });
  for (const [type, id] of Object.entries(MESSAGE_TYPE_IDS)) {
    const length = MESSAGE_LENGTHS[type as keyof typeof MESSAGE_LENGTHS];
    for (const wrong of [length - 1, length + 1, 2]) {
      const bytes = randomBytes(wrong);
      bytes[0] = PROTOCOL_VERSION;
      bytes[1] = id;
      if (type === "notice" && wrong > 3) bytes[3] = Math.max(0, wrong - 4 + 1); // n says one more than sent
      corpus.push({ what: `${type} of ${wrong} bytes`, bytes });
    }
  }
  for (const id of [0, 9, 255]) {
    const bytes = randomBytes(131);
    bytes[0] = PROTOCOL_VERSION;
    bytes[1] = id;
    corpus.push({ what: `unknown type ${id}`, bytes });
  }
  for (const version of [0, 2, 255]) {
    const bytes = randomBytes(MESSAGE_LENGTHS.voucher);
    bytes[0] = version;
    bytes[1] = MESSAGE_TYPE_IDS.voucher;
    corpus.push({ what: `version ${version}`, bytes });
  }
  return corpus;
}

describe("hostile peers", function () {
  this.timeout(60_000);
  const net = usePaidNetwork();
  let f: typeof net.f;
  failOnUnhandledRejections();
  beforeEach(() => {
    f = net.f;
  });

  describe("when a seeder stops sending after being paid (row 23)", function () {
    for (const how of ["stalls with the connection open", "vanishes (its client destroyed)"] as const) {
      it(`${how}: the leecher loses at most its credit window, notices at settle; the seeder gets its largest voucher`, async function () {
        const MAX_WINDOW = 4;
        const data = randomBytes(32 * PIECE);
        const start = await ethers.provider.getBlockNumber();
        const [aliceBefore, bobBefore] = await Promise.all([balanceOf(f.alice.address), balanceOf(f.bob.address)]);
        const { torrent: seeded, seeder, port, client } = await net.seed(f.bob, data, { enforce: false });
        let stalled = false;
        if (how === "stalls with the connection open") {
          // After 4 pieces the seeder sends nothing more and ignores every message (vouchers, close).
          const sent = new Set<number>();
          seeded.on("wire", (wire: Wire) => {
            const piece = wire.piece.bind(wire);
            wire.piece = (index, offset, buffer) => {
              if (!sent.has(index) && sent.size >= 4) stalled = true;
              if (stalled) return;
              sent.add(index);
              piece(index, offset, buffer);
            };
            const ext = (wire as unknown as { piecepay: { onMessage(b: Uint8Array): void } }).piecepay;
            const onMessage = ext.onMessage.bind(ext);
            ext.onMessage = (buffer) => {
              if (!stalled) onMessage(buffer);
            };
          });
        } else {
          // Once it holds a voucher for 4 pieces, the seeder's whole client goes away (its port refuses).
          seeder.on("paid", (stats: { paid: bigint }) => {
            if (stats.paid < 4n * PRICE || stalled) return;
            stalled = true;
            // From inside the wire's own message handling: requests still buffered on its wires must not crash it.
            client.destroy();
          });
        }
        const { torrent, leecher } = await net.leech(f.alice, seeded.torrentFile, [port], {
          maxWindow: MAX_WINDOW,
          closeTimeoutMs: 300,
        });
        const warnings: Error[] = [];
        leecher.on("warning", (e: Error) => warnings.push(e));
        await eventually(() => stalled, "the seeder to stall");
        expect(torrent.done).to.equal(false);

        let closedEvents = 0;
        leecher.on("closed", () => closedEvents++);
        const [settled] = await leecher.settle();
        expect(closedEvents).to.equal(0);
        expect(warnings.map((w) => w.message).join("\n")).to.match(
          /did not close channel|is gone: channel .* left to withdraw/,
        );
        // The leecher's exposure: what it promised beyond the pieces that verified, at most its credit window.
        expect(settled.paid - BigInt(settled.delivered) * PRICE).to.be.at.most(BigInt(MAX_WINDOW) * PRICE);
        expect(settled.delivered).to.be.at.most(how === "stalls with the connection open" ? 4 : 32);

        // The seeder enforces the largest voucher it holds, alone on chain: that is all the leecher loses.
        const bobStats = seeder.stats().peers[0];
        expect(bobStats.channelId).to.equal(settled.channelId);
        expect(bobStats.paid).to.be.at.most(settled.paid);
        await seeder.options.client.redeem(settled.channelId as string, { waitFor: timeTravel });
        const [aliceGas, bobGas] = await Promise.all(
          [f.alice, f.bob].map((s) => gasSpentSince(ethers.provider, s.address, start)),
        );
        const [aliceAfter, bobAfter] = await Promise.all([balanceOf(f.alice.address), balanceOf(f.bob.address)]);
        expect(aliceBefore - aliceAfter).to.equal(bobStats.paid + aliceGas);
        expect(bobAfter - bobBefore).to.equal(bobStats.paid - bobGas);
        expect(aliceBefore - aliceAfter - aliceGas - BigInt(settled.delivered) * PRICE).to.be.at.most(
          BigInt(MAX_WINDOW) * PRICE,
        );
      });
    }
  });

  describe("when a paid seeder sends blocks nobody asked for", function () {
    it("they earn it nothing: the honest seeder is paid for every piece, the other gets no more than its first window and closes at 0", async function () {
      const data = randomBytes(16 * PIECE);
      const start = await ethers.provider.getBlockNumber();
      const before = await Promise.all([f.alice, f.bob, f.carol].map((s) => balanceOf(s.address)));
      const honest = await net.seed(f.bob, data);
      // A paid peer that has none of the file: for every piece we announce, it sends one byte of it, unasked.
      const client = net.webtorrent();
      const sly = new PaidSeeder({
        client: await net.sdkFor(f.carol),
        pricePerPiece: PRICE,
        asset: ZeroAddress,
        enforce: false,
      });
      let unasked = 0;
      const torrent = client.add(honest.torrent.torrentFile, { path: join(net.dir, "sly") });
      sly.attach(torrent);
      torrent.on("wire", (wire: Wire) => {
        wire.on("have", (index: number) => {
          unasked++;
          (wire as RawWire)._message(7, [index, 0], new Uint8Array(1));
        });
      });
      await eventually(() => Boolean(client.address()?.port), "the sly peer to listen", 5_000);
      const slyPort = client.address()?.port as number;
      const { torrent: got, leecher } = await net.leech(f.alice, honest.torrent.torrentFile, [slyPort, honest.port]);
      await eventually(() => got.done, "the download to finish", 30_000);
      const settled = await leecher.settle();
      const pieces = honest.torrent.pieces.length;
      expect(unasked).to.be.greaterThan(0);
      const fromHonest = settled.find((p) => p.channelId === honest.seeder.stats().peers[0]?.channelId);
      expect(fromHonest).to.deep.include({ delivered: pieces, closed: true });
      const fromSly = leecher.stats().find((p) => p.channelId && p.channelId !== fromHonest?.channelId);
      expect(fromSly?.delivered ?? 0).to.equal(0);
      // It holds only the first window (2 pieces), paid when its channel opened, before any piece: the bound of
      // what any paid seeder can take without serving. Without the rule it was paid for all 16 pieces.
      expect(sly.stats().paid).to.be.at.most(2n * PRICE);
      const gas = await Promise.all(
        [f.alice, f.bob, f.carol].map((s) => gasSpentSince(ethers.provider, s.address, start)),
      );
      const after = await Promise.all([f.alice, f.bob, f.carol].map((s) => balanceOf(s.address)));
      expect(before[0] - after[0]).to.equal(BigInt(pieces) * PRICE + gas[0]);
      expect(after[1] - before[1]).to.equal(BigInt(pieces) * PRICE - gas[1]);
      expect(after[2] - before[2]).to.equal(-gas[2]); // not a wei: only the gas of its own close
      sly.destroy();
    });
  });

  describe("when a seeder serves a piece that fails its hash (row 28)", function () {
    it("the blocks a dropped seeder left in unfinished pieces are thrown away: the honest seeder that finishes them is not blamed", async function () {
      const data = randomBytes(16 * PIECE);
      const bad = await net.seed(f.bob, data, { onDisk: true, enforce: false });
      const honest = await net.seed(f.carol, data);
      // The bad seeder's disk is bad in the first block of pieces 0 and 1; it sends all of piece 0, and of
      // piece 1 only that first block: piece 1 is left half-filled with bad data when it is dropped.
      const onDisk = readFileSync(bad.file as string);
      onDisk.fill(0xee, 0, 100);
      onDisk.fill(0xee, PIECE, PIECE + 100);
      writeFileSync(bad.file as string, onDisk);
      bad.torrent.on("wire", (wire: Wire) => {
        const onRequest = wire._onRequest.bind(wire);
        wire._onRequest = (index, offset, length) => {
          if (index === 1 && offset > 0) return; // never answered
          onRequest(index, offset, length);
        };
      });
      const { torrent, leecher, path } = await net.leech(f.alice, bad.torrent.torrentFile, [bad.port], {
        banAfterFailures: 1,
        closeTimeoutMs: 300,
      });
      const warnings: string[] = [];
      leecher.on("warning", (e: Error) => warnings.push(e.message));
      await eventually(() => leecher.isBanned(`127.0.0.1:${bad.port}`), "the bad seeder to be banned");
      expect(warnings).to.include(
        "piece 0 from this seeder failed verification: not paid, banned after 1 failed piece",
      );
      torrent.addPeer(`127.0.0.1:${honest.port}`);
      await eventually(() => torrent.done, "the download to finish", 30_000);
      expect(readFileSync(join(path, "file.bin")).equals(data)).to.equal(true);
      expect(warnings.filter((w) => /failed verification/.test(w))).to.have.length(1); // piece 1 never failed
      expect(leecher.isBanned(`127.0.0.1:${honest.port}`)).to.equal(false);
      const settled = await leecher.settle();
      const fromHonest = settled.find((p) => p.channelId === honest.seeder.stats().peers[0]?.channelId);
      expect(fromHonest).to.deep.include({ delivered: 16, closed: true }); // pieces 0 and 1 included
    });

    it("a stream of the file (as the page's player reads it) never carries the bad bytes: it waits for the honest seeder's piece (row 89)", async function () {
      const BAD = 5;
      const data = randomBytes(16 * PIECE);
      const bad = await net.seed(f.bob, data, { onDisk: true, enforce: false });
      const honest = await net.seed(f.carol, data);
      const onDisk = readFileSync(bad.file as string);
      onDisk.fill(0xee, BAD * PIECE + 1000, BAD * PIECE + 1100);
      writeFileSync(bad.file as string, onDisk);
      const { torrent, leecher } = await net.leech(f.alice, bad.torrent.torrentFile, [bad.port], {
        banAfterFailures: 1,
        closeTimeoutMs: 300,
      });
      const warnings: string[] = [];
      leecher.on("warning", (e: Error) => warnings.push(e.message));
      await eventually(() => torrent.ready, "the leecher's torrent to be ready");
      // What webtorrent's streaming server (lib/server.js) reads for a range request from the bad piece on: a seek.
      type Streamable = { [Symbol.asyncIterator](range: { start: number; end: number }): AsyncIterable<Uint8Array> };
      const file = torrent.files[0] as unknown as Streamable;
      const streamed = (async () => {
        const chunks: Uint8Array[] = [];
        for await (const chunk of file[Symbol.asyncIterator]({ start: BAD * PIECE, end: (BAD + 2) * PIECE - 1 })) {
          chunks.push(chunk);
        }
        return Buffer.concat(chunks);
      })();
      await eventually(() => leecher.isBanned(`127.0.0.1:${bad.port}`), "the bad seeder to be banned");
      expect(warnings).to.include(
        `piece ${BAD} from this seeder failed verification: not paid, banned after 1 failed piece`,
      );
      torrent.addPeer(`127.0.0.1:${honest.port}`);
      expect((await streamed).equals(data.subarray(BAD * PIECE, (BAD + 2) * PIECE)), "the honest bytes").to.equal(true);
      await eventually(() => torrent.done, "the download to finish", 30_000);
      const settled = await leecher.settle();
      const fromHonest = settled.find((p) => p.channelId === honest.seeder.stats().peers[0]?.channelId);
      const fromBad = settled.find((p) => p.channelId === bad.seeder.stats().peers[0]?.channelId);
      // Every piece is paid once, to whoever sent it verified: the bad piece to the honest seeder only.
      expect((fromHonest?.delivered ?? 0) + (fromBad?.delivered ?? 0)).to.equal(16);
      expect(leecher.pieces.contributors.get(BAD)?.size, "one sender of the bad piece: the honest one").to.equal(1);
    });

    it("the piece is not counted, the seeder is dropped, banned on its second bad piece, and an honest seeder supplies it intact", async function () {
      const MAX_WINDOW = 4;
      const BAD = 5;
      const data = randomBytes(16 * PIECE);
      const start = await ethers.provider.getBlockNumber();
      const sellers = [f.alice, f.bob, f.carol];
      const before = await Promise.all(sellers.map((s) => balanceOf(s.address)));
      const bad = await net.seed(f.bob, data, { onDisk: true, enforce: false });
      const honest = await net.seed(f.carol, data);
      // The bad seeder's disk goes bad inside piece 5 after it hashed the file: it serves what is there now.
      const sentBy = (torrent: Torrent) => {
        const sent = new Set<number>();
        torrent.on("wire", (wire: Wire) => {
          const piece = wire.piece.bind(wire);
          wire.piece = (index, offset, buffer) => {
            sent.add(index);
            piece(index, offset, buffer);
          };
        });
        return sent;
      };
      const badSent = sentBy(bad.torrent);
      const honestSent = sentBy(honest.torrent);
      const onDisk = readFileSync(bad.file as string);
      onDisk.fill(0xee, BAD * PIECE + 1000, BAD * PIECE + 1100);
      writeFileSync(bad.file as string, onDisk);

      const { torrent, leecher, path } = await net.leech(f.alice, bad.torrent.torrentFile, [bad.port], {
        maxWindow: MAX_WINDOW,
        closeTimeoutMs: 300,
      });
      const failed = (e: Error) => /failed verification/.test(e.message);
      const [first] = await until<[Error]>(leecher, "warning", failed);
      expect(first.message).to.equal(
        `piece ${BAD} from this seeder failed verification: not paid, peer dropped (failure 1 of 2)`,
      );
      await eventually(() => !torrent.wires.some((w) => w.remotePort === bad.port), "the bad seeder's wire to go");
      expect(leecher.isBanned(`127.0.0.1:${bad.port}`)).to.equal(false); // one failure may be a passing disk error
      // webtorrent dials the bad seeder again: a new channel, and piece 5 fails a second time.
      const [second] = await until<[Error]>(leecher, "warning", failed, 10_000);
      expect(second.message).to.equal(
        `piece ${BAD} from this seeder failed verification: not paid, banned after 2 failed pieces`,
      );
      expect(leecher.isBanned(`127.0.0.1:${bad.port}`)).to.equal(true);
      await eventually(() => !torrent.wires.some((w) => w.remotePort === bad.port), "the bad seeder's wire to go");
      // And again a while later: now it is banned, dropped at its handshake, no channel.
      const [again] = await until<[Wire]>(torrent, "wire", (w) => w.remotePort === bad.port, 10_000);
      await until(again, "close");
      torrent.addPeer(`127.0.0.1:${honest.port}`);
      await eventually(() => torrent.done, "the download to finish", 30_000);
      expect(readFileSync(join(path, "file.bin")).equals(data)).to.equal(true);

      const settled = await leecher.settle();
      const badChannels = bad.seeder.stats().peers.filter((p) => p.channelId);
      // One channel for both connections before the ban (the second continues the first's: no second deposit),
      // none after it.
      expect(badChannels).to.have.length(1);
      const fromBad = badChannels.map((p) => settled.find((s) => s.channelId === p.channelId));
      const fromHonest = settled.find((p) => p.channelId === honest.seeder.stats().peers[0]?.channelId);
      if (fromBad.some((p) => !p) || !fromHonest) throw new Error("a channel is missing");
      expect(settled).to.have.length(2);
      expect(fromHonest.closed).to.equal(true);
      // The bad piece is not among what the leecher counts as delivered by the bad seeder (pieces verify from
      // what each seeder sent; the bad seeder counts piece 5 as served), and the honest seeder supplied it.
      expect(badSent.has(BAD)).to.equal(true);
      expect(honestSent.has(BAD)).to.equal(true);
      // The channel counts the pieces of which the seeder sent a block, as the seeder does; a piece the first
      // connection sent that the leecher does not have (the bad piece) is not carried into the second: it counts
      // only if sent again.
      expect(fromBad[0]?.delivered).to.be.at.least(BAD);
      for (const [i, channel] of badChannels.entries()) {
        expect(fromBad[i]?.delivered, `bad channel ${i}`).to.be.at.most(channel.served - 1);
      }
      const badDelivered = fromBad.reduce((a, p) => a + (p?.delivered ?? 0), 0);
      expect(badDelivered + fromHonest.delivered).to.be.at.least(16);
      // Money: the honest seeder closes at exactly what it delivered. The bad one can only enforce its largest
      // voucher in each channel, which never exceeds what that channel verified plus one credit window.
      let badVouchers = 0n;
      for (const [i, channel] of badChannels.entries()) {
        const delivered = BigInt(fromBad[i]?.delivered ?? 0);
        expect(channel.paid - delivered * PRICE).to.be.at.most(BigInt(MAX_WINDOW) * PRICE);
        await bad.seeder.options.client.redeem(channel.channelId as string, { waitFor: timeTravel });
        badVouchers += channel.paid;
      }
      const gas = await Promise.all(sellers.map((s) => gasSpentSince(ethers.provider, s.address, start)));
      const after = await Promise.all(sellers.map((s) => balanceOf(s.address)));
      const honestEarned = BigInt(fromHonest.delivered) * PRICE;
      expect(after[2] - before[2]).to.equal(honestEarned - gas[2]);
      expect(after[1] - before[1]).to.equal(badVouchers - gas[1]);
      expect(before[0] - after[0]).to.equal(honestEarned + badVouchers + gas[0]);
    });
  });

  describe("when a leecher sends malformed or unexpected messages (rows 17, 26)", function () {
    it("each one drops the leecher, credits nothing and crashes nothing", async function () {
      const { torrent, seeder, port } = await net.seed(f.bob, randomBytes(8 * PIECE));
      const warnings: Error[] = [];
      seeder.on("warning", (e: Error) => warnings.push(e));
      const eve = await net.sdkFor(f.eve);
      const ours = payerHandshake(eve);
      const connect = () => net.rawPeer(port, torrent.infoHash, ours);

      const cases: { what: string; bytes: Uint8Array }[] = malformedCorpus();
      const someId = `0x${randomBytes(32).toString("hex")}`;
      const sig = `0x${randomBytes(64).toString("hex")}1b`;
      cases.push(
        { what: "a receipt", bytes: encodeMessage({ type: "receipt", channelId: someId, amount: PRICE }) },
        { what: "an accept", bytes: encodeMessage({ type: "accept", channelId: someId, payeeSignature: sig }) },
        {
          what: "a voucher before any channel",
          bytes: encodeMessage({ type: "voucher", voucher: await signVoucher(f.eve, someId, PRICE) }),
        },
        {
          what: "a close before any channel",
          bytes: encodeMessage({ type: "close", channelId: someId, turnNum: 2n, paid: 0n, signature: sig }),
        },
      );
      for (const { what, bytes } of cases) {
        const peer = await connect();
        expect(peer.peerSpeaksPiecepay).to.equal(true);
        const count = warnings.length + guardDrops(torrent);
        peer.send(bytes);
        expect(await peer.dropped(), what).to.equal(true);
        // Dropped by the session (a warning), or before it by the wire guard (too long for any extension message).
        expect(warnings.length + guardDrops(torrent), what).to.equal(count + 1);
      }
      expect(seeder.stats().paid).to.equal(0n);

      // On a funded channel: each misbehaviour costs the leecher its connection and adds nothing to the credit.
      const DEPOSIT = 10n * PRICE;
      const funded = async () => {
        const peer = await connect();
        const channel = await openChannel(peer, eve, f.bob.address, DEPOSIT);
        const v1 = await payAndWait(peer, eve, channel.id, PRICE);
        return { peer, ...channel, v1 };
      };
      const otherChain = (fixedPart: Parameters<typeof channelId>[2]) =>
        channelId(1n, f.adjudicatorAddress, fixedPart).toLowerCase();
      const attacks: { what: string; make: (c: Awaited<ReturnType<typeof funded>>) => Promise<Uint8Array> }[] = [
        { what: "a replayed voucher", make: async (c) => encodeMessage({ type: "voucher", voucher: c.v1 }) },
        {
          what: "an older voucher after a newer one",
          make: async (c) => {
            await payAndWait(c.peer, eve, c.id, PRICE);
            return encodeMessage({ type: "voucher", voucher: c.v1 });
          },
        },
        {
          what: "a voucher for another channel",
          make: async () => encodeMessage({ type: "voucher", voucher: await signVoucher(f.eve, someId, 5n * PRICE) }),
        },
        {
          what: "a voucher for this channel's twin on chain id 1",
          make: async (c) =>
            encodeMessage({ type: "voucher", voucher: await signVoucher(f.eve, otherChain(c.fixedPart), 5n * PRICE) }),
        },
        {
          what: "this channel's id with a signature made for chain id 1",
          make: async (c) => {
            const twin = await signVoucher(f.eve, otherChain(c.fixedPart), 5n * PRICE);
            return encodeMessage({ type: "voucher", voucher: { ...twin, channelId: c.id } });
          },
        },
        {
          what: "a voucher signed by someone else",
          make: async (c) => encodeMessage({ type: "voucher", voucher: await signVoucher(f.carol, c.id, 5n * PRICE) }),
        },
        {
          what: "a voucher above the deposit",
          make: async (c) => encodeMessage({ type: "voucher", voucher: await signVoucher(f.eve, c.id, DEPOSIT + 1n) }),
        },
        {
          what: "a second proposal",
          make: async () => {
            const p = await eve.propose({ payee: f.bob.address, deposit: DEPOSIT });
            return encodeMessage(proposeMessage(p, DEPOSIT));
          },
        },
        {
          what: "a receipt",
          make: async (c) => encodeMessage({ type: "receipt", channelId: c.id, amount: PRICE }),
        },
      ];
      for (const { what, make } of attacks) {
        const c = await funded();
        const bytes = await make(c);
        const credited = seeder.stats().peers.find((p) => p.channelId === c.id)?.paid;
        const total = seeder.stats().paid;
        const count = warnings.length;
        c.peer.send(bytes);
        expect(await c.peer.dropped(), what).to.equal(true);
        expect(warnings.length, what).to.equal(count + 1);
        expect(seeder.stats().peers.find((p) => p.channelId === c.id)?.paid, what).to.equal(credited);
        expect(seeder.stats().paid, what).to.equal(total);
        expect((await eve.store.getVoucher("sent", c.id))?.amount, what).to.equal(credited);
      }
      // What the seeder holds is exactly the vouchers it acknowledged: 1 piece per channel, 2 where two were paid.
      expect(seeder.stats().paid).to.equal(BigInt(attacks.length + 1) * PRICE);
    });

    it("a 2,000-message fuzz run against a live seeder crashes nothing; the seeder then serves an honest leecher", async function () {
      this.timeout(240_000); // 2,000 connections: about 15 s alone, four times that on 2 busy cores
      const data = randomBytes(8 * PIECE);
      const { torrent, seeder, port } = await net.seed(f.bob, data);
      let warnings = 0;
      seeder.on("warning", () => warnings++);
      const eve = await net.sdkFor(f.eve);
      const ours = payerHandshake(eve);
      // Well-formed messages of every type, to mutate.
      const proposal = await eve.propose({ payee: f.bob.address, deposit: PRICE * 4n });
      const { chainId, adjudicator, fixedPart } = proposal;
      const id = channelId(chainId, adjudicator, fixedPart).toLowerCase();
      const sig = `0x${randomBytes(64).toString("hex")}1c`;
      const valid: PaidMessage[] = [
        proposeMessage(proposal, PRICE * 4n),
        { type: "accept", channelId: id, payeeSignature: sig },
        { type: "voucher", voucher: await signVoucher(f.eve, id, PRICE) },
        { type: "receipt", channelId: id, amount: PRICE },
        { type: "close", channelId: id, turnNum: 2n, paid: PRICE, signature: sig },
        { type: "notice", code: "bye", reason: "fuzz" },
      ];
      const seeds = valid.map((m) => encodeMessage(m));
      const mutate = (): Uint8Array => {
        switch (randomInt(4)) {
          case 0:
            return randomBytes(randomInt(600));
          case 1: {
            const bytes = Buffer.from(seeds[randomInt(seeds.length)]);
            for (let n = randomInt(1, 4); n > 0; n--) bytes[randomInt(bytes.length)] ^= randomInt(1, 256);
            return bytes;
          }
          case 2: {
            const bytes = seeds[randomInt(seeds.length)];
            const cut = randomInt(bytes.length + 40);
            return cut <= bytes.length
              ? bytes.subarray(0, cut)
              : Buffer.concat([bytes, randomBytes(cut - bytes.length)]);
          }
          default: {
            const bytes = randomBytes(randomInt(2, 300));
            bytes[0] = PROTOCOL_VERSION;
            bytes[1] = randomInt(1, 7);
            return bytes;
          }
        }
      };
      // Each message goes on a connection of its own followed by a probe the seeder must drop for: so every
      // connection ends, whether the fuzzed message was dropped for or (a well-formed notice) ignored.
      const probe = Uint8Array.of(PROTOCOL_VERSION, 0);
      const TOTAL = 2000;
      let sent = 0;
      const worker = async () => {
        while (sent < TOTAL) {
          sent++;
          const peer = await net.rawPeer(port, torrent.infoHash, ours);
          peer.send(mutate());
          peer.send(probe);
          expect(await peer.dropped(5_000)).to.equal(true);
          peer.destroy();
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      expect(sent).to.equal(TOTAL);
      expect(warnings + guardDrops(torrent)).to.be.at.least(TOTAL);
      expect(seeder.stats().paid).to.equal(0n);
      expect(seeder.stats().served).to.equal(0);

      const { torrent: leeched, leecher } = await net.leech(f.alice, torrent.torrentFile, [port]);
      await done(leeched);
      const [settled] = await leecher.settle();
      expect(settled).to.deep.include({ delivered: 8, closed: true, paid: 8n * PRICE });
      expect(seeder.stats().paid).to.equal(8n * PRICE);
    });
  });

  describe("when a seeder sends malformed or unexpected messages (row 26)", function () {
    async function victim() {
      const source = await new Promise<Torrent>((resolve) =>
        net.webtorrent().seed(randomBytes(8 * PIECE), { name: "file.bin", announce: [], pieceLength: PIECE }, resolve),
      );
      const { torrent, leecher, port } = await net.leech(f.alice, source.torrentFile, [], {
        closeTimeoutMs: 300,
      });
      await eventually(() => Boolean(torrent.infoHash && torrent.pieces.length), "the leecher's metadata");
      return { torrent, leecher, port };
    }

    it("each one drops the seeder; nothing is deposited or paid on its strength", async function () {
      const { torrent, leecher, port } = await victim();
      const warnings: Error[] = [];
      leecher.on("warning", (e: Error) => warnings.push(e));
      const carol = await net.sdkFor(f.carol);
      const aliceBefore = await balanceOf(f.alice.address);
      const connect = () => net.rawPeer(port, torrent.infoHash, offerHandshake(carol));
      const sig = `0x${randomBytes(64).toString("hex")}1b`;
      const cases = malformedCorpus();
      cases.push(
        {
          what: "a voucher",
          bytes: encodeMessage({
            type: "voucher",
            voucher: await signVoucher(f.carol, `0x${"11".repeat(32)}`, PRICE),
          }),
        },
        {
          what: "a close",
          bytes: encodeMessage({
            type: "close",
            channelId: `0x${"11".repeat(32)}`,
            turnNum: 2n,
            paid: 0n,
            signature: sig,
          }),
        },
      );
      for (const { what, bytes } of cases) {
        const peer = await connect();
        const proposal = await peer.next("propose"); // the leecher proposes on seeing the offer
        expect(proposal.fixedPart.participants[1]).to.equal(f.carol.address);
        const count = warnings.length + guardDrops(torrent);
        peer.send(bytes);
        expect(await peer.dropped(), what).to.equal(true);
        expect(warnings.length + guardDrops(torrent), what).to.equal(count + 1);
      }
      // An acceptance that is not countersigned by the payee, or for another channel: no deposit follows.
      for (const what of ["a forged acceptance", "an acceptance for another channel"]) {
        const peer = await connect();
        const proposal = await peer.next("propose");
        const id = channelId(proposal.chainId, proposal.adjudicator, proposal.fixedPart).toLowerCase();
        const count = warnings.length;
        peer.send(
          encodeMessage({
            type: "accept",
            channelId: what === "a forged acceptance" ? id : `0x${"22".repeat(32)}`,
            payeeSignature: sig,
          }),
        );
        expect(await peer.dropped(), what).to.equal(true);
        expect(warnings.length, what).to.equal(count + 1);
      }
      expect(await balanceOf(f.alice.address)).to.equal(aliceBefore);
      expect(leecher.stats().every((p) => p.paid === 0n && !p.channelId)).to.equal(true);
    });

    it("an acceptance repeated, or a receipt for more than was paid, drops the seeder; the leecher's loss stops at its first voucher", async function () {
      const { torrent, leecher, port } = await victim();
      const warnings: Error[] = [];
      leecher.on("warning", (e: Error) => warnings.push(e));
      // A payee per cheat: a second connection with the same payee would continue the first channel (`resume`)
      // rather than propose a new one.
      const payees = (await ethers.getSigners()).slice(5, 5 + 4);
      const start = await ethers.provider.getBlockNumber();
      const aliceBefore = await balanceOf(f.alice.address);
      const INITIAL = 2n; // the leecher's default first window
      type Context = { id: string; accept: Uint8Array; proposal: ProposeMessage };
      const cheats: { what: string; make: (c: Context) => Uint8Array }[] = [
        { what: "the acceptance again", make: (c) => c.accept },
        {
          what: "a receipt for more than was paid",
          make: (c) => encodeMessage({ type: "receipt", channelId: c.id, amount: INITIAL * PRICE + 1n }),
        },
        {
          what: "a receipt for another channel",
          make: () => encodeMessage({ type: "receipt", channelId: `0x${"33".repeat(32)}`, amount: PRICE }),
        },
        { what: "its own proposal echoed back", make: (c) => encodeMessage(c.proposal) },
      ];
      let deposits = 0n;
      for (const [i, { what, make }] of cheats.entries()) {
        const carol = await net.sdkFor(payees[i]);
        const peer = await net.rawPeer(port, torrent.infoHash, offerHandshake(carol));
        const p = await peer.next("propose");
        const acceptance = await carol.join(
          {
            chainId: p.chainId,
            adjudicator: p.adjudicator,
            fixedPart: p.fixedPart,
            funding: {
              outcome: [
                {
                  asset: p.asset,
                  allocations: [
                    { destination: toDestination(p.fixedPart.participants[0]), amount: p.deposit },
                    { destination: toDestination(p.fixedPart.participants[1]), amount: 0n },
                  ],
                },
              ],
              appData: "0x",
              turnNum: 0n,
              isFinal: false,
            },
            payerSignature: p.payerSignature,
          },
          { assets: [ZeroAddress] },
        );
        const accept = encodeMessage({ type: "accept", ...acceptance });
        peer.send(accept);
        const voucher = await peer.next("voucher"); // funded, then paid ahead by its first window
        expect(voucher.voucher.amount).to.equal(INITIAL * PRICE);
        deposits += p.deposit;
        const count = warnings.length;
        peer.send(make({ id: acceptance.channelId.toLowerCase(), accept, proposal: p }));
        expect(await peer.dropped(), what).to.equal(true);
        expect(warnings.length, what).to.equal(count + 1);
        const stats = leecher.stats().find((s) => s.channelId === acceptance.channelId.toLowerCase());
        expect(stats?.paid, what).to.equal(INITIAL * PRICE);
        expect(stats?.acknowledged, what).to.equal(0n);
      }
      // On chain the leecher has only deposited (the seeder may enforce the first voucher of each channel).
      const gas = await gasSpentSince(ethers.provider, f.alice.address, start);
      expect(aliceBefore - (await balanceOf(f.alice.address))).to.equal(deposits + gas);
      expect(leecher.stats().reduce((a, p) => a + p.paid, 0n)).to.equal(BigInt(cheats.length) * INITIAL * PRICE);
    });
  });

  describe("when a request is larger than 128 KiB or outside the torrent (row 27)", function () {
    it("the requester is dropped, paid or not; nothing is served or charged", async function () {
      const data = randomBytes(4 * PIECE + 1000); // the last piece has 1000 bytes
      const { torrent, seeder, port } = await net.seed(f.bob, data);
      const eve = await net.sdkFor(f.eve);
      const requests: [string, number, number, number][] = [
        ["a block of 128 KiB + 1", 0, 0, 128 * 1024 + 1],
        ["a piece index past the end", 5, 0, BLOCK],
        ["an index of 2^32 - 1", 0xffffffff, 0, BLOCK],
        ["a block past the end of its piece", 1, PIECE - BLOCK / 2, BLOCK],
        ["a block past the end of the last piece", 4, 0, BLOCK],
        ["an empty block", 0, 0, 0],
        ["a length of 2^31 + 16 KiB (negative as an int32)", 0, 0, 2 ** 31 + BLOCK],
        ["an offset of 2^32 - 1", 0, 0xffffffff, BLOCK],
      ];
      for (const paid of [false, true]) {
        for (const [what, index, offset, length] of requests) {
          const peer = await net.rawPeer(port, torrent.infoHash, payerHandshake(eve));
          const got = countPieces(peer.wire);
          peer.wire.interested();
          if (paid) {
            const { id } = await openChannel(peer, eve, f.bob.address, 4n * PRICE);
            await payAndWait(peer, eve, id, 2n * PRICE);
            await peer.unchoked();
          }
          rawRequest(peer.wire, index, offset, length);
          // Valid requests right behind it, in the same segment: the peer is already dropped, they get nothing.
          for (let at = 0; at < PIECE; at += BLOCK) rawRequest(peer.wire, 0, at, BLOCK);
          expect(await peer.dropped(), `${what} (${paid ? "paid" : "unpaid"})`).to.equal(true);
          expect(got.bytes, what).to.equal(0);
        }
      }
      expect(seeder.stats().served).to.equal(0);
      expect(seeder.stats().paid).to.equal(BigInt(requests.length) * 2n * PRICE);
    });
  });

  describe("when payments or choke/unchoke notices are duplicated or reordered (row 25)", function () {
    it("a leecher that requests everything gets only the pieces it paid for; a voucher repeated or out of order drops it", async function () {
      const data = randomBytes(8 * PIECE);
      const { torrent, seeder, port } = await net.seed(f.bob, data);
      const eve = await net.sdkFor(f.eve);
      for (const misorder of ["repeated", "older"] as const) {
        const peer = await net.rawPeer(port, torrent.infoHash, payerHandshake(eve));
        const got = countPieces(peer.wire);
        peer.wire.interested();
        const { id } = await openChannel(peer, eve, f.bob.address, 8n * PRICE);
        const older = await payAndWait(peer, eve, id, PRICE);
        const newer = await payAndWait(peer, eve, id, PRICE); // 2 pieces paid in all
        await peer.unchoked();
        // Ask for every block of every piece, twice, with choke and unchoke state ignored: each request is
        // answered with its block or rejected (BEP 6), and only the two paid pieces are ever admitted.
        let rejected = 0;
        peer.wire.on("reject", () => rejected++);
        let blocks = 0;
        peer.wire.on("piece", () => blocks++);
        const REQUESTS = 2 * 8 * (PIECE / BLOCK);
        for (let round = 0; round < 2; round++)
          for (let index = 0; index < 8; index++)
            for (let offset = 0; offset < PIECE; offset += BLOCK) rawRequest(peer.wire, index, offset, BLOCK);
        await eventually(() => blocks + rejected === REQUESTS, "an answer to every request");
        expect(got.bytes).to.be.at.most(2 * PIECE);
        expect(
          [...got.pieces].every((i) => i < 2),
          "only pieces 0 and 1",
        ).to.equal(true);
        peer.send(encodeMessage({ type: "voucher", voucher: misorder === "repeated" ? newer : older }));
        expect(await peer.dropped(), misorder).to.equal(true);
        const stats = seeder.stats().peers.find((p) => p.channelId === id);
        expect(stats?.paid).to.equal(2n * PRICE);
        expect(stats?.served).to.equal(got.pieces.size);
        expect(BigInt(stats?.served ?? 0) * PRICE).to.be.at.most(stats?.paid ?? 0n);
      }
    });

    it("a choke gives back the credit of the admitted pieces it sent nothing of: the leecher is served every piece it paid for", async function () {
      const data = randomBytes(8 * PIECE);
      const { torrent, seeder, port } = await net.seed(f.bob, data);
      // Webtorrent's rechoke, played at the worst moment: right after pieces 0 and 1 (paid) were admitted, before
      // its store answers either, so nothing of them is sent and BEP 6 rejects both.
      let chokeOnPiece1 = true;
      torrent.on("wire", (wire: Wire) => {
        wire.on("request", (index: number) => {
          if (index !== 1 || !chokeOnPiece1) return;
          chokeOnPiece1 = false;
          wire.choke();
        });
      });
      const eve = await net.sdkFor(f.eve);
      const peer = await net.rawPeer(port, torrent.infoHash, payerHandshake(eve));
      const got = countPieces(peer.wire);
      let rejected = 0;
      peer.wire.on("reject", () => rejected++);
      peer.wire.interested();
      const { id } = await openChannel(peer, eve, f.bob.address, 8n * PRICE);
      await payAndWait(peer, eve, id, 2n * PRICE); // 2 pieces paid
      await peer.unchoked();
      const choked = until(peer.wire, "choke");
      peer.socket.write(Buffer.concat([0, 1].map((index) => requestMessage(index, 0, BLOCK))));
      await choked;
      await eventually(() => rejected === 2, "both requests rejected");
      expect(got.bytes).to.equal(0);
      // One more piece paid (3 in all): the seeder unchokes, and the credit of pieces 0 and 1 came back, so three
      // new pieces are served (without it, only one: pieces 0 and 1 would still hold two pieces of credit).
      await payAndWait(peer, eve, id, PRICE);
      await peer.unchoked();
      for (const index of [3, 4, 5]) rawRequest(peer.wire, index, 0, BLOCK);
      await eventually(() => got.pieces.size + rejected === 2 + 3, "an answer to each request");
      expect([...got.pieces].sort()).to.deep.equal([3, 4, 5]);
      // A fourth is beyond the credit: refused, and the peer stays unchoked for what it pays next.
      rawRequest(peer.wire, 6, 0, BLOCK);
      await eventually(() => rejected === 3, "the fourth request rejected");
      expect(peer.wire.peerChoking).to.equal(false);
      const stats = seeder.stats().peers.find((p) => p.channelId === id);
      expect(stats?.paid).to.equal(3n * PRICE);
      expect(stats?.served).to.equal(3);
    });

    it("a leecher that closes (stop) and then pays and requests again (start) gets nothing more; the seeder is paid exactly what it served", async function () {
      const data = randomBytes(8 * PIECE);
      const start = await ethers.provider.getBlockNumber();
      const [eveBefore, bobBefore] = await Promise.all([balanceOf(f.eve.address), balanceOf(f.bob.address)]);
      const { torrent, seeder, port } = await net.seed(f.bob, data);
      const eve = await net.sdkFor(f.eve);
      const peer = await net.rawPeer(port, torrent.infoHash, payerHandshake(eve));
      const got = countPieces(peer.wire);
      peer.wire.interested();
      const { id } = await openChannel(peer, eve, f.bob.address, 8n * PRICE);
      await payAndWait(peer, eve, id, 2n * PRICE);
      await peer.unchoked();
      for (let offset = 0; offset < PIECE; offset += BLOCK) rawRequest(peer.wire, 0, offset, BLOCK);
      await eventually(() => got.bytes === PIECE, "piece 0");
      // Stop: close at the one piece received, and the seeder settles on chain.
      const offer = await eve.offerClose(id, { paid: PRICE });
      peer.send(
        encodeMessage({
          type: "close",
          channelId: id,
          turnNum: offer.final.turnNum,
          paid: PRICE,
          signature: offer.signature,
        }),
      );
      const notice = await peer.next("notice");
      expect(notice.code).to.equal("closed");
      // Start again on the closed channel: requests (one piece of credit was left) and a further voucher.
      for (let offset = 0; offset < PIECE; offset += BLOCK) rawRequest(peer.wire, 1, offset, BLOCK);
      const late = await signVoucher(f.eve, id, 3n * PRICE);
      peer.send(encodeMessage({ type: "voucher", voucher: late }));
      expect(await peer.dropped()).to.equal(true);
      expect(got.bytes).to.equal(PIECE);
      expect(seeder.stats().served).to.equal(1);
      expect(seeder.stats().paid).to.equal(2n * PRICE);
      const [eveGas, bobGas] = await Promise.all(
        [f.eve, f.bob].map((s) => gasSpentSince(ethers.provider, s.address, start)),
      );
      expect(bobGas).to.be.greaterThan(0n);
      expect((await balanceOf(f.bob.address)) - bobBefore).to.equal(PRICE - bobGas);
      expect(eveBefore - (await balanceOf(f.eve.address))).to.equal(PRICE + eveGas);
    });

    it("an honest pair whose choke, unchoke, interest messages, receipts and notices are all duplicated or swapped completes; never a piece unpaid", async function () {
      const data = randomBytes(24 * PIECE);
      const start = await ethers.provider.getBlockNumber();
      const [aliceBefore, bobBefore] = await Promise.all([balanceOf(f.alice.address), balanceOf(f.bob.address)]);
      const { torrent: seeded, seeder, port } = await net.seed(f.bob, data);
      let duplicated = 0;
      const unpaid: string[] = [];
      const check = () => {
        for (const p of seeder.stats().peers) {
          if (BigInt(p.served) * PRICE > p.paid) unpaid.push(`served ${p.served} for ${p.paid}`);
        }
      };
      /** Sends every choke (0), unchoke (1), interested (2) and not interested (3) message twice. */
      const doubleState = (wire: Wire) => {
        const raw = wire as unknown as { _push(data: Uint8Array): void };
        const push = raw._push.bind(wire);
        raw._push = (data) => {
          push(data);
          // choke, unchoke, interested and not interested are the 5 bytes <0001><id>
          if (data.length === 5 && data[3] === 1 && data[4] <= 3) {
            duplicated++;
            push(data);
          }
        };
      };
      seeded.on("wire", (wire: Wire) => {
        doubleState(wire);
        const piece = wire.piece.bind(wire);
        wire.piece = (index, offset, buffer) => {
          piece(index, offset, buffer);
          check();
        };
        // Receipts: each sent twice, and every other pair swapped (older after newer).
        const extended = wire.extended.bind(wire);
        let held: Uint8Array | undefined;
        wire.extended = (name, buffer) => {
          const type = buffer[1];
          if (type === MESSAGE_TYPE_IDS.receipt) {
            if (!held) {
              held = buffer;
              return;
            }
            extended(name, buffer);
            extended(name, held);
            extended(name, held);
            held = undefined;
            // A stray notice, repeated: "closed" while nothing is closing. (Not "bye": a seller that says bye is
            // leaving, and its buyer closes at once at what it delivered: row 106.)
            extended(name, encodeMessage({ type: "notice", code: "closed", reason: "dup" }));
            return;
          }
          extended(name, buffer);
          if (type === MESSAGE_TYPE_IDS.notice) extended(name, buffer); // the real "closed" notice, twice
        };
      });
      const { torrent, leecher, path } = await net.leech(f.alice, seeded.torrentFile, [port]);
      torrent.on("wire", (wire: Wire) => {
        doubleState(wire);
        const extended = wire.extended.bind(wire);
        wire.extended = (name, buffer) => {
          extended(name, buffer);
          if (buffer[1] === MESSAGE_TYPE_IDS.voucher) {
            extended(name, encodeMessage({ type: "notice", code: "bye", reason: "dup" }));
            extended(name, encodeMessage({ type: "notice", code: "refused", reason: "dup" }));
          }
        };
      });
      seeder.on("paid", check);
      const warnings: Error[] = [];
      seeder.on("warning", (e: Error) => warnings.push(e));
      leecher.on("warning", (e: Error) => warnings.push(e));
      await done(torrent);
      const [settled] = await leecher.settle();
      expect(readFileSync(join(path, "file.bin")).equals(data)).to.equal(true);
      expect(duplicated).to.be.greaterThan(0);
      expect(unpaid).to.deep.equal([]);
      expect(warnings.map((w) => w.message)).to.deep.equal([]);
      expect(settled).to.deep.include({ delivered: 24, closed: true });
      expect(seeder.stats().served).to.equal(24);
      const [aliceGas, bobGas] = await Promise.all(
        [f.alice, f.bob].map((s) => gasSpentSince(ethers.provider, s.address, start)),
      );
      expect((await balanceOf(f.bob.address)) - bobBefore).to.equal(24n * PRICE - bobGas);
      expect(aliceBefore - (await balanceOf(f.alice.address))).to.equal(24n * PRICE + aliceGas);
    });
  });
});
