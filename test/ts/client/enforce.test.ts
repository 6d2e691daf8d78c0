// A leecher that vanishes: the seeder enforces its latest voucher on chain by itself (challenge, wait, payout), and
// still does after its own restart, from the store. The seeder ends with exactly the voucher's amount.
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import { PaidSeeder } from "../../../client/session/seeder.js";
import { gasSpentSince, PiecepayClient, SqliteChannelStore } from "../../../sdk/node.js";
import { ethers, networkHelpers } from "../helpers/fixtures.js";
import { eventually, PRICE, usePaidNetwork } from "./helpers.js";

const waitFor = (at: bigint) => networkHelpers.time.increaseTo(at);

describe("a leecher that vanishes", function () {
  this.timeout(60_000);
  const net = usePaidNetwork();

  it("has its latest voucher enforced by the seeder alone: the seeder ends with exactly that amount", async function () {
    const { f } = net;
    const {
      torrent: seeded,
      seeder,
      port,
    } = await net.seed(f.bob, randomBytes(4 * 1024 * 1024), {
      enforceAfterMs: 50,
      waitFor,
    });
    const { leecher, client } = await net.leech(f.alice, seeded.torrentFile, [port]);
    await eventually(() => seeder.stats().served >= 10, "ten pieces served");
    const start = await ethers.provider.getBlockNumber();
    const bobBefore = await ethers.provider.getBalance(f.bob.address);
    const enforced = new Promise((resolve) => seeder.once("enforced", resolve));
    client.destroy(); // the leecher vanishes mid-download, without closing
    await enforced;
    const owed = seeder.stats().paid; // the largest voucher on the seeder's disk
    expect(owed).to.be.greaterThan(0n);
    // What the seeder holds lies between what it acknowledged (receipts may still have been in flight) and what
    // the leecher signed.
    const stats = leecher.stats().find((p) => p.channelId);
    expect(
      owed >= (stats?.acknowledged ?? 0n) && owed <= (stats?.paid ?? 0n),
      `${owed} within the leecher's view`,
    ).to.equal(true);
    const [gas] = await gasSpentSince(ethers.provider, [f.bob.address], start);
    expect((await ethers.provider.getBalance(f.bob.address)) - bobBefore).to.equal(owed - gas);
  });

  it("is enforced after the seeder restarts: the channel comes back from the store", async function () {
    const { f } = net;
    const first = await net.seed(f.bob, randomBytes(4 * 1024 * 1024), { enforceAfterMs: 600_000 });
    const { client } = await net.leech(f.alice, first.torrent.torrentFile, [first.port]);
    await eventually(() => first.seeder.stats().served >= 10, "ten pieces served");
    const owed = first.seeder.stats().paid;
    const storePath = (first.seeder.options.client.store as SqliteChannelStore).path;
    // The seeder goes down (its enforcement timer with it); the leecher vanishes meanwhile.
    first.seeder.destroy();
    first.client.destroy();
    client.destroy();
    const store = new SqliteChannelStore(storePath);
    try {
      const restarted = new PaidSeeder({
        client: await PiecepayClient.create({
          signer: f.bob,
          chainId: f.chainId,
          adjudicator: f.adjudicatorAddress,
          voucherApp: f.appAddress,
          store,
          pollingIntervalMs: 20,
          blockTimeSeconds: 1,
          safetyMarginSeconds: 5,
        }),
        pricePerPiece: PRICE,
        asset: ZeroAddress,
        enforceAfterMs: 50,
        waitFor,
      });
      const start = await ethers.provider.getBlockNumber();
      const bobBefore = await ethers.provider.getBalance(f.bob.address);
      const enforced = new Promise((resolve) => restarted.once("enforced", resolve));
      await restarted.resume();
      await enforced;
      const [gas] = await gasSpentSince(ethers.provider, [f.bob.address], start);
      expect((await ethers.provider.getBalance(f.bob.address)) - bobBefore).to.equal(owed - gas);
      restarted.destroy();
    } finally {
      store.close();
    }
  });
});
