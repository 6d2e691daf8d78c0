// What each side sees while and after a payee enforces its voucher alone: the payee's own watcher never fights its
// redemption (it used to log FingerprintMismatch against our own challenge), the payer's stale "open" follows the
// chain, and "paid"/"earned" come from the adjudicator's PaidOut events, never from the outcome we meant.
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import {
  ChannelWatcher,
  defaultConfirmations,
  PiecepayClient,
  type PiecepayError,
  SqliteChannelStore,
} from "../../../sdk/node.js";
import { ethers, networkHelpers } from "../helpers/fixtures.js";
import { DEPOSIT, PAID, sdkBed } from "./bed.js";

describe("a payee enforcing its voucher alone", function () {
  const bed = sdkBed("piecepay-enforcement-");

  it("with its own watcher running: the watcher logs no failure, the payee is paid exactly its voucher (PaidOut)", async function () {
    const { payer, payee, id, startBlock } = await bed.paidChannel();
    const logs: { event: string; fields: Record<string, unknown> }[] = [];
    const watcher = new ChannelWatcher(payee, { log: (event, fields) => logs.push({ event, fields }) });
    const scans: Promise<unknown>[] = [];
    const bobBefore = await ethers.provider.getBalance(bed.f.bob.address);
    // The watcher scans at the worst moments: right after each step of the redemption, concurrently with the next.
    const receipt = await payee.redeem(id, {
      waitFor: async (finalizesAt) => {
        await networkHelpers.time.increaseTo(finalizesAt);
        scans.push(watcher.scanOnce());
      },
    });
    scans.push(watcher.scanOnce());
    await Promise.all(scans);
    const failures = logs.filter((l) => l.event.endsWith("-failed"));
    expect(
      failures,
      JSON.stringify(failures, (_k, v) => (typeof v === "bigint" ? `${v}` : v)),
    ).to.deep.equal([]);
    expect(await bed.receivedSince(bed.f.bob.address, bobBefore, startBlock)).to.equal(PAID);
    expect((await payee.settlementIn(id, receipt)).toUs + (await payee.settlement(id)).toUs).to.be.at.least(PAID);
    expect((await payee.settlement(id)).toUs).to.equal(PAID);
    expect((await payer.settlement(id)).toUs).to.equal(DEPOSIT - PAID);
  });

  it("the payer's store, stale at 'open' while the payee enforced, follows the chain: withdrawn", async function () {
    const { payer, payee, id } = await bed.paidChannel();
    await payee.redeem(id, { waitFor: (at) => networkHelpers.time.increaseTo(at) });
    expect((await payer.store.getChannel(id))?.phase).to.equal("open"); // the payer was away
    expect(await payer.syncPhase(id)).to.equal("withdrawn");
    expect((await payer.store.getChannel(id))?.phase).to.equal("withdrawn");
  });

  it("a channel that holds nothing (a deposit gone in a re-org) is not challenged: NOTHING_HELD, no gas spent", async function () {
    const { f } = bed;
    const payer = await bed.clientFor(f.alice);
    const payee = await bed.clientFor(f.bob);
    const proposal = await payer.propose({ payee: f.bob.address, deposit: DEPOSIT });
    const acceptance = await payee.join(proposal);
    // The payee saw a deposit that is no longer there: the store says open, the chain holds nothing.
    const record = await payee.store.getChannel(acceptance.channelId);
    if (!record) throw new Error("no record");
    await payee.store.putChannel({ ...record, phase: "open", deposited: DEPOSIT });
    await payee.receive(await payerVoucher(payer, acceptance.channelId, proposal));
    const nonce = await ethers.provider.getTransactionCount(f.bob.address);
    try {
      await payee.redeem(acceptance.channelId);
      expect.fail("challenged a channel that holds nothing");
    } catch (error) {
      expect((error as PiecepayError).code).to.equal("NOTHING_HELD");
    }
    expect(await ethers.provider.getTransactionCount(f.bob.address)).to.equal(nonce);
    expect(await payee.adjudicator.holdings(ZeroAddress, acceptance.channelId)).to.equal(0n);
  });
});

describe("confirmations", function () {
  it("default per chain: 1 on a local chain, 5 on public testnets, 12 on mainnet and unknown chains", function () {
    expect([31337n, 1337n, 11155111n, 17000n, 560048n, 1n, 10n].map(defaultConfirmations)).to.deep.equal([
      1, 1, 5, 5, 5, 12, 12,
    ]);
  });

  const bed = sdkBed("piecepay-confirmations-");
  it("a client refuses 0 confirmations: INVALID_CONFIRMATIONS", async function () {
    const { f } = bed;
    const store = new SqliteChannelStore(":memory:");
    try {
      const options = { signer: f.alice, chainId: f.chainId, adjudicator: f.adjudicatorAddress, store };
      await PiecepayClient.create({ ...options, voucherApp: f.appAddress, confirmations: 0 });
      expect.fail("accepted 0 confirmations");
    } catch (error) {
      expect((error as PiecepayError).code).to.equal("INVALID_CONFIRMATIONS");
    } finally {
      store.close();
    }
  });
});

/** A voucher from `payer` on a channel whose deposit it never sent (the store thinks it did). */
async function payerVoucher(
  payer: Awaited<ReturnType<ReturnType<typeof sdkBed>["clientFor"]>>,
  id: string,
  proposal: { funding: { outcome: { allocations: { amount: bigint }[] }[] } },
) {
  const record = await payer.store.getChannel(id);
  if (!record) throw new Error("no record");
  await payer.store.putChannel({
    ...record,
    phase: "open",
    deposited: proposal.funding.outcome[0].allocations[0].amount,
  });
  return payer.pay(id, 1000n);
}
