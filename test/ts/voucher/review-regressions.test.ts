// A review of the ADR 0005 redesign tried these attacks on the dispute game; they held, and stay as regressions.
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import { findRegistration, NO_REGISTRATION, signChallenge, stateHash } from "../../../sdk/index.js";
import { ethers, ethState, networkHelpers, signed, voucherState } from "../helpers/fixtures.js";
import { registrationNow } from "../helpers/registration.js";
import { challengeAs, DEPOSIT, fundedVoucherChannel, PAYEE, sentByParticipant } from "./helpers.js";

const { loadFixture, time } = networkHelpers;
const X = parseEther("0.3");
const Y = parseEther("0.5");

async function expectRevert(call: Promise<unknown>, errorName: string) {
  try {
    await call;
  } catch (error) {
    expect(String((error as Error).message)).to.include(errorName);
    return;
  }
  expect.fail(`expected a revert with ${errorName}`);
}

describe("review: the dispute game under attack", function () {
  it("a conclude during a challenge ends the game at once; nothing answers it and it pays the final state only", async function () {
    const c = await loadFixture(fundedVoucherChannel);
    // The payee registers its largest voucher Y, then concludes with the payer's countersigned close offer for X.
    await challengeAs(
      c,
      c.bob,
      [c.fundingSigned],
      sentByParticipant(await voucherState(c.alice, c.id, c.funding, 2n, Y), PAYEE),
    );
    const final = ethState(c.alice.address, c.bob.address, 3n, DEPOSIT - X, X, { isFinal: true });
    const finalSigned = await signed(c.fixedPart, c.id, final, [c.alice, c.bob]);
    await expectRevert(
      c.adjudicator.connect(c.bob).concludeAndTransferAllAssets(c.fixedPart, finalSigned),
      "ChallengeOngoing",
    );
    await c.adjudicator
      .connect(c.bob)
      .conclude(c.fixedPart, finalSigned, await registrationNow(c.adjudicator, c.fixedPart));
    const after = await findRegistration(c.adjudicator, c.id, [final]);
    if (!after) throw new Error("the concluded state is not found");
    const later = sentByParticipant(await voucherState(c.alice, c.id, c.funding, 9n, Y), PAYEE);
    await expectRevert(challengeAs(c, c.bob, [c.fundingSigned], later), "ChannelFinalized");
    await expectRevert(
      c.adjudicator.connect(c.bob).respond(c.fixedPart, c.id, final, later, after.heldEth),
      "ChannelFinalized",
    );
    await expectRevert(
      c.adjudicator
        .connect(c.bob)
        .conclude(c.fixedPart, finalSigned, await registrationNow(c.adjudicator, c.fixedPart)),
      "ChannelFinalized",
    );
    const bobBefore = await ethers.provider.getBalance(c.bob.address);
    const aliceBefore = await ethers.provider.getBalance(c.alice.address);
    await c.adjudicator.connect(c.carol).transferAllAssets(c.id, stateHash(c.id, final), after.owed, after.heldEth);
    expect((await ethers.provider.getBalance(c.bob.address)) - bobBefore).to.equal(X);
    expect((await ethers.provider.getBalance(c.alice.address)) - aliceBefore).to.equal(DEPOSIT - X);
  });

  it("a watchtower's challenge signature registers only the state it names, and only a participant's counts", async function () {
    const c = await loadFixture(fundedVoucherChannel);
    const carol = c.adjudicator.connect(c.carol);
    const none = await registrationNow(c.adjudicator, c.fixedPart);
    const byCarol = await signChallenge(c.carol, stateHash(c.id, c.funding));
    await expectRevert(carol.challenge(c.fixedPart, [], c.fundingSigned, byCarol, none), "NotAParticipant");
    // The payer authorizes a challenge of the funding state; it cannot carry a voucher state she never chose.
    const byAlice = await signChallenge(c.alice, stateHash(c.id, c.funding));
    const vp = await voucherState(c.alice, c.id, c.funding, 2n, X);
    const bobSigned = await signed(c.fixedPart, c.id, vp, [c.bob]);
    await expectRevert(carol.challenge(c.fixedPart, [c.fundingSigned], bobSigned, byAlice, none), "NotAParticipant");
    await carol.challenge(c.fixedPart, [], c.fundingSigned, byAlice, none);
    // Replaying the same authorization during the challenge is refused (the turn must rise).
    await expectRevert(
      carol.challenge(c.fixedPart, [], c.fundingSigned, byAlice, await registrationNow(c.adjudicator, c.fixedPart)),
      "TurnNumberTooLow",
    );
  });

  for (const [duration, clamped] of [
    [0n, 10n],
    [(1n << 48n) - 1n, 365n * 24n * 3600n],
  ] as const) {
    it(`a channel funded with challenge duration ${duration} is challenged for ${clamped} s and pays out`, async function () {
      const c = await loadFixture(fundedVoucherChannel);
      const { fixedPart, id } = c.channel({ challengeDuration: duration });
      await c.adjudicator.connect(c.alice).deposit(ZeroAddress, id, 0n, DEPOSIT, { value: DEPOSIT });
      const funding = ethState(c.alice.address, c.bob.address, 0n, DEPOSIT, 0n);
      const fundingSigned = await signed(fixedPart, id, funding, [c.alice, c.bob]);
      await c.adjudicator.connect(c.alice).challenge(fixedPart, [], fundingSigned, "0x", NO_REGISTRATION);
      const [, finalizesAt] = await c.adjudicator.statusOf(id);
      expect(finalizesAt - BigInt(await time.latest())).to.equal(clamped);
      await time.increaseTo(finalizesAt);
      const before = await ethers.provider.getBalance(c.alice.address);
      await c.adjudicator.connect(c.carol).transferAllAssets(id, stateHash(id, funding), funding.outcome, DEPOSIT);
      expect((await ethers.provider.getBalance(c.alice.address)) - before).to.equal(DEPOSIT);
    });
  }
});
