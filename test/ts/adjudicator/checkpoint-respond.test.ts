// checkpoint and respond (SECURITY row 4): a newer supported state clears a stale challenge before finalizesAt,
// and after it the answer is refused and the registered outcome is paid. respond is built from nothing but the
// ChallengeRegistered event, as a watcher would do. The channel is [alice = payer, bob = payee] in the voucher
// app, holding alice's 1 ETH.
import { expect } from "chai";
import { parseEther } from "ethers";
import { stateHash, type VariablePart } from "../../../sdk/index.js";
import { DURATION, ethers, networkHelpers, signed, voucherState } from "../helpers/fixtures.js";
import { committedEthFor, ethHeldNow, registrationNow } from "../helpers/registration.js";
import {
  BOB,
  DEPOSIT,
  type Funded,
  fingerprintOf,
  fundedFixture,
  payOut,
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
  const { candidate, finalizesAt } = events[events.length - 1].args;
  return { candidate: toPlain(candidate), finalizesAt };
}

describe("Adjudicator.checkpoint", () => {
  describe("when the channel is open", () => {
    it("a newer state signed by both: Checkpointed, the record rises, nothing registered or paid", async () => {
      const c = await loadFixture(fundedFixture);
      const tx = c.adjudicator
        .connect(c.carol)
        .checkpoint(
          c.fixedPart,
          [],
          await c.byBoth(c.state(4n, HALF, HALF)),
          await registrationNow(c.adjudicator, c.fixedPart),
        );
      await expect(tx).to.emit(c.adjudicator, "Checkpointed").withArgs(c.id, 4n);
      await expect(tx).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [0n, 0n, 0n]);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([4n, 0n, 0n]);
      expect(await c.adjudicator.isFinalized(c.id)).to.equal(false);
    });

    it("a state with the record's turn number: TurnNumberTooLow(record, turnNum)", async () => {
      const c = await loadFixture(fundedFixture);
      await c.adjudicator.checkpoint(
        c.fixedPart,
        [],
        await c.byBoth(c.state(4n, HALF, HALF)),
        await registrationNow(c.adjudicator, c.fixedPart),
      );
      await expect(
        c.adjudicator.checkpoint(
          c.fixedPart,
          [],
          await c.byBoth(c.state(4n, 0n, DEPOSIT)),
          await registrationNow(c.adjudicator, c.fixedPart),
        ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
        .withArgs(c.id, 4n, 4n);
      await expect(
        c.adjudicator.checkpoint(
          c.fixedPart,
          [],
          await c.byBoth(c.state(3n, 0n, DEPOSIT)),
          await registrationNow(c.adjudicator, c.fixedPart),
        ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
        .withArgs(c.id, 4n, 3n);
    });

    it("turn 0 on a fresh channel (record 0): TurnNumberTooLow(0, 0)", async () => {
      const c = await loadFixture(fundedFixture);
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
    });
  });

  describe("when a stale challenge is ongoing (SECURITY row 4)", () => {
    it("at finalizesAt - 1, a newer state: ChallengeCleared, nothing can be paid, the deposit stays", async () => {
      const c = await loadFixture(fundedFixture);
      await staleChallenge(c);
      const [, finalizesAt] = await c.adjudicator.statusOf(c.id);
      const newer = await c.byBoth(c.state(2n, HALF, HALF));
      await time.setNextBlockTimestamp(finalizesAt - 1n);
      await expect(
        c.adjudicator
          .connect(c.bob)
          .checkpoint(c.fixedPart, [], newer, await registrationNow(c.adjudicator, c.fixedPart)),
      )
        .to.emit(c.adjudicator, "ChallengeCleared")
        .withArgs(c.id, 2n);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([2n, 0n, 0n]);
      await time.increase(DURATION);
      // Open again: the stale outcome is never final.
      await expect(payOut(c, c.state(1n, DEPOSIT, 0n), c.alice))
        .to.be.revertedWithCustomError(c.adjudicator, "ChannelNotFinalized")
        .withArgs(c.id);
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
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

    it("a voucher state supported by the app (payee alone, funding state as proof): cleared", async () => {
      const c = await loadFixture(fundedFixture);
      const funding = await staleChallenge(c);
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
        .to.emit(c.adjudicator, "ChallengeCleared")
        .withArgs(c.id, 2n);
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
    });
  });
});

describe("Adjudicator.respond", () => {
  describe("when built from the ChallengeRegistered event alone", () => {
    it("the payee answers alice's stale challenge with the next voucher state: cleared; bob later gets his 0.3 ETH", async () => {
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
          challenged,
          sentByParticipant(response, BOB),
          (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
        );
      await expect(tx).to.emit(c.adjudicator, "ChallengeCleared").withArgs(c.id, 2n);
      await expect(tx).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [0n, 0n, 0n]);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([2n, 0n, 0n]);

      // The payee registers its voucher state and is paid after the timeout.
      await c.adjudicator
        .connect(c.bob)
        .challenge(
          c.fixedPart,
          [await c.byBoth(funding)],
          sentByParticipant(response, BOB),
          "0x",
          await registrationNow(c.adjudicator, c.fixedPart),
        );
      await time.increase(DURATION);
      await expect(payOut(c, response, c.bob)).to.changeEtherBalances(
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

    it("a watchtower sends the payee's signed response: cleared, the watchtower moves no funds", async () => {
      const c = await loadFixture(fundedFixture);
      await staleChallenge(c);
      const { candidate: challenged } = await registeredFromEvent(c);
      const response = await voucherState(c.alice, c.id, challenged, 2n, VOUCHER);
      const tx = c.adjudicator
        .connect(c.carol)
        .respond(
          c.fixedPart,
          challenged,
          await signed(c.fixedPart, c.id, response, [c.bob]),
          (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
        );
      await expect(tx).to.emit(c.adjudicator, "ChallengeCleared").withArgs(c.id, 2n);
      await expect(tx).to.changeEtherBalances(ethers, [c.carol, c.adjudicator], [0n, 0n]);
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
            fake,
            sentByParticipant(response, BOB),
            (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
          ),
        "FingerprintMismatch",
        [c.id],
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
