// checkpoint and respond (docs/security.md row 4, ADR 0005): during a challenge, a newer supported state replaces the
// registered one before finalizesAt and keeps the deadline, so at finalizesAt the newer state's outcome is paid; at
// finalizesAt the answer is refused and the registered outcome is paid. An open channel has nothing to answer: both
// revert NoOngoingChallenge, and the record stays where the funding state can still challenge. respond is built from
// nothing but the ChallengeRegistered event, as a watcher would do. The channel is [alice = payer, bob = payee] in the
// voucher app, holding alice's 1 ETH.
import { expect } from "chai";
import { parseEther } from "ethers";
import { stateHash, type VariablePart, variablePartFromEvent } from "../../../sdk/index.js";
import { DURATION, ethers, networkHelpers, signed, voucherState } from "../helpers/fixtures.js";
import { committedEthFor, ethHeldNow, registrationNow } from "../helpers/registration.js";
import {
  BOB,
  DEPOSIT,
  type Funded,
  fingerprintOf,
  fundedFixture,
  payOut,
  sameVariablePart,
  sentByParticipant,
  toPlain,
} from "./helpers.js";

const { loadFixture, time } = networkHelpers;
const HALF = parseEther("0.5");
const VOUCHER = parseEther("0.3");

/** Alice challenges with the funding state (turn 1: all 1 ETH to alice), signed by both. */
async function staleChallenge(c: Funded): Promise<VariablePart> {
  const funding = c.state(1n, DEPOSIT, 0n);
  await c.adjudicator
    .connect(c.alice)
    .challenge(c.fixedPart, [], await c.byBoth(funding), "0x", await registrationNow(c.adjudicator, c.fixedPart));
  return funding;
}

/** The variable part registered by the latest challenge of `c`, read back from its ChallengeRegistered event. */
async function registeredFromEvent(c: Funded): Promise<{ candidate: VariablePart; finalizesAt: bigint }> {
  const events = await c.adjudicator.queryFilter(c.adjudicator.filters.ChallengeRegistered(c.id));
  const { args } = events[events.length - 1];
  return { candidate: toPlain(variablePartFromEvent(args)), finalizesAt: args.finalizesAt };
}

