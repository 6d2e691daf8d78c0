// A counterparty whose account refuses ETH (EIP-7702 code that reverts) cannot keep the honest side's money in the
// channel: the SDK pays a whole outcome when it can and its own allocation alone, by index, when the other side
// refuses its part. Found by a review of the ADR 0005 redesign; these tests failed before the fallback.
import { expect } from "chai";
import { concat } from "ethers";
import {
  ChannelWatcher,
  findRegistration,
  type SignedVariablePart,
  stateHash,
  toSigned,
  type VariablePart,
} from "../../../sdk/index.js";
import { ethers, networkHelpers, voucherState } from "../helpers/fixtures.js";
import { registrationNow } from "../helpers/registration.js";
import { DEPOSIT, PAID, PRICE, sdkBed } from "./bed.js";

const MAX_TURN = (1n << 48n) - 1n;
/** Runtime code that reverts on any call, ETH transfers included. */
const REVERT_ALWAYS = "0x60006000fd";

describe("SDK: a counterparty that refuses its payout cannot keep ours in the channel", function () {
  const bed = sdkBed("piecepay-refused-");
  const { paidChannel, receivedSince } = bed;

  /** An EIP-7702 delegation of `account` to code that reverts on every call: the key still signs, ETH bounces. */
  async function delegateToReverter(account: string) {
    const target = ethers.Wallet.createRandom().address;
    await networkHelpers.setCode(target, REVERT_ALWAYS);
    await networkHelpers.setCode(account, concat(["0xef0100", target]));
  }

  it("a hostile payee whose account refuses ETH (EIP-7702 code): the payer's watcher pays her allocation alone", async function () {
    const { payer, payee, id, startBlock } = await paidChannel();
    const aliceBefore = await ethers.provider.getBalance(bed.f.alice.address);
    // The payee registers its largest voucher (legitimately), then delegates its account to code that reverts.
    await payee.challenge(id);
    await delegateToReverter(bed.f.bob.address);
    await networkHelpers.time.increaseTo((await bed.f.adjudicator.statusOf(id))[1]);
    const logs: string[] = [];
    const watcher = new ChannelWatcher(payer, { log: (e, x) => logs.push(`${e} ${String(x.error ?? "")}`) });
    for (let i = 0; i < 3; i++) await watcher.scanOnce();
    // transferAllAssets pays both in one call and the payee's refusal reverts it: the watcher pays hers alone, at
    // the first scan, and then stops (no failed scan, no second transaction).
    expect(logs.join("\n"), "no scan failed").to.not.include("EthPayoutFailed");
    expect(logs.filter((l) => l.startsWith("paid-out"))).to.have.length(1);
    expect(await receivedSince(bed.f.alice.address, aliceBefore, startBlock)).to.equal(DEPOSIT - PAID);
  });

  it("a hostile payer whose account refuses ETH: the payee's redeem pays it its vouchers alone", async function () {
    const { payee, id, startBlock } = await paidChannel();
    const bobBefore = await ethers.provider.getBalance(bed.f.bob.address);
    await delegateToReverter(bed.f.alice.address);
    let error: unknown;
    await payee.redeem(id, { waitFor: (at) => networkHelpers.time.increaseTo(at) }).catch((e) => (error = e));
    expect(error, "redeem pays the payee its allocation alone").to.equal(undefined);
    expect(await receivedSince(bed.f.bob.address, bobBefore, startBlock)).to.equal(PAID);
  });

  it("a payer whose account refuses ETH offers a close: the payee's close concludes, then pays its own allocation", async function () {
    const { payer, payee, id, startBlock } = await paidChannel();
    const bobBefore = await ethers.provider.getBalance(bed.f.bob.address);
    const offer = await payer.offerClose(id);
    await delegateToReverter(bed.f.alice.address);
    await payee.close(offer);
    expect(await receivedSince(bed.f.bob.address, bobBefore, startBlock)).to.equal(PAID);
    expect((await payee.store.getChannel(id))?.phase).to.equal("withdrawn");
  });

  it("against that payee the payer's funds are not lost on chain: a payout by index of her allocation alone pays her", async function () {
    const { payer, payee, id, startBlock } = await paidChannel();
    const aliceBefore = await ethers.provider.getBalance(bed.f.alice.address);
    await payee.challenge(id);
    await delegateToReverter(bed.f.bob.address);
    await networkHelpers.time.increaseTo((await bed.f.adjudicator.statusOf(id))[1]);
    const { variablePart, owed, heldEth } = await payer.registration(id);
    // What the SDK's payout could fall back to: its own allocation (index 0 for the payer), by index.
    await bed.f.adjudicator.connect(bed.f.alice).transfer(0n, id, stateHash(id, variablePart), owed, heldEth, [0n]);
    expect(await receivedSince(bed.f.alice.address, aliceBefore, startBlock)).to.equal(DEPOSIT - PAID);
    // ... and the SDK still finds the registration afterwards (the payee's PAID is what is left owed).
    expect((await payer.registration(id)).owed[0].allocations[1].amount).to.equal(PAID);
  });

  it("a hostile payee registering at turn 2^48 - 1 (empty signature slot) cannot be answered, and the payer's watcher still pays her", async function () {
    const { payer, id, fixedPart, funding, startBlock } = await paidChannel();
    const aliceBefore = await ethers.provider.getBalance(bed.f.alice.address);
    const bob = bed.f.adjudicator.connect(bed.f.bob);
    const low = sentByPayee(await voucherState(bed.f.alice, id, funding.variablePart, 1n, PRICE));
    await bob.challenge(fixedPart, [funding], low, "0x", await registrationNow(bed.f.adjudicator, fixedPart));
    const top = sentByPayee(await voucherState(bed.f.alice, id, funding.variablePart, MAX_TURN, PAID));
    await bob.checkpoint(fixedPart, [funding], top, await registrationNow(bed.f.adjudicator, fixedPart));
    const registration = await registrationNow(bed.f.adjudicator, fixedPart);
    // Nothing follows the record: respond reverts with the app's error, not an overflow panic.
    const same = sentByPayee(await voucherState(bed.f.alice, id, top.variablePart, 0n, PAID, PAID));
    await bob
      .respond(fixedPart, id, top.variablePart, same, registration.heldEth)
      .then(() => expect.fail("respond after the top turn"))
      .catch((e) => expect(String(e)).to.include("TurnNumberNotNext"));
    await networkHelpers.time.increaseTo((await bed.f.adjudicator.statusOf(id))[1]);
    expect((await new ChannelWatcher(payer).scanOnce()).paidOut).to.deep.equal([id]);
    expect(await receivedSince(bed.f.alice.address, aliceBefore, startBlock)).to.equal(DEPOSIT - PAID);
    expect((await findRegistration(bed.f.adjudicator, id))?.owed).to.deep.equal([]);
  });
});

function sentByPayee(vp: VariablePart): SignedVariablePart {
  return toSigned(vp, new Map([[1, "0x"]]));
}
