// challenge (docs/security.md rows 3 and 4, ADR 0005): who may challenge, with which state and turn number, and until
// when. The first challenge of an open channel starts its only clock; a newer one replaces the registered state and
// keeps the deadline. A refused challenge registers nothing: the status stays as it was and the channel keeps its
// deposit.
import { expect } from "chai";
import { getBytes, hashMessage, parseEther, recoverAddress } from "ethers";
import { challengeHash, signChallenge, stateHash } from "../../../sdk/index.js";
import { DURATION, ethers, networkHelpers, signed } from "../helpers/fixtures.js";
import { ethHeldNow, registrationNow } from "../helpers/registration.js";
import {
  ALICE,
  challengeWith,
  compact,
  DEPOSIT,
  type Funded,
  fingerprintOf,
  fundedFixture,
  highS,
  payOut,
  sameVariablePart,
  sentByParticipant,
  withV,
  ZERO_RECOVERING,
} from "./helpers.js";

const { loadFixture, time } = networkHelpers;
const HALF = parseEther("0.5");

/** The channel's status and ETH holdings, to show that a refused call changed nothing. */
async function snapshot(c: Funded) {
  return [...(await c.adjudicator.statusOf(c.id)), await ethHeldNow(c.adjudicator, c.id)];
}

describe("Adjudicator.challenge", () => {
  describe("when a participant challenges an open channel with a state both signed", () => {
    it("registers it (ChallengeRegistered with the whole variable part); nothing is paid until finalizesAt", async () => {
      const c = await loadFixture(fundedFixture);
      const vp = c.state(3n, parseEther("0.3"), parseEther("0.7"));
      const tx = c.adjudicator
        .connect(c.alice)
        .challenge(c.fixedPart, [], await c.byBoth(vp), "0x", await registrationNow(c.adjudicator, c.fixedPart));
      await expect(tx).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [0n, 0n, 0n]);
      const finalizesAt = BigInt(await time.latest()) + DURATION;
      await expect(tx)
        .to.emit(c.adjudicator, "ChallengeRegistered")
        .withArgs(c.id, finalizesAt, ...sameVariablePart(vp), DEPOSIT);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([3n, finalizesAt, fingerprintOf(c.id, vp)]);
      expect(await c.adjudicator.isFinalized(c.id)).to.equal(false);
      await expect(payOut(c, vp, c.bob))
        .to.be.revertedWithCustomError(c.adjudicator, "ChannelNotFinalized")
        .withArgs(c.id);
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
    });

    it("sent by the other participant (bob): registered the same way", async () => {
      const c = await loadFixture(fundedFixture);
      const vp = c.state(3n, HALF, HALF);
      const tx = await c.adjudicator
        .connect(c.bob)
        .challenge(c.fixedPart, [], await c.byBoth(vp), "0x", await registrationNow(c.adjudicator, c.fixedPart));
      await expect(tx)
        .to.emit(c.adjudicator, "ChallengeRegistered")
        .withArgs(c.id, BigInt(await time.latest()) + DURATION, ...sameVariablePart(vp), DEPOSIT);
      expect((await c.adjudicator.statusOf(c.id))[0]).to.equal(3n);
    });

    it("the challenger's own signature may be empty (ADR 0001): alice sends, bob signed", async () => {
      const c = await loadFixture(fundedFixture);
      const vp = c.state(3n, HALF, HALF);
      const candidate = await signed(c.fixedPart, c.id, vp, [c.bob]);
      const withAlice = { ...candidate, signedBy: 3n, sigs: ["0x", ...candidate.sigs] };
      await c.adjudicator
        .connect(c.alice)
        .challenge(c.fixedPart, [], withAlice, "0x", await registrationNow(c.adjudicator, c.fixedPart));
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([
        3n,
        BigInt(await time.latest()) + DURATION,
        fingerprintOf(c.id, vp),
      ]);
    });
  });

  describe("when someone else sends the challenge (a watchtower)", () => {
    it("with a participant's challenger signature: registered; the watchtower pays only its gas", async () => {
      const c = await loadFixture(fundedFixture);
      const vp = c.state(3n, HALF, HALF);
      const sig = await signChallenge(c.bob, stateHash(c.id, vp));
      const tx = c.adjudicator
        .connect(c.carol)
        .challenge(c.fixedPart, [], await c.byBoth(vp), sig, await registrationNow(c.adjudicator, c.fixedPart));
      await expect(tx).to.changeEtherBalances(ethers, [c.carol, c.adjudicator], [0n, 0n]);
      await expect(tx)
        .to.emit(c.adjudicator, "ChallengeRegistered")
        .withArgs(c.id, BigInt(await time.latest()) + DURATION, ...sameVariablePart(vp), DEPOSIT);
      expect((await c.adjudicator.statusOf(c.id))[0]).to.equal(3n);
    });

    it("without a challenger signature: NotAParticipant(sender), nothing registered", async () => {
      const c = await loadFixture(fundedFixture);
      const before = await snapshot(c);
      await expect(
        c.adjudicator
          .connect(c.carol)
          .challenge(
            c.fixedPart,
            [],
            await c.byBoth(c.state(3n, HALF, HALF)),
            "0x",
            await registrationNow(c.adjudicator, c.fixedPart),
          ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "NotAParticipant")
        .withArgs(c.carol.address);
      expect(await snapshot(c)).to.deep.equal(before);
    });

    it("with a stranger's challenger signature: NotAParticipant(stranger), nothing registered", async () => {
      const c = await loadFixture(fundedFixture);
      const vp = c.state(3n, HALF, HALF);
      const sig = await signChallenge(c.eve, stateHash(c.id, vp));
      await expect(
        c.adjudicator
          .connect(c.carol)
          .challenge(c.fixedPart, [], await c.byBoth(vp), sig, await registrationNow(c.adjudicator, c.fixedPart)),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "NotAParticipant")
        .withArgs(c.eve.address);
    });

    it("with a participant's challenger signature for another state: it recovers to a stranger, NotAParticipant", async () => {
      const c = await loadFixture(fundedFixture);
      const vp = c.state(3n, HALF, HALF);
      const other = c.state(4n, HALF, HALF);
      const sig = await signChallenge(c.bob, stateHash(c.id, other));
      const recovered = recoverAddress(hashMessage(getBytes(challengeHash(stateHash(c.id, vp)))), sig);
      expect(recovered).to.not.equal(c.bob.address);
      await expect(
        c.adjudicator
          .connect(c.carol)
          .challenge(c.fixedPart, [], await c.byBoth(vp), sig, await registrationNow(c.adjudicator, c.fixedPart)),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "NotAParticipant")
        .withArgs(recovered);
    });

    const malformed: [string, (sig: string) => string][] = [
      ["is malleable (high s)", highS],
      ["has v = 29", (sig) => withV(sig, 29)],
      ["has v = 0", (sig) => withV(sig, 0)],
      ["is 64 bytes (EIP-2098 compact)", compact],
      ["is 66 bytes", (sig) => `${sig}00`],
      ["recovers to address 0", () => ZERO_RECOVERING],
    ];
    for (const [what, mangle] of malformed) {
      it(`with a challenger signature that ${what}: InvalidChallengerSignature, nothing registered`, async () => {
        const c = await loadFixture(fundedFixture);
        const vp = c.state(3n, HALF, HALF);
        const sig = mangle(await signChallenge(c.bob, stateHash(c.id, vp)));
        const before = await snapshot(c);
        await expect(
          c.adjudicator
            .connect(c.carol)
            .challenge(c.fixedPart, [], await c.byBoth(vp), sig, await registrationNow(c.adjudicator, c.fixedPart)),
        ).to.be.revertedWithCustomError(c.adjudicator, "InvalidChallengerSignature");
        expect(await snapshot(c)).to.deep.equal(before);
      });
    }
  });

  describe("turn numbers (security row 3)", () => {
    it("on an open channel the record stays 0 (a checkpoint there: NoOngoingChallenge), so an older state still challenges; the newer one beats it during the challenge", async () => {
      const c = await loadFixture(fundedFixture);
      const newer = c.state(5n, HALF, HALF);
      const newerSigned = await c.byBoth(newer);
      await expect(
        c.adjudicator
          .connect(c.bob)
          .checkpoint(c.fixedPart, [], newerSigned, await registrationNow(c.adjudicator, c.fixedPart)),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "NoOngoingChallenge")
        .withArgs(c.id);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([0n, 0n, 0n]);
      const older = c.state(4n, DEPOSIT, 0n);
      const finalizesAt = await challengeWith(c, older);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([4n, finalizesAt, fingerprintOf(c.id, older)]);
      await c.adjudicator
        .connect(c.bob)
        .checkpoint(c.fixedPart, [], newerSigned, await registrationNow(c.adjudicator, c.fixedPart));
      await time.increaseTo(finalizesAt);
      await expect(payOut(c, newer, c.carol)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [HALF, HALF, -DEPOSIT],
      );
    });

    it("on an open channel, a turn number equal to the record (0, the record of every open channel): registered", async () => {
      const c = await loadFixture(fundedFixture);
      const vp = c.state(0n, HALF, HALF);
      expect((await c.adjudicator.statusOf(c.id))[0]).to.equal(0n);
      const tx = await c.adjudicator
        .connect(c.alice)
        .challenge(c.fixedPart, [], await c.byBoth(vp), "0x", await registrationNow(c.adjudicator, c.fixedPart));
      await expect(tx)
        .to.emit(c.adjudicator, "ChallengeRegistered")
        .withArgs(c.id, BigInt(await time.latest()) + DURATION, ...sameVariablePart(vp), DEPOSIT);
      await time.increase(DURATION);
      await expect(payOut(c, vp, c.carol)).to.changeEtherBalances(ethers, [c.alice, c.bob], [HALF, HALF]);
    });

    it("during a challenge, a turn number equal to the record: TurnNumberTooLow, the registered state and clock stay", async () => {
      const c = await loadFixture(fundedFixture);
      const vp = c.state(5n, HALF, HALF);
      await c.adjudicator
        .connect(c.alice)
        .challenge(c.fixedPart, [], await c.byBoth(vp), "0x", await registrationNow(c.adjudicator, c.fixedPart));
      const before = await snapshot(c);
      // Another state with the same turn number, better for bob.
      const rival = c.state(5n, 0n, DEPOSIT);
      await expect(
        c.adjudicator
          .connect(c.bob)
          .challenge(c.fixedPart, [], await c.byBoth(rival), "0x", await registrationNow(c.adjudicator, c.fixedPart)),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
        .withArgs(c.id, 5n, 5n);
      // The same state again: refused too (and no challenge moves the deadline anyway, ADR 0005).
      await expect(
        c.adjudicator
          .connect(c.alice)
          .challenge(c.fixedPart, [], await c.byBoth(vp), "0x", await registrationNow(c.adjudicator, c.fixedPart)),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
        .withArgs(c.id, 5n, 5n);
      expect(await snapshot(c)).to.deep.equal(before);
    });

    it("during a challenge, a turn number below the record: TurnNumberTooLow", async () => {
      const c = await loadFixture(fundedFixture);
      await c.adjudicator
        .connect(c.alice)
        .challenge(
          c.fixedPart,
          [],
          await c.byBoth(c.state(5n, HALF, HALF)),
          "0x",
          await registrationNow(c.adjudicator, c.fixedPart),
        );
      await expect(
        c.adjudicator
          .connect(c.alice)
          .challenge(
            c.fixedPart,
            [],
            await c.byBoth(c.state(2n, DEPOSIT, 0n)),
            "0x",
            await registrationNow(c.adjudicator, c.fixedPart),
          ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
        .withArgs(c.id, 5n, 2n);
    });

    it("during a challenge, a higher turn number: replaces the registered state and keeps the deadline; the newer outcome is paid then", async () => {
      const c = await loadFixture(fundedFixture);
      const first = c.state(5n, DEPOSIT, 0n);
      const newer = c.state(6n, parseEther("0.1"), parseEther("0.9"));
      const finalizesAt = await challengeWith(c, first);
      await time.increase(DURATION / 2n);
      const tx = c.adjudicator
        .connect(c.bob)
        .challenge(c.fixedPart, [], await c.byBoth(newer), "0x", await registrationNow(c.adjudicator, c.fixedPart));
      await expect(tx)
        .to.emit(c.adjudicator, "ChallengeRegistered")
        .withArgs(c.id, finalizesAt, ...sameVariablePart(newer), DEPOSIT);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([6n, finalizesAt, fingerprintOf(c.id, newer)]);
      await time.increaseTo(finalizesAt);
      expect(await c.adjudicator.isFinalized(c.id)).to.equal(true);
      await expect(payOut(c, first, c.alice))
        .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
        .withArgs(c.id);
      await expect(payOut(c, newer, c.bob)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [parseEther("0.1"), parseEther("0.9"), -DEPOSIT],
      );
    });
  });

  describe("finalization (security rows 3 and 4)", () => {
    it("at finalizesAt the channel is final: a newer challenge gets ChannelFinalized, the registered outcome is paid (alice gets it all)", async () => {
      const c = await loadFixture(fundedFixture);
      const stale = c.state(2n, DEPOSIT, 0n);
      const finalizesAt = await challengeWith(c, stale);
      const newer = c.state(3n, 0n, DEPOSIT);
      const newerSigned = await c.byBoth(newer);

      await time.setNextBlockTimestamp(finalizesAt);
      await expect(
        c.adjudicator
          .connect(c.bob)
          .challenge(c.fixedPart, [], newerSigned, "0x", await registrationNow(c.adjudicator, c.fixedPart)),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "ChannelFinalized")
        .withArgs(c.id);
      await networkHelpers.mine(); // a block at finalizesAt, for the view
      expect(await c.adjudicator.isFinalized(c.id)).to.equal(true);
      await expect(payOut(c, stale, c.carol)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [DEPOSIT, 0n, -DEPOSIT],
      );
      // Paid out: still final, still refused.
      await expect(
        c.adjudicator
          .connect(c.bob)
          .challenge(c.fixedPart, [], newerSigned, "0x", await registrationNow(c.adjudicator, c.fixedPart)),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "ChannelFinalized")
        .withArgs(c.id);
    });

    it("one second before finalizesAt a newer challenge is accepted: it keeps the deadline, and at finalizesAt the newer outcome is paid, bob gets it all", async () => {
      const c = await loadFixture(fundedFixture);
      const stale = c.state(2n, DEPOSIT, 0n);
      await c.adjudicator
        .connect(c.alice)
        .challenge(c.fixedPart, [], await c.byBoth(stale), "0x", await registrationNow(c.adjudicator, c.fixedPart));
      const [, finalizesAt] = await c.adjudicator.statusOf(c.id);
      const newer = c.state(3n, 0n, DEPOSIT);
      const newerSigned = await c.byBoth(newer);
      await time.setNextBlockTimestamp(finalizesAt - 1n);
      await c.adjudicator
        .connect(c.bob)
        .challenge(c.fixedPart, [], newerSigned, "0x", await registrationNow(c.adjudicator, c.fixedPart));
      // The newer challenge replaced the registered state but not the clock: the channel finalizes at the stale
      // challenge's time.
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([3n, finalizesAt, fingerprintOf(c.id, newer)]);
      await time.increaseTo(finalizesAt);
      expect(await c.adjudicator.isFinalized(c.id)).to.equal(true);
      await expect(payOut(c, stale, c.alice))
        .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
        .withArgs(c.id);
      await expect(payOut(c, newer, c.bob)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [0n, DEPOSIT, -DEPOSIT],
      );
    });

    it("after a conclude: ChannelFinalized, the concluded outcome stays the one to pay", async () => {
      const c = await loadFixture(fundedFixture);
      const final = c.state(4n, HALF, HALF, { isFinal: true });
      await c.adjudicator
        .connect(c.alice)
        .conclude(c.fixedPart, await c.byBoth(final), await registrationNow(c.adjudicator, c.fixedPart));
      await expect(
        c.adjudicator
          .connect(c.alice)
          .challenge(
            c.fixedPart,
            [],
            await c.byBoth(c.state(9n, DEPOSIT, 0n)),
            "0x",
            await registrationNow(c.adjudicator, c.fixedPart),
          ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "ChannelFinalized")
        .withArgs(c.id);
      await expect(payOut(c, final, c.carol)).to.changeEtherBalances(ethers, [c.alice, c.bob], [HALF, HALF]);
    });
  });

  describe("when the candidate is final (ADR 0005: a final state only concludes)", () => {
    it("signed by both: StateIsFinal(turn), nothing registered; conclude takes it instead (0.5 each)", async () => {
      const c = await loadFixture(fundedFixture);
      const final = c.state(4n, HALF, HALF, { isFinal: true });
      const finalSigned = await c.byBoth(final);
      const before = await snapshot(c);
      await expect(
        c.adjudicator
          .connect(c.alice)
          .challenge(c.fixedPart, [], finalSigned, "0x", await registrationNow(c.adjudicator, c.fixedPart)),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "StateIsFinal")
        .withArgs(4n);
      expect(await snapshot(c)).to.deep.equal(before);
      await expect(
        c.adjudicator.connect(c.carol).concludeAndTransferAllAssets(c.fixedPart, finalSigned),
      ).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [HALF, HALF, -DEPOSIT]);
    });

    it("during a challenge too: StateIsFinal, the registered state and its deadline stay", async () => {
      const c = await loadFixture(fundedFixture);
      const stale = c.state(2n, DEPOSIT, 0n);
      await challengeWith(c, stale);
      const before = await snapshot(c);
      await expect(
        c.adjudicator
          .connect(c.bob)
          .challenge(
            c.fixedPart,
            [],
            await c.byBoth(c.state(3n, 0n, DEPOSIT, { isFinal: true })),
            "0x",
            await registrationNow(c.adjudicator, c.fixedPart),
          ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "StateIsFinal")
        .withArgs(3n);
      expect(await snapshot(c)).to.deep.equal(before);
    });
  });

  describe("when the candidate is not signed by all and comes without a proof", () => {
    it("the app decides (here the voucher app: ProofLengthNotOne(0)); nothing registered", async () => {
      const c = await loadFixture(fundedFixture);
      const candidate = sentByParticipant(c.state(3n, DEPOSIT, 0n), ALICE);
      const before = await snapshot(c);
      await expect(
        c.adjudicator
          .connect(c.alice)
          .challenge(c.fixedPart, [], candidate, "0x", await registrationNow(c.adjudicator, c.fixedPart)),
      )
        .to.be.revertedWithCustomError(c.app, "ProofLengthNotOne")
        .withArgs(0n);
      expect(await snapshot(c)).to.deep.equal(before);
    });
  });
});
