// The honest side runs the SDK (PiecepayClient and ChannelWatcher) and reads everything it needs from the chain; the
// hostile side keeps every signature it saw (vouchers, the funding state, a close offer it countersigned) and calls
// the adjudicator directly, in any order, sending its own states with an empty signature slot. Whatever it does,
// the honest side exits within one challenge duration of the first challenge (ADR 0005) with exactly what the
// signatures entitle it to. Balances are read from the chain, less the gas each account spent (`gasSpentSince`).
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import {
  ChannelWatcher,
  findRegistration,
  NO_REGISTRATION,
  type SignedVariablePart,
  signBy,
  stateHash,
  toSigned,
  type VariablePart,
} from "../../../sdk/index.js";
import { ethers, networkHelpers, voucherState } from "../helpers/fixtures.js";
import { registrationNow } from "../helpers/registration.js";
import { DEPOSIT, PAID, sdkBed } from "./bed.js";

describe("SDK: the honest side exits against a hostile counterparty (security rows 29, 30)", function () {
  const bed = sdkBed("piecepay-hostile-");
  const { paidChannel, receivedSince } = bed;

  /** Runs `watcher` scans while the chain's clock moves in steps to past `deadline`, calling `meddle` each step. */
  async function watchUntil(watcher: ChannelWatcher, deadline: bigint, meddle: (now: bigint) => Promise<void>) {
    const paidOut: string[] = [];
    for (;;) {
      const now = BigInt(await networkHelpers.time.latest());
      // Each meddling transaction is mined a second or two later: stop in time so that none lands after the deadline.
      if (now + 3n < deadline) await meddle(now);
      paidOut.push(...(await watcher.scanOnce()).paidOut);
      if (paidOut.length > 0 || now > deadline + 60n) return paidOut;
      await networkHelpers.time.increase(3);
    }
  }

  it("a hostile payee holding the countersigned close offer: every double count is refused; the payer's watcher gets her out", async function () {
    const { payer, id, fixedPart, funding, startBlock } = await paidChannel();
    const aliceBefore = await ethers.provider.getBalance(bed.f.alice.address);
    const bobBefore = await ethers.provider.getBalance(bed.f.bob.address);
    // The payer offers to close at PAID; the payee countersigns and keeps both signatures to itself.
    const offer = await payer.offerClose(id);
    const final = await signBy(fixedPart, id, offer.final, [bed.f.alice, bed.f.bob]);
    const bob = bed.f.adjudicator.connect(bed.f.bob);
    const onTop = async (base: VariablePart, turnNum: bigint) =>
      sentByPayee(await voucherState(bed.f.alice, id, { ...base, isFinal: false }, turnNum, PAID));

    // Building on the final state, registering it, or raising the open channel's record: all refused.
    await expectRevert(
      bob.challenge(fixedPart, [final], await onTop(offer.final, offer.final.turnNum + 1n), "0x", NO_REGISTRATION),
      "StateIsFinal",
    );
    await expectRevert(bob.challenge(fixedPart, [], final, "0x", NO_REGISTRATION), "StateIsFinal");
    await expectRevert(
      bob.checkpoint(fixedPart, [funding], await onTop(funding.variablePart, 50n), NO_REGISTRATION),
      "NoOngoingChallenge",
    );

    // The payer leaves through the SDK: a challenge with the funding state, the only state she holds signed by both.
    await payer.challenge(id);
    const [, deadline] = await bed.f.adjudicator.statusOf(id);
    let turn = 1n;
    const paidOut = await watchUntil(new ChannelWatcher(payer), deadline, async () => {
      // The payee answers with its largest voucher, then re-registers it one turn later at every step, through
      // respond, checkpoint and challenge in turn, always from its own empty signature slot.
      const registered = (await findRegistration(bed.f.adjudicator, id))?.variablePart;
      if (!registered) throw new Error("the registered state is not public");
      const next = sentByPayee(await voucherState(bed.f.alice, id, funding.variablePart, turn, PAID));
      const registration = await registrationNow(bed.f.adjudicator, fixedPart);
      const how = Number(turn % 3n);
      if (how === 1) await bob.challenge(fixedPart, [funding], next, "0x", registration);
      else if (how === 2) await bob.checkpoint(fixedPart, [funding], next, registration);
      else if (registered.appData !== "0x") {
        const same = await voucherState(bed.f.alice, id, registered, turn, PAID, PAID);
        await bob.respond(fixedPart, id, registered, sentByPayee(same), registration.heldEth);
      }
      turn++;
      expect((await bed.f.adjudicator.statusOf(id))[1], "the deadline never moves").to.equal(deadline);
    });
    expect(paidOut).to.deep.equal([id]);
    expect(turn).to.be.greaterThan(3n);
    // The chain paid the payer her deposit less the vouchers, the payee the vouchers: once.
    expect(await receivedSince(bed.f.alice.address, aliceBefore, startBlock)).to.equal(DEPOSIT - PAID);
    expect(await receivedSince(bed.f.bob.address, bobBefore, startBlock)).to.equal(PAID);
    expect((await payer.store.getChannel(id))?.phase).to.equal("withdrawn");
  });

  it("a hostile payer who challenges with the funding state and then tries everything she holds: the payee's watcher is paid its vouchers", async function () {
    const { payer, payee, id, fixedPart, funding, startBlock } = await paidChannel();
    const aliceBefore = await ethers.provider.getBalance(bed.f.alice.address);
    const bobBefore = await ethers.provider.getBalance(bed.f.bob.address);
    const alice = bed.f.adjudicator.connect(bed.f.alice);
    // She also holds a close offer of her own that the payee never countersigned.
    const offer = await payer.offerClose(id, { paid: 0n });
    await alice.challenge(fixedPart, [], funding, "0x", NO_REGISTRATION);
    const [, deadline] = await bed.f.adjudicator.statusOf(id);
    let tries = 0;
    const paidOut = await watchUntil(new ChannelWatcher(payee), deadline, async () => {
      const registration = await registrationNow(bed.f.adjudicator, fixedPart);
      const registered = (await findRegistration(bed.f.adjudicator, id))?.variablePart ?? funding.variablePart;
      const back: VariablePart = { ...registered, turnNum: registered.turnNum + 1n, appData: "0x" };
      const payerOnly = toSigned(back, new Map([[0, "0x"]]));
      const attempts = [
        alice.challenge(fixedPart, [], funding, "0x", registration),
        alice.checkpoint(fixedPart, [], funding, registration),
        alice.respond(fixedPart, id, registered, payerOnly, registration.heldEth),
        alice.conclude(fixedPart, toSigned(offer.final, new Map([[0, "0x"]])), registration),
      ];
      for (const attempt of attempts) {
        await attempt.then(
          () => expect.fail("a hostile payer's move was accepted"),
          () => tries++,
        );
      }
    });
    expect(tries).to.be.greaterThan(4);
    expect(paidOut).to.deep.equal([id]);
    expect(await receivedSince(bed.f.bob.address, bobBefore, startBlock)).to.equal(PAID);
    expect(await receivedSince(bed.f.alice.address, aliceBefore, startBlock)).to.equal(DEPOSIT - PAID);
  });

  it("a hostile payee pays out only its own allocation, by index, with late ETH credited: the payer's watcher still pays hers", async function () {
    const { payer, payee, id, startBlock } = await paidChannel();
    const aliceBefore = await ethers.provider.getBalance(bed.f.alice.address);
    const bobBefore = await ethers.provider.getBalance(bed.f.bob.address);
    await payee.challenge(id);
    const registered = await payee.registration(id);
    // ETH arrives from another channel's outcome while the ETH is committed: kept apart as late ETH.
    const { fixedPart: sourceFixed, id: source } = bed.f.channel();
    await bed.f.adjudicator.connect(bed.f.carol).deposit(ZeroAddress, source, 0n, 5n, { value: 5n });
    const toTarget = {
      outcome: [{ asset: ZeroAddress, allocations: [{ destination: id, amount: 5n }] }],
      appData: "0x",
      turnNum: 1n,
      isFinal: true,
    };
    await bed.f.adjudicator
      .connect(bed.f.carol)
      .concludeAndTransferAllAssets(sourceFixed, await signBy(sourceFixed, source, toTarget, [bed.f.alice, bed.f.bob]));
    await networkHelpers.time.increaseTo((await bed.f.adjudicator.statusOf(id))[1]);
    // The payee takes its voucher alone (allocation 1) and leaves the payer's allocation owed.
    await bed.f.adjudicator
      .connect(bed.f.bob)
      .transfer(0n, id, stateHash(id, registered.variablePart), registered.owed, registered.heldEth, [1n]);
    expect((await new ChannelWatcher(payer).scanOnce()).paidOut).to.deep.equal([id]);
    expect(await receivedSince(bed.f.alice.address, aliceBefore, startBlock)).to.equal(DEPOSIT - PAID);
    expect(await receivedSince(bed.f.bob.address, bobBefore, startBlock)).to.equal(PAID);
    expect((await payer.store.getChannel(id))?.phase).to.equal("withdrawn");
  });

  it("the payee's redeem finalizes one challenge duration after its first challenge, whatever the payer registers", async function () {
    const { payee, id, fixedPart, funding } = await paidChannel();
    await payee.challenge(id);
    const [, deadline] = await bed.f.adjudicator.statusOf(id);
    // The payer cannot beat or renew it with anything she holds.
    await expectRevert(
      bed.f.adjudicator
        .connect(bed.f.alice)
        .challenge(fixedPart, [], funding, "0x", await registrationNow(bed.f.adjudicator, fixedPart)),
      "TurnNumberTooLow",
    );
    const bobBefore = await ethers.provider.getBalance(bed.f.bob.address);
    const startBlock = await ethers.provider.getBlockNumber();
    await payee.redeem(id, { waitFor: (at) => networkHelpers.time.increaseTo(at) });
    const [finalizedEvent] = await bed.f.adjudicator.queryFilter(bed.f.adjudicator.filters.ChallengeRegistered(id));
    expect(finalizedEvent.args.finalizesAt).to.equal(deadline);
    expect(await receivedSince(bed.f.bob.address, bobBefore, startBlock)).to.equal(PAID);
  });
});

/** `vp` registered by the payee sending it itself: its signature slot stays empty and is never published. */
function sentByPayee(vp: VariablePart): SignedVariablePart {
  return toSigned(vp, new Map([[1, "0x"]]));
}

async function expectRevert(call: Promise<unknown>, errorName: string) {
  try {
    await call;
  } catch (error) {
    expect(String((error as Error).message)).to.include(errorName);
    return;
  }
  expect.fail(`expected a revert with ${errorName}`);
}
