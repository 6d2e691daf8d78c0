// The three holes an outside review found in the dispute game (docs/security.md rows 29 and 30), each as the attack
// itself: a hostile participant keeps every signature it saw, builds states from them and calls the adjudicator
// directly. Each test fails on the contracts before ADR 0005 and passes after it. Balances are read from the chain: the
// payout is sent by carol, so alice's and bob's balance changes are exactly what the adjudicator paid them.
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import {
  findRegistration,
  registrationOf,
  type SignedVariablePart,
  stateHash,
  type VariablePart,
} from "../../../sdk/index.js";
import { DURATION, ethers, ethState, networkHelpers, signed, voucherState } from "../helpers/fixtures.js";
import { registrationNow } from "../helpers/registration.js";
import {
  challengeAs,
  checkpointAs,
  DEPOSIT,
  fundedVoucherChannel,
  PAYEE,
  sentByParticipant,
  type VoucherChannel,
} from "./helpers.js";

const { loadFixture, time } = networkHelpers;

const X = parseEther("0.3");
/** The turn of the payer's close offer (the SDK's: the funding turn + 2). */
const FINAL_TURN = 3n;

/** The payer's close offer for `X`, countersigned by the payee: a final state both signed. */
async function countersignedClose(
  c: VoucherChannel,
): Promise<{ final: VariablePart; finalSigned: SignedVariablePart }> {
  const final = ethState(c.alice.address, c.bob.address, FINAL_TURN, DEPOSIT - X, X, { isFinal: true });
  return { final, finalSigned: await signed(c.fixedPart, c.id, final, [c.alice, c.bob]) };
}

/** The payee's voucher state for `X` built on top of `base`, one turn later, "signed" by the payee sending it. */
async function voucherOnTop(c: VoucherChannel, base: VariablePart, turnNum = base.turnNum + 1n) {
  const vp = await voucherState(c.alice, c.id, { ...base, isFinal: false }, turnNum, X);
  return sentByParticipant(vp, PAYEE);
}

/** Pays out whatever the chain has registered, found from events as a counterparty would; sent by carol. */
async function payOutRegistered(c: VoucherChannel) {
  const found = await findRegistration(c.adjudicator, c.id);
  if (!found) throw new Error("no registered state found from the events");
  return c.adjudicator
    .connect(c.carol)
    .transferAllAssets(c.id, stateHash(c.id, found.variablePart), found.owed, found.heldEth);
}

/** The payee, honestly, enforces its voucher for `X` on top of the funding state; it finalizes; carol pays out. */
async function expectHonestExitPaysX(c: VoucherChannel) {
  const [, finalizesAt] = await c.adjudicator.statusOf(c.id);
  if (finalizesAt === 0n) {
    const vp = await voucherState(c.alice, c.id, c.funding, 2n, X);
    await challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(vp, PAYEE));
  }
  await time.increaseTo((await c.adjudicator.statusOf(c.id))[1]);
  await expect(payOutRegistered(c)).to.changeEtherBalances(
    ethers,
    [c.alice, c.bob, c.adjudicator],
    [DEPOSIT - X, X, -DEPOSIT],
  );
}

