// The watcher on Hardhat's in-process chain: it answers stale challenges on our channels, catches up after being
// offline, handles each event once, pays out finalized channels, and never spends gas on channels not ours.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import { ChannelWatcher, SqliteChannelStore } from "../../../sdk/node.js";
import { deployFixture, ethers, networkHelpers, type Signer, sdkClient } from "../helpers/fixtures.js";

const DEPOSIT = parseEther("1");
const PRICE = parseEther("0.01");

describe("ChannelWatcher", function () {
  let dir: string;
  const stores: SqliteChannelStore[] = [];
  let f: Awaited<ReturnType<typeof deployFixture>>;

  async function clientFor(signer: Signer, file = `${signer.address}.db`) {
    const store = new SqliteChannelStore(join(dir, file));
    stores.push(store);
    return sdkClient(f, signer, store);
  }

  /** A funded channel alice -> bob with `paid` in vouchers received by bob. */
  async function paidChannel(paid: bigint) {
    const payer = await clientFor(f.alice);
    const payee = await clientFor(f.bob);
    const channel = await payer.open({ payee: f.bob.address, deposit: DEPOSIT }, (p) => payee.join(p));
    await payee.waitForFunding(channel.id);
    if (paid > 0n) await payee.receive(await payer.pay(channel.id, paid));
    return { payer, payee, id: channel.id };
  }

  beforeEach(async () => {
    f = await networkHelpers.loadFixture(deployFixture);
    dir = mkdtempSync(join(tmpdir(), "piecepay-watcher-"));
  });
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers the payer's stale challenge before it finalizes; the payee is then paid its voucher in full", async function () {
    const { payer, payee, id } = await paidChannel(3n * PRICE);
    await payer.challenge(id); // the funding state: everything back to the payer
    const watcher = new ChannelWatcher(payee);
    const report = await watcher.scanOnce();
    expect(report.answered).to.deep.equal([id]);
    // The answer registered the payee's voucher over the payer's stale state.
    expect((await payee.registeredState(id)).outcome[0].allocations[1].amount).to.equal(3n * PRICE);
    // The payer's own watcher holds nothing newer than what it registered: it sends nothing.
    const payerWatcher = new ChannelWatcher(payer);
    const aliceBefore = await ethers.provider.getBalance(f.alice.address);
    expect((await payerWatcher.scanOnce()).answered).to.deep.equal([]);
    expect(await ethers.provider.getBalance(f.alice.address)).to.equal(aliceBefore);
    await payee.redeem(id, { waitFor: (at) => networkHelpers.time.increaseTo(at) });
    expect(await f.adjudicator.holdings(ZeroAddress, id)).to.equal(0n);
  });

  it("catches up after a restart: a challenge posted while it was offline is found in the missed blocks and answered once", async function () {
    const { payer, payee, id } = await paidChannel(PRICE);
    const first = new ChannelWatcher(payee);
    await first.scanOnce(); // scanned up to here, then the process "stops"
    const storePath = join(dir, `${f.bob.address}.db`);
    payee.store.close();
    await payer.challenge(id);
    // Blocks go by while the watcher is offline, fewer seconds than the challenge duration (20 s here).
    await networkHelpers.mine(8);
    const restarted = await clientFor(f.bob, `${f.bob.address}.db`);
    expect(await restarted.store.getCursor("adjudicator")).to.be.a("bigint");
    expect(storePath).to.contain(f.bob.address);
    const watcher = new ChannelWatcher(restarted);
    expect((await watcher.scanOnce()).answered).to.deep.equal([id]);
    // Rescanning the same blocks (a replay) sends nothing more.
    await restarted.store.setCursor("adjudicator", 0n);
    const bobBefore = await ethers.provider.getBalance(f.bob.address);
    expect((await watcher.scanOnce()).answered).to.deep.equal([]);
    expect(await ethers.provider.getBalance(f.bob.address)).to.equal(bobBefore);
  });

  it("pays out a channel of ours once it finalizes: the payee gets its voucher, the payer the rest", async function () {
    const { payer, payee, id } = await paidChannel(4n * PRICE);
    await payee.challenge(id);
    const watcher = new ChannelWatcher(payer); // the payer's watcher does the payout; nothing newer to answer
    expect((await watcher.scanOnce()).paidOut).to.deep.equal([]);
    await networkHelpers.time.increase(Number(payee.minChallengeDuration() * 2n));
    const bobBefore = await ethers.provider.getBalance(f.bob.address);
    const report = await watcher.scanOnce();
    expect(report.paidOut).to.deep.equal([id]);
    expect(await ethers.provider.getBalance(f.bob.address)).to.equal(bobBefore + 4n * PRICE);
    expect(await f.adjudicator.holdings(ZeroAddress, id)).to.equal(0n);
    expect((await watcher.scanOnce()).paidOut).to.deep.equal([]);
  });

  it("with payOut false it answers challenges but leaves a finalized channel to `payout`, spending no gas on it", async function () {
    const { payer, payee, id } = await paidChannel(4n * PRICE);
    await payer.challenge(id); // stale: the funding state
    const watcher = new ChannelWatcher(payee, { payOut: false });
    expect((await watcher.scanOnce()).answered).to.deep.equal([id]);
    await networkHelpers.time.increase(Number(payee.minChallengeDuration() * 2n));
    const bobBefore = await ethers.provider.getBalance(f.bob.address);
    expect(await watcher.scanOnce()).to.deep.include({ answered: [], paidOut: [] });
    expect((await payee.store.getChannel(id))?.phase).to.equal("finalized");
    expect(await ethers.provider.getBalance(f.bob.address), "no gas, no payout").to.equal(bobBefore);
    expect((await payee.onChain(id)).holdings).to.equal(DEPOSIT);
    // The owner's own payout then pays both sides what the answered state says.
    const aliceBefore = await ethers.provider.getBalance(f.alice.address);
    const receipt = await payee.payout(id);
    const gas = receipt.gasUsed * receipt.gasPrice;
    expect(await ethers.provider.getBalance(f.bob.address)).to.equal(bobBefore + 4n * PRICE - gas);
    expect(await ethers.provider.getBalance(f.alice.address)).to.equal(aliceBefore + DEPOSIT - 4n * PRICE);
    expect(await f.adjudicator.holdings(ZeroAddress, id)).to.equal(0n);
  });

  it("spends no gas on channels that are not in its store", async function () {
    const { payer, id } = await paidChannel(PRICE);
    await payer.challenge(id);
    const outsider = await clientFor(f.carol);
    const carolBefore = await ethers.provider.getBalance(f.carol.address);
    const watcher = new ChannelWatcher(outsider);
    expect(await watcher.scanOnce()).to.deep.include({ answered: [], paidOut: [] });
    await networkHelpers.time.increase(10_000);
    await watcher.scanOnce();
    expect(await ethers.provider.getBalance(f.carol.address)).to.equal(carolBefore);
  });

  it("runs on its own when started, and logs what it does without keys", async function () {
    const { payer, payee, id } = await paidChannel(2n * PRICE);
    const lines: string[] = [];
    const watcher = new ChannelWatcher(payee, {
      pollingIntervalMs: 10,
      log: (event, fields) =>
        lines.push(JSON.stringify({ event, ...fields }, (_k, v) => (typeof v === "bigint" ? `${v}` : v))),
    });
    watcher.start();
    await payer.challenge(id);
    const answered = async () => (await payee.registeredState(id)).outcome[0].allocations[1].amount === 2n * PRICE;
    for (let i = 0; i < 200 && !(await answered()); i++) await new Promise((r) => setTimeout(r, 10));
    await watcher.stop();
    expect(await answered()).to.equal(true);
    expect(lines.some((l) => l.includes('"event":"answered"'))).to.equal(true);
    expect(lines.join("\n")).to.not.match(/privateKey|mnemonic/i);
  });
});
