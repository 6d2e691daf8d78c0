// A seek with a paid seeder (docs/security.md row 89, docs/adr/0017-streaming-in-the-page.md): the paid leecher lets
// webtorrent ask a seeder only for the pieces granted to it, as many as the credit covers. A stream that needs a piece
// far ahead of the download (what webtorrent's streaming server reads for a media element's seek) gets it granted at
// once, in place of a granted piece nobody asked for yet, rather than at the next voucher; every piece is still paid
// once. Real webtorrent peers over TCP loopback, Hardhat's chain.
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { eventually, PIECE, PRICE, usePaidNetwork } from "./helpers.js";

/** What webtorrent's streaming server (lib/server.js) reads for a range request: the file's async iterator. */
type Streamable = {
  [Symbol.asyncIterator](range: { start: number; end: number }): AsyncIterator<Uint8Array>;
};

describe("PaidLeecher and a stream's seek", function () {
  this.timeout(60_000);
  const net = usePaidNetwork();

  it("grants a piece the stream waits for at once, far beyond the credit window, and pays every piece once", async function () {
    const { f } = net;
    const PIECES = 64;
    const SEEK = 50;
    const data = randomBytes(PIECES * PIECE);
    const seeding = await net.seed(f.bob, data);
    seeding.client.throttleUpload(8 * PIECE); // 8 pieces a second: the seek comes early in the download
    const { torrent, leecher } = await net.leech(f.alice, seeding.torrent.torrentFile, [seeding.port], {
      maxWindow: 8,
    });
    await eventually(() => leecher.pieces.verifiedCount >= 4, "four pieces", 20_000);
    const [wire] = torrent.wires;
    expect(leecher.owners.get(SEEK), "granted from the lowest on, a window at a time").to.equal(undefined);

    const file = torrent.files[0] as unknown as Streamable;
    const reading = file[Symbol.asyncIterator]({ start: SEEK * PIECE, end: (SEEK + 1) * PIECE - 1 });
    // The iterator waits for piece SEEK: webtorrent marks it critical, and the leecher grants it then and there.
    const first = reading.next();
    expect(leecher.owners.get(SEEK), "granted as the stream asked").to.equal(wire);
    const chunk = (await first).value as Uint8Array;
    expect(Buffer.from(chunk).equals(data.subarray(SEEK * PIECE, (SEEK + 1) * PIECE))).to.equal(true);
    expect(leecher.pieces.verifiedCount, "it came before the download got there").to.be.below(SEEK);
    await reading.return?.();

    seeding.client.throttleUpload(-1);
    await eventually(() => torrent.done, "the download to finish", 30_000);
    const [settled] = await leecher.settle();
    expect(settled).to.deep.include({ delivered: PIECES, closed: true, paid: PRICE * BigInt(PIECES) });
    expect(seeding.seeder.stats().peers[0]).to.deep.include({ served: PIECES });
  });
});