describe("Attacks on the dispute game (security rows 29, 30)", () => {
  describe("hole 1: the payee builds on the payer's final state to be paid twice", () => {
    it("a challenge whose proof is the countersigned final state is refused; the payee still gets exactly X", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      const { final, finalSigned } = await countersignedClose(c);
      await expect(challengeAs(c, c.bob, [finalSigned], await voucherOnTop(c, final)))
        .to.be.revertedWithCustomError(c.adjudicator, "StateIsFinal")
        .withArgs(FINAL_TURN);
      // The app refuses it on its own too (the Solidity mirror of the SDK's rule).
      await expect(
        c.app.requireStateSupported(c.fixedPart, c.id, [finalSigned], await voucherOnTop(c, final)),
      ).to.be.revertedWithCustomError(c.app, "BaseIsFinal");
      await expectHonestExitPaysX(c);
    });

    it("a challenge with the final state itself, then a respond with X on top, is refused; X once", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      const { final, finalSigned } = await countersignedClose(c);
      const challenge = challengeAs(c, c.bob, [], sentByParticipant(final, PAYEE));
      await expect(challenge).to.be.revertedWithCustomError(c.adjudicator, "StateIsFinal").withArgs(FINAL_TURN);
      await expect(challengeAs(c, c.bob, [], finalSigned))
        .to.be.revertedWithCustomError(c.adjudicator, "StateIsFinal")
        .withArgs(FINAL_TURN);
      // Even given a final state as the state responded to, the app refuses the move.
      await expect(
        c.app.requireValidTransition(c.fixedPart, c.id, final, await voucherOnTop(c, final)),
      ).to.be.revertedWithCustomError(c.app, "BaseIsFinal");
      await expectHonestExitPaysX(c);
    });

    it("a checkpoint whose proof is the final state is refused, during a challenge as on an open channel", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      const { final, finalSigned } = await countersignedClose(c);
      // The payer challenges with the funding state; the payee answers with X on top of the final state.
      await challengeAs(c, c.alice, [], c.fundingSigned);
      await expect(checkpointAs(c, c.bob, [finalSigned], await voucherOnTop(c, final)))
        .to.be.revertedWithCustomError(c.adjudicator, "StateIsFinal")
        .withArgs(FINAL_TURN);
      // Its honest answer, X on top of the funding state, is taken; the payer's deadline stays.
      const vp = await voucherState(c.alice, c.id, c.funding, 2n, X);
      await checkpointAs(c, c.bob, [c.fundingSigned], sentByParticipant(vp, PAYEE));
      await expectHonestExitPaysX(c);
    });

    it("the payee concluding with the final state it countersigned is paid X, once", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      const { finalSigned } = await countersignedClose(c);
      await expect(
        c.adjudicator.connect(c.carol).concludeAndTransferAllAssets(c.fixedPart, finalSigned),
      ).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [DEPOSIT - X, X, -DEPOSIT]);
      await expect(
        challengeAs(c, c.bob, [c.fundingSigned], await voucherOnTop(c, c.funding)),
      ).to.be.revertedWithCustomError(c.adjudicator, "ChannelFinalized");
    });
  });

  describe("hole 2: the payee locks the payer out by raising the turn record with a state only it holds", () => {
    it("a checkpoint of an open channel is refused: the payer's challenge with the funding state still works", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      const vp = await voucherState(c.alice, c.id, c.funding, 9n, X);
      await expect(checkpointAs(c, c.bob, [c.fundingSigned], sentByParticipant(vp, PAYEE)))
        .to.be.revertedWithCustomError(c.adjudicator, "NoOngoingChallenge")
        .withArgs(c.id);
      // The payer exits with what she holds: the funding state, finalized one duration later, her deposit back.
      await challengeAs(c, c.alice, [], c.fundingSigned);
      await time.increase(DURATION);
      await expect(payOutRegistered(c)).to.changeEtherBalances(ethers, [c.alice, c.bob], [DEPOSIT, 0n]);
    });

    it("a respond with an empty payee slot does not reopen the channel: it finalizes at the payer's deadline", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      await challengeAs(c, c.alice, [], c.fundingSigned);
      const [, deadline] = await c.adjudicator.statusOf(c.id);
      const vp = await voucherState(c.alice, c.id, c.funding, 2n, X);
      await c.adjudicator
        .connect(c.bob)
        .respond(
          c.fixedPart,
          c.id,
          c.funding,
          sentByParticipant(vp, PAYEE),
          (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
        );
      // Still under challenge, same deadline; the response is public in its event.
      const [record, finalizesAt] = await c.adjudicator.statusOf(c.id);
      expect([record, finalizesAt]).to.deep.equal([2n, deadline]);
      const found = await findRegistration(c.adjudicator, c.id);
      expect(found && stateHash(c.id, found.variablePart)).to.equal(stateHash(c.id, vp));
      await time.increaseTo(deadline);
      expect(await c.adjudicator.isFinalized(c.id)).to.equal(true);
      await expect(payOutRegistered(c)).to.changeEtherBalances(ethers, [c.alice, c.bob], [DEPOSIT - X, X]);
    });

    it("a checkpoint with an empty payee slot during a challenge registers the state publicly, same deadline", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      await challengeAs(c, c.alice, [], c.fundingSigned);
      const [, deadline] = await c.adjudicator.statusOf(c.id);
      const vp = await voucherState(c.alice, c.id, c.funding, 7n, X);
      await checkpointAs(c, c.bob, [c.fundingSigned], sentByParticipant(vp, PAYEE));
      expect((await c.adjudicator.statusOf(c.id))[1]).to.equal(deadline);
      const found = await findRegistration(c.adjudicator, c.id);
      if (!found) throw new Error("the checkpointed state is not public");
      await time.increaseTo(deadline);
      await expect(
        c.adjudicator
          .connect(c.carol)
          .transferAllAssets(
            c.id,
            stateHash(c.id, found.variablePart),
            found.owed,
            registrationOf(c.id, found).heldEth,
          ),
      ).to.changeEtherBalances(ethers, [c.alice, c.bob], [DEPOSIT - X, X]);
    });
  });

  describe("hole 3: the payee re-challenges before each deadline to delay the payer's exit", () => {
    it("ten re-challenges at turn + 1 with the same voucher leave the first deadline where it was", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      await challengeAs(c, c.alice, [], c.fundingSigned);
      const [, deadline] = await c.adjudicator.statusOf(c.id);
      for (let turn = 2n; turn < 12n; turn++) {
        await time.setNextBlockTimestamp(deadline - 12n + turn);
        const vp = await voucherState(c.alice, c.id, c.funding, turn, X);
        await challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(vp, PAYEE));
        expect((await c.adjudicator.statusOf(c.id))[1], `after re-challenge at turn ${turn}`).to.equal(deadline);
      }
      await time.increaseTo(deadline);
      expect(await c.adjudicator.isFinalized(c.id)).to.equal(true);
      await expect(payOutRegistered(c)).to.changeEtherBalances(ethers, [c.alice, c.bob], [DEPOSIT - X, X]);
    });

    it("the payee's own challenge cannot be renewed, by re-challenges or by a chain of responses", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      let registered = await voucherState(c.alice, c.id, c.funding, 2n, X);
      await challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(registered, PAYEE));
      const [, deadline] = await c.adjudicator.statusOf(c.id);
      for (let turn = 3n; turn < 13n; turn++) {
        await time.setNextBlockTimestamp(deadline - 13n + turn);
        // The same voucher again, one turn later: it moves nothing more.
        const next = await voucherState(c.alice, c.id, registered, turn, X, X);
        const { heldEth } = await registrationNow(c.adjudicator, c.fixedPart);
        await c.adjudicator
          .connect(c.bob)
          .respond(c.fixedPart, c.id, registered, sentByParticipant(next, PAYEE), heldEth);
        registered = next;
        expect((await c.adjudicator.statusOf(c.id))[1], `after the response at turn ${turn}`).to.equal(deadline);
      }
      await time.increaseTo(deadline);
      await expect(payOutRegistered(c)).to.changeEtherBalances(ethers, [c.alice, c.bob], [DEPOSIT - X, X]);
    });

    it("a hostile payer cannot renew the clock either: her states are older than the payee's answer", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      await challengeAs(c, c.alice, [], c.fundingSigned);
      const [, deadline] = await c.adjudicator.statusOf(c.id);
      const vp = await voucherState(c.alice, c.id, c.funding, 2n, X);
      await challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(vp, PAYEE));
      await expect(challengeAs(c, c.alice, [], c.fundingSigned)).to.be.revertedWithCustomError(
        c.adjudicator,
        "TurnNumberTooLow",
      );
      expect((await c.adjudicator.statusOf(c.id))[1]).to.equal(deadline);
      await time.increaseTo(deadline);
      await expect(payOutRegistered(c)).to.changeEtherBalances(ethers, [c.alice, c.bob], [DEPOSIT - X, X]);
    });
  });

  describe("also found: a channel whose challenge duration is out of range", () => {
    for (const [what, duration, bound] of [
      ["0", 0n, 10n],
      ["1 s", 1n, 10n],
      ["above 365 days", 365n * 86400n + 1n, 365n * 86400n],
      ["2^48 - 1", 2n ** 48n - 1n, 365n * 86400n],
    ] as const) {
      it(`a duration of ${what}: the deposit is still exitable by challenge, clamped to ${bound} s`, async () => {
        const c = await loadFixture(fundedVoucherChannel);
        const { fixedPart, id } = c.channel({ challengeDuration: duration, channelNonce: 99n });
        await c.adjudicator.connect(c.alice).deposit(ZeroAddress, id, 0n, DEPOSIT, { value: DEPOSIT });
        const funding = ethState(c.alice.address, c.bob.address, 1n, DEPOSIT, 0n);
        await c.adjudicator
          .connect(c.alice)
          .challenge(
            fixedPart,
            [],
            await signed(fixedPart, id, funding, [c.alice, c.bob]),
            "0x",
            await registrationNow(c.adjudicator, fixedPart),
          );
        const challengedAt = BigInt(await time.latest());
        expect((await c.adjudicator.statusOf(id))[1]).to.equal(challengedAt + bound);
        await time.increaseTo(challengedAt + bound);
        await expect(
          c.adjudicator.connect(c.carol).transferAllAssets(id, stateHash(id, funding), funding.outcome, DEPOSIT),
        ).to.changeEtherBalances(ethers, [c.alice, c.bob], [DEPOSIT, 0n]);
      });
    }
  });
});