describe("Adjudicator.checkpoint", () => {
  describe("when the channel is open (ADR 0005: nothing raises the record of an open channel)", () => {
    it("a newer state signed by both: NoOngoingChallenge; the record stays 0, nothing registered or paid", async () => {
      const c = await loadFixture(fundedFixture);
      await expect(
        c.adjudicator
          .connect(c.carol)
          .checkpoint(
            c.fixedPart,
            [],
            await c.byBoth(c.state(4n, HALF, HALF)),
            await registrationNow(c.adjudicator, c.fixedPart),
          ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "NoOngoingChallenge")
        .withArgs(c.id);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([0n, 0n, 0n]);
      expect(await c.adjudicator.isFinalized(c.id)).to.equal(false);
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
      // So alice can still exit with the funding state (turn 1) she holds: at the deadline she gets her 1 ETH.
      const funding = await staleChallenge(c);
      await time.increase(DURATION);
      await expect(payOut(c, funding, c.carol)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [DEPOSIT, 0n, -DEPOSIT],
      );
    });

    it("a voucher state the payee alone signed (funding state as proof): NoOngoingChallenge, the record stays 0", async () => {
      const c = await loadFixture(fundedFixture);
      const funding = c.state(1n, DEPOSIT, 0n);
      const vp = await voucherState(c.alice, c.id, funding, 9n, VOUCHER);
      await expect(
        c.adjudicator
          .connect(c.bob)
          .checkpoint(
            c.fixedPart,
            [await c.byBoth(funding)],
            sentByParticipant(vp, BOB),
            await registrationNow(c.adjudicator, c.fixedPart),
          ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "NoOngoingChallenge")
        .withArgs(c.id);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([0n, 0n, 0n]);
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
    });
  });

  describe("when a stale challenge is ongoing (security row 4)", () => {
    it("at finalizesAt - 1, a newer state replaces the registered one and keeps the deadline; at finalizesAt its outcome is paid (0.5 each), never the stale one", async () => {
      const c = await loadFixture(fundedFixture);
      const stale = await staleChallenge(c);
      const [, finalizesAt] = await c.adjudicator.statusOf(c.id);
      const newer = c.state(2n, HALF, HALF);
      const newerSigned = await c.byBoth(newer);
      await time.setNextBlockTimestamp(finalizesAt - 1n);
      const tx = c.adjudicator
        .connect(c.bob)
        .checkpoint(c.fixedPart, [], newerSigned, await registrationNow(c.adjudicator, c.fixedPart));
      await expect(tx)
        .to.emit(c.adjudicator, "ChallengeRegistered")
        .withArgs(c.id, finalizesAt, ...sameVariablePart(newer), DEPOSIT);
      await expect(tx).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [0n, 0n, 0n]);
      // Still under challenge, with the same deadline: no reopening, no new clock.
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([2n, finalizesAt, fingerprintOf(c.id, newer)]);
      expect(await c.adjudicator.isFinalized(c.id)).to.equal(false);
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
      await time.increaseTo(finalizesAt);
      expect(await c.adjudicator.isFinalized(c.id)).to.equal(true);
      await expect(payOut(c, stale, c.alice))
        .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
        .withArgs(c.id);
      await expect(payOut(c, newer, c.carol)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [HALF, HALF, -DEPOSIT],
      );
    });

    it("at finalizesAt, a newer state: ChannelFinalized; the stale outcome is paid (alice gets the 1 ETH)", async () => {
      const c = await loadFixture(fundedFixture);
      const stale = await staleChallenge(c);
      const [, finalizesAt] = await c.adjudicator.statusOf(c.id);
      const newer = await c.byBoth(c.state(2n, 0n, DEPOSIT));
      await time.setNextBlockTimestamp(finalizesAt);
      await expect(
        c.adjudicator
          .connect(c.bob)
          .checkpoint(c.fixedPart, [], newer, await registrationNow(c.adjudicator, c.fixedPart)),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "ChannelFinalized")
        .withArgs(c.id);
      await expect(payOut(c, stale, c.alice)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [DEPOSIT, 0n, -DEPOSIT],
      );
    });

    it("a state with the challenged turn number: TurnNumberTooLow, the challenge and its clock stay", async () => {
      const c = await loadFixture(fundedFixture);
      await staleChallenge(c);
      const before = await c.adjudicator.statusOf(c.id);
      await expect(
        c.adjudicator
          .connect(c.bob)
          .checkpoint(
            c.fixedPart,
            [],
            await c.byBoth(c.state(1n, 0n, DEPOSIT)),
            await registrationNow(c.adjudicator, c.fixedPart),
          ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
        .withArgs(c.id, 1n, 1n);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal(before);
    });

    it("after a checkpoint to turn 4, a state with turn 4 or below: TurnNumberTooLow(4, turnNum); turn 4 is paid at the deadline", async () => {
      const c = await loadFixture(fundedFixture);
      await staleChallenge(c);
      const [, finalizesAt] = await c.adjudicator.statusOf(c.id);
      const registered = c.state(4n, HALF, HALF);
      await c.adjudicator.checkpoint(
        c.fixedPart,
        [],
        await c.byBoth(registered),
        await registrationNow(c.adjudicator, c.fixedPart),
      );
      const before = await c.adjudicator.statusOf(c.id);
      expect(before).to.deep.equal([4n, finalizesAt, fingerprintOf(c.id, registered)]);
      for (const turnNum of [4n, 3n]) {
        await expect(
          c.adjudicator.checkpoint(
            c.fixedPart,
            [],
            await c.byBoth(c.state(turnNum, 0n, DEPOSIT)),
            await registrationNow(c.adjudicator, c.fixedPart),
          ),
        )
          .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
          .withArgs(c.id, 4n, turnNum);
      }
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal(before);
      await time.increaseTo(finalizesAt);
      await expect(payOut(c, registered, c.carol)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [HALF, HALF, -DEPOSIT],
      );
    });

    it("turn 0 during a challenge at turn 0 (record 0): TurnNumberTooLow(0, 0)", async () => {
      const c = await loadFixture(fundedFixture);
      await c.adjudicator
        .connect(c.alice)
        .challenge(
          c.fixedPart,
          [],
          await c.byBoth(c.state(0n, DEPOSIT, 0n)),
          "0x",
          await registrationNow(c.adjudicator, c.fixedPart),
        );
      const before = await c.adjudicator.statusOf(c.id);
      expect(before[0]).to.equal(0n);
      await expect(
        c.adjudicator.checkpoint(
          c.fixedPart,
          [],
          await c.byBoth(c.state(0n, HALF, HALF)),
          await registrationNow(c.adjudicator, c.fixedPart),
        ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
        .withArgs(c.id, 0n, 0n);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal(before);
    });

    it("a final state, even signed by both: StateIsFinal(turn) (only conclude takes it); the registered state and clock stay", async () => {
      const c = await loadFixture(fundedFixture);
      const stale = await staleChallenge(c);
      const before = await c.adjudicator.statusOf(c.id);
      await expect(
        c.adjudicator
          .connect(c.bob)
          .checkpoint(
            c.fixedPart,
            [],
            await c.byBoth(c.state(2n, HALF, HALF, { isFinal: true })),
            await registrationNow(c.adjudicator, c.fixedPart),
          ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "StateIsFinal")
        .withArgs(2n);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal(before);
      await time.increase(DURATION);
      await expect(payOut(c, stale, c.carol)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [DEPOSIT, 0n, -DEPOSIT],
      );
    });

    it("a voucher state supported by the app (payee alone, funding state as proof): registered in its place, same deadline; bob gets his 0.3 ETH at it", async () => {
      const c = await loadFixture(fundedFixture);
      const funding = await staleChallenge(c);
      const [, finalizesAt] = await c.adjudicator.statusOf(c.id);
      const vp = await voucherState(c.alice, c.id, funding, 2n, VOUCHER);
      await expect(
        c.adjudicator
          .connect(c.bob)
          .checkpoint(
            c.fixedPart,
            [await c.byBoth(funding)],
            sentByParticipant(vp, BOB),
            await registrationNow(c.adjudicator, c.fixedPart),
          ),
      )
        .to.emit(c.adjudicator, "ChallengeRegistered")
        .withArgs(c.id, finalizesAt, ...sameVariablePart(vp), DEPOSIT);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([2n, finalizesAt, fingerprintOf(c.id, vp)]);
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
      await time.increaseTo(finalizesAt);
      await expect(payOut(c, vp, c.carol)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [DEPOSIT - VOUCHER, VOUCHER, -DEPOSIT],
      );
    });
  });
});

describe("Adjudicator.respond", () => {
  describe("when built from the ChallengeRegistered event alone", () => {
    it("the payee answers alice's stale challenge with the next voucher state: registered in its place, same deadline; bob gets his 0.3 ETH at it", async () => {
      const c = await loadFixture(fundedFixture);
      const funding = await staleChallenge(c);

      // Everything the payee needs is in the event: the state to respond to and its turn number.
      const { candidate: challenged, finalizesAt } = await registeredFromEvent(c);
      expect(challenged).to.deep.equal(toPlain(funding));
      expect(finalizesAt).to.equal((await c.adjudicator.statusOf(c.id))[1]);
      const response = await voucherState(c.alice, c.id, challenged, challenged.turnNum + 1n, VOUCHER);
      const tx = c.adjudicator
        .connect(c.bob)
        .respond(
          c.fixedPart,
          c.id,
          challenged,
          sentByParticipant(response, BOB),
          (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
        );
      await expect(tx)
        .to.emit(c.adjudicator, "ChallengeRegistered")
        .withArgs(c.id, finalizesAt, ...sameVariablePart(response), DEPOSIT);
      await expect(tx).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [0n, 0n, 0n]);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([2n, finalizesAt, fingerprintOf(c.id, response)]);
      // The response is the next registered state, and the event names it like a challenge does.
      expect((await registeredFromEvent(c)).candidate).to.deep.equal(toPlain(response));

      // The response is already registered: the payee needs no challenge of its own (nor could it repeat the turn).
      await expect(
        c.adjudicator
          .connect(c.bob)
          .challenge(
            c.fixedPart,
            [await c.byBoth(funding)],
            sentByParticipant(response, BOB),
            "0x",
            await registrationNow(c.adjudicator, c.fixedPart),
          ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
        .withArgs(c.id, 2n, 2n);
      await time.increaseTo(finalizesAt);
      await expect(payOut(c, response, c.carol)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [DEPOSIT - VOUCHER, VOUCHER, -DEPOSIT],
      );
    });

    it("the event also names what a payout after the timeout presents: the state hash and outcome (alice gets 1 ETH)", async () => {
      const c = await loadFixture(fundedFixture);
      await staleChallenge(c);
      const { candidate } = await registeredFromEvent(c);
      expect((await c.adjudicator.statusOf(c.id))[2]).to.equal(fingerprintOf(c.id, candidate));
      await time.increase(DURATION);
      await expect(
        c.adjudicator.transferAllAssets(
          c.id,
          stateHash(c.id, candidate),
          candidate.outcome,
          await committedEthFor(c.adjudicator, c.id, stateHash(c.id, candidate), candidate.outcome),
        ),
      ).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [DEPOSIT, 0n, -DEPOSIT]);
    });

    it("a watchtower sends the payee's signed response: registered with the same deadline, the watchtower moves no funds", async () => {
      const c = await loadFixture(fundedFixture);
      await staleChallenge(c);
      const { candidate: challenged, finalizesAt } = await registeredFromEvent(c);
      const response = await voucherState(c.alice, c.id, challenged, 2n, VOUCHER);
      const tx = c.adjudicator
        .connect(c.carol)
        .respond(
          c.fixedPart,
          c.id,
          challenged,
          await signed(c.fixedPart, c.id, response, [c.bob]),
          (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
        );
      await expect(tx)
        .to.emit(c.adjudicator, "ChallengeRegistered")
        .withArgs(c.id, finalizesAt, ...sameVariablePart(response), DEPOSIT);
      await expect(tx).to.changeEtherBalances(ethers, [c.carol, c.adjudicator], [0n, 0n]);
      await time.increaseTo(finalizesAt);
      await expect(payOut(c, response, c.carol)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.carol],
        [DEPOSIT - VOUCHER, VOUCHER, 0n],
      );
    });
  });

  describe("when the response cannot be accepted (nothing changes, the challenge keeps its clock)", () => {
    async function rejected(
      c: Funded,
      call: Promise<unknown>,
      error: string,
      args: unknown[],
      on: { interface: unknown } = c.adjudicator,
    ) {
      const before = await c.adjudicator.statusOf(c.id);
      await expect(call)
        .to.be.revertedWithCustomError(on, error)
        .withArgs(...args);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal(before);
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
    }

    it("no challenge is ongoing: NoOngoingChallenge", async () => {
      const c = await loadFixture(fundedFixture);
      const funding = c.state(1n, DEPOSIT, 0n);
      const response = await voucherState(c.alice, c.id, funding, 2n, VOUCHER);
      await rejected(
        c,
        c.adjudicator
          .connect(c.bob)
          .respond(
            c.fixedPart,
            c.id,
            funding,
            sentByParticipant(response, BOB),
            (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
          ),
        "NoOngoingChallenge",
        [c.id],
      );
    });

    it("the challenge has finalized: ChannelFinalized", async () => {
      const c = await loadFixture(fundedFixture);
      const funding = await staleChallenge(c);
      await time.increase(DURATION);
      const response = await voucherState(c.alice, c.id, funding, 2n, VOUCHER);
      await rejected(
        c,
        c.adjudicator
          .connect(c.bob)
          .respond(
            c.fixedPart,
            c.id,
            funding,
            sentByParticipant(response, BOB),
            (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
          ),
        "ChannelFinalized",
        [c.id],
      );
    });

    for (const turnNum of [1n, 3n, 0n]) {
      it(`the response has turn ${turnNum}, not record + 1 = 2: TurnNumberNotNext(1, ${turnNum})`, async () => {
        const c = await loadFixture(fundedFixture);
        const funding = await staleChallenge(c);
        const response = await voucherState(c.alice, c.id, funding, turnNum, VOUCHER);
        await rejected(
          c,
          c.adjudicator
            .connect(c.bob)
            .respond(
              c.fixedPart,
              c.id,
              funding,
              sentByParticipant(response, BOB),
              (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
            ),
          "TurnNumberNotNext",
          [c.id, 1n, turnNum],
        );
      });
    }

    it("the challenged state given is not the registered one: FingerprintMismatch", async () => {
      const c = await loadFixture(fundedFixture);
      await staleChallenge(c);
      // A made-up "challenged" state with bob's allocation already raised.
      const fake = c.state(1n, HALF, HALF);
      const response = await voucherState(c.alice, c.id, fake, 2n, VOUCHER);
      await rejected(
        c,
        c.adjudicator
          .connect(c.bob)
          .respond(
            c.fixedPart,
            c.id,
            fake,
            sentByParticipant(response, BOB),
            (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
          ),
        "FingerprintMismatch",
        [c.id],
      );
    });

    it("the response is final, even signed by both: StateIsFinal(2) (only conclude takes a final state)", async () => {
      const c = await loadFixture(fundedFixture);
      const funding = await staleChallenge(c);
      const response = { ...(await voucherState(c.alice, c.id, funding, 2n, VOUCHER)), isFinal: true };
      await rejected(
        c,
        c.adjudicator
          .connect(c.bob)
          .respond(
            c.fixedPart,
            c.id,
            funding,
            await c.byBoth(response),
            (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
          ),
        "StateIsFinal",
        [2n],
      );
    });

    it("the payee's empty signature while a stranger sends it: InvalidSignature(1)", async () => {
      const c = await loadFixture(fundedFixture);
      const funding = await staleChallenge(c);
      const response = await voucherState(c.alice, c.id, funding, 2n, VOUCHER);
      await rejected(
        c,
        c.adjudicator
          .connect(c.carol)
          .respond(
            c.fixedPart,
            c.id,
            funding,
            sentByParticipant(response, BOB),
            (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
          ),
        "InvalidSignature",
        [BOB],
      );
    });

    it("a move the app refuses (signed by the payer, not the payee): the app's NotSignedByPayee", async () => {
      const c = await loadFixture(fundedFixture);
      const funding = await staleChallenge(c);
      const response = await voucherState(c.alice, c.id, funding, 2n, VOUCHER);
      await rejected(
        c,
        c.adjudicator
          .connect(c.alice)
          .respond(
            c.fixedPart,
            c.id,
            funding,
            await signed(c.fixedPart, c.id, response, [c.alice]),
            (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
          ),
        "NotSignedByPayee",
        [1n],
        c.app,
      );
    });
  });
});
