// conclude and concludeAndTransferAllAssets: the cooperative close. Only a final state signed by every
// participant (the unanimity rule; the sender's own signature may be empty) finalizes a channel at once.
import { expect } from "chai";
import { parseEther, Wallet, ZeroAddress } from "ethers";
import { type FixedPart, outcomeHash, stateHash, toDestination, type VariablePart } from "../../../sdk/index.js";
import { ethers, networkHelpers, signed } from "../helpers/fixtures.js";
import { ethHeldNow, registrationNow } from "../helpers/registration.js";
import {
  ALICE,
  BOB,
  challengeWith,
  DEPOSIT,
  fingerprintOf,
  fundedFixture,
  payOut,
  sentByParticipant,
  withSignatures,
} from "./helpers.js";

const { loadFixture, time } = networkHelpers;
const ALICE_GETS = parseEther("0.25");
const BOB_GETS = DEPOSIT - ALICE_GETS;

describe("Adjudicator.conclude", () => {
  describe("when the final state is signed by both", () => {
    it("finalizes at once (Concluded); nothing moves until a payout, which pays alice 0.25 and bob 0.75 ETH", async () => {
      const c = await loadFixture(fundedFixture);
      const final = c.state(7n, ALICE_GETS, BOB_GETS, { isFinal: true });
      const tx = c.adjudicator
        .connect(c.carol)
        .conclude(c.fixedPart, await c.byBoth(final), await registrationNow(c.adjudicator, c.fixedPart));
      await expect(tx).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [0n, 0n, 0n]);
      const now = BigInt(await time.latest());
      await expect(tx).to.emit(c.adjudicator, "Concluded").withArgs(c.id, now, DEPOSIT);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([7n, now, fingerprintOf(c.id, final)]);
      expect(await c.adjudicator.isFinalized(c.id)).to.equal(true);
      await expect(payOut(c, final, c.carol)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [ALICE_GETS, BOB_GETS, -DEPOSIT],
      );
    });

    it("the sender's own signature may be empty (ADR 0001): bob sends with ['0x' for himself]", async () => {
      const c = await loadFixture(fundedFixture);
      const final = c.state(7n, ALICE_GETS, BOB_GETS, { isFinal: true });
      const aliceOnly = await signed(c.fixedPart, c.id, final, [c.alice]);
      const candidate = withSignatures(final, 3n, [aliceOnly.sigs[0], "0x"]);
      await expect(
        c.adjudicator
          .connect(c.bob)
          .conclude(c.fixedPart, candidate, await registrationNow(c.adjudicator, c.fixedPart)),
      ).to.emit(c.adjudicator, "Concluded");
    });

    it("an empty signature for bob sent by alice does not count for bob: InvalidSignature(1), not finalized", async () => {
      const c = await loadFixture(fundedFixture);
      const final = c.state(7n, ALICE_GETS, BOB_GETS, { isFinal: true });
      const candidate = withSignatures(final, 3n, ["0x", "0x"]);
      await expect(
        c.adjudicator
          .connect(c.alice)
          .conclude(c.fixedPart, candidate, await registrationNow(c.adjudicator, c.fixedPart)),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "InvalidSignature")
        .withArgs(BOB);
      expect(await c.adjudicator.isFinalized(c.id)).to.equal(false);
    });

    it("during a challenge with a higher turn number: the final state wins, the record never decreases", async () => {
      const c = await loadFixture(fundedFixture);
      await challengeWith(c, c.state(9n, DEPOSIT, 0n));
      const final = c.state(4n, ALICE_GETS, BOB_GETS, { isFinal: true });
      await c.adjudicator
        .connect(c.bob)
        .conclude(c.fixedPart, await c.byBoth(final), await registrationNow(c.adjudicator, c.fixedPart));
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([
        9n,
        BigInt(await time.latest()),
        fingerprintOf(c.id, final),
      ]);
      await expect(payOut(c, final, c.bob)).to.changeEtherBalances(ethers, [c.alice, c.bob], [ALICE_GETS, BOB_GETS]);
    });

    it("a second time: ChannelFinalized, the first final outcome stays the one to pay", async () => {
      const c = await loadFixture(fundedFixture);
      const final = c.state(7n, ALICE_GETS, BOB_GETS, { isFinal: true });
      await c.adjudicator.conclude(
        c.fixedPart,
        await c.byBoth(final),
        await registrationNow(c.adjudicator, c.fixedPart),
      );
      const other = c.state(8n, 0n, DEPOSIT, { isFinal: true });
      await expect(
        c.adjudicator.conclude(c.fixedPart, await c.byBoth(other), await registrationNow(c.adjudicator, c.fixedPart)),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "ChannelFinalized")
        .withArgs(c.id);
      await expect(payOut(c, final, c.carol)).to.changeEtherBalances(ethers, [c.alice, c.bob], [ALICE_GETS, BOB_GETS]);
    });
  });

  describe("when the state cannot conclude (nothing is finalized, the deposit stays)", () => {
    it("it is not final: StateNotFinal(turnNum), even signed by both", async () => {
      const c = await loadFixture(fundedFixture);
      await expect(
        c.adjudicator.conclude(
          c.fixedPart,
          await c.byBoth(c.state(7n, ALICE_GETS, BOB_GETS)),
          await registrationNow(c.adjudicator, c.fixedPart),
        ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "StateNotFinal")
        .withArgs(7n);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([0n, 0n, 0n]);
    });

    const partial: [string, bigint][] = [
      ["alice only", 1n],
      ["bob only", 2n],
      ["nobody", 0n],
    ];
    for (const [who, signedBy] of partial) {
      it(`it is signed by ${who}: NotUnanimous(${signedBy}, 3)`, async () => {
        const c = await loadFixture(fundedFixture);
        const final = c.state(7n, ALICE_GETS, BOB_GETS, { isFinal: true });
        const signers = [c.alice, c.bob].filter((_, i) => (signedBy >> BigInt(i)) & 1n);
        await expect(
          c.adjudicator
            .connect(c.alice)
            .conclude(
              c.fixedPart,
              await signed(c.fixedPart, c.id, final, signers),
              await registrationNow(c.adjudicator, c.fixedPart),
            ),
        )
          .to.be.revertedWithCustomError(c.adjudicator, "NotUnanimous")
          .withArgs(signedBy, 3n);
        expect(await c.adjudicator.isFinalized(c.id)).to.equal(false);
      });
    }

    it("a 3-party channel signed by two: NotUnanimous(3, 7)", async () => {
      const c = await loadFixture(fundedFixture);
      const { fixedPart, id } = c.channel({
        channelNonce: 3n,
        participants: [c.alice.address, c.bob.address, c.carol.address],
      });
      const final = { ...c.state(1n, 0n, 0n, { isFinal: true }) };
      await expect(
        c.adjudicator.conclude(
          fixedPart,
          await signed(fixedPart, id, final, [c.alice, c.bob]),
          await registrationNow(c.adjudicator, fixedPart),
        ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "NotUnanimous")
        .withArgs(3n, 7n);
    });
  });

  describe("participant counts", () => {
    it("a 1-party channel: its only participant concludes alone by sending it, and is paid everything", async () => {
      const c = await loadFixture(fundedFixture);
      const { fixedPart, id } = c.channel({ channelNonce: 4n, participants: [c.alice.address] });
      await c.adjudicator.connect(c.bob).deposit(ZeroAddress, id, 0n, 100n, { value: 100n });
      const final: VariablePart = {
        outcome: [{ asset: ZeroAddress, allocations: [{ destination: toDestination(c.alice.address), amount: 100n }] }],
        appData: "0x",
        turnNum: 1n,
        isFinal: true,
      };
      await expect(
        c.adjudicator.connect(c.alice).concludeAndTransferAllAssets(fixedPart, sentByParticipant(final, ALICE)),
      ).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [100n, 0n, -100n]);
      expect(await ethHeldNow(c.adjudicator, id)).to.equal(0n);
    });

    const counts: [string, number][] = [
      ["no participant", 0],
      ["256 participants", 256],
    ];
    for (const [what, count] of counts) {
      it(`${what}: InvalidParticipantCount(${count}) from conclude and challenge; so never under challenge, checkpoint and respond get NoOngoingChallenge`, async () => {
        const c = await loadFixture(fundedFixture);
        const participants = Array.from(
          { length: count },
          (_, i) => new Wallet(`0x${(i + 1).toString(16).padStart(64, "0")}`).address,
        );
        const fixedPart: FixedPart = { ...c.fixedPart, participants };
        const final = withSignatures(c.state(1n, 0n, 0n, { isFinal: true }), 0n, []);
        await expect(
          c.adjudicator.conclude(
            fixedPart,
            { ...final, signedBy: 0n },
            await registrationNow(c.adjudicator, fixedPart),
          ),
        )
          .to.be.revertedWithCustomError(c.adjudicator, "InvalidParticipantCount")
          .withArgs(count);
        const open = withSignatures(c.state(1n, 0n, 0n), 0n, []);
        // Counted before the state is read: a final or a non-final candidate gets the same error.
        for (const candidate of [final, open]) {
          await expect(
            c.adjudicator.challenge(fixedPart, [], candidate, "0x", await registrationNow(c.adjudicator, fixedPart)),
          )
            .to.be.revertedWithCustomError(c.adjudicator, "InvalidParticipantCount")
            .withArgs(count);
        }
        // No challenge of such a channel can start, so there is never anything to answer (ADR 0005).
        const id = await c.adjudicator.channelIdOf(fixedPart);
        await expect(c.adjudicator.checkpoint(fixedPart, [], open, await registrationNow(c.adjudicator, fixedPart)))
          .to.be.revertedWithCustomError(c.adjudicator, "NoOngoingChallenge")
          .withArgs(id);
        const next = withSignatures(c.state(2n, 0n, 0n), 0n, []);
        await expect(c.adjudicator.respond(fixedPart, id, open.variablePart, next, 0n))
          .to.be.revertedWithCustomError(c.adjudicator, "NoOngoingChallenge")
          .withArgs(id);
      });
    }
  });
});

describe("Adjudicator.concludeAndTransferAllAssets", () => {
  it("pays alice 0.25 and bob 0.75 ETH in the closing transaction; nothing is owed after, nothing can be paid twice", async () => {
    const c = await loadFixture(fundedFixture);
    const final = c.state(7n, ALICE_GETS, BOB_GETS, { isFinal: true });
    const tx = c.adjudicator.connect(c.bob).concludeAndTransferAllAssets(c.fixedPart, await c.byBoth(final));
    await expect(tx).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [ALICE_GETS, BOB_GETS, -DEPOSIT]);
    const now = BigInt(await time.latest());
    // The close reports the ETH left (none) in its Concluded event; it emits no HoldingsUpdated of its own.
    await expect(tx).to.emit(c.adjudicator, "Concluded").withArgs(c.id, now, 0n);
    await expect(tx).not.to.emit(c.adjudicator, "HoldingsUpdated");
    // One PaidOut per allocation paid: what a client reports as paid or earned.
    await expect(tx)
      .to.emit(c.adjudicator, "PaidOut")
      .withArgs(c.id, ZeroAddress, toDestination(c.alice.address), ALICE_GETS)
      .and.to.emit(c.adjudicator, "PaidOut")
      .withArgs(c.id, ZeroAddress, toDestination(c.bob.address), BOB_GETS);
    // Fingerprint 0: nothing is owed.
    expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([7n, now, 0n]);
    await expect(payOut(c, final, c.bob))
      .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
      .withArgs(c.id);
    await expect(c.adjudicator.concludeAndTransferAllAssets(c.fixedPart, await c.byBoth(final)))
      .to.be.revertedWithCustomError(c.adjudicator, "ChannelFinalized")
      .withArgs(c.id);
  });

  it("when the outcome asks for more than the holdings: pays in order (alice 0.7, bob the 0.3 left); bob's 0.4 stays owed, and an ETH top-up is refused (EthCommitted)", async () => {
    const c = await loadFixture(fundedFixture);
    const final = c.state(7n, parseEther("0.7"), parseEther("0.7"), { isFinal: true });
    const tx = c.adjudicator.concludeAndTransferAllAssets(c.fixedPart, await c.byBoth(final));
    await expect(tx).to.changeEtherBalances(
      ethers,
      [c.alice, c.bob, c.adjudicator],
      [parseEther("0.7"), parseEther("0.3"), -DEPOSIT],
    );
    await expect(tx)
      .to.emit(c.adjudicator, "Concluded")
      .withArgs(c.id, BigInt(await time.latest()), 0n);
    // PaidOut says what was paid (bob 0.3), not what the outcome asked (0.7).
    await expect(tx)
      .to.emit(c.adjudicator, "PaidOut")
      .withArgs(c.id, ZeroAddress, toDestination(c.bob.address), parseEther("0.3"));
    const owed = c.state(7n, 0n, parseEther("0.4"), { isFinal: true }).outcome;
    const registration = { stateHash: stateHash(c.id, final), outcomeHash: outcomeHash(owed), heldEth: 0n };
    expect(await c.adjudicator.ethHoldings(c.id, registration)).to.equal(0n);
    await expect(
      c.adjudicator.connect(c.alice).deposit(ZeroAddress, c.id, 0n, parseEther("0.4"), { value: parseEther("0.4") }),
    )
      .to.be.revertedWithCustomError(c.adjudicator, "EthCommitted")
      .withArgs(c.id);
    // The owed outcome can still be presented; with nothing held it pays nothing and stays owed.
    await expect(c.adjudicator.transferAllAssets(c.id, stateHash(c.id, final), owed, 0n)).to.changeEtherBalances(
      ethers,
      [c.alice, c.bob, c.adjudicator],
      [0n, 0n, 0n],
    );
    expect(await c.adjudicator.ethHoldings(c.id, registration)).to.equal(0n);
  });

  it("of a channel that holds nothing (its deposit gone in a re-org): succeeds, pays nobody, emits no PaidOut", async () => {
    const c = await loadFixture(fundedFixture);
    const fixedPart = { ...c.fixedPart, channelNonce: c.fixedPart.channelNonce + 1n }; // never funded
    const id = await c.adjudicator.channelIdOf(fixedPart);
    const final = c.state(7n, ALICE_GETS, BOB_GETS, { isFinal: true });
    const tx = c.adjudicator.concludeAndTransferAllAssets(
      fixedPart,
      await signed(fixedPart, id, final, [c.alice, c.bob]),
    );
    await expect(tx).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [0n, 0n, 0n]);
    await expect(tx).to.emit(c.adjudicator, "Concluded");
    await expect(tx).not.to.emit(c.adjudicator, "PaidOut");
  });

  it("during a challenge: ChallengeOngoing, nobody is paid; conclude with the registration, then transferAllAssets, closes it", async () => {
    const c = await loadFixture(fundedFixture);
    const stale = c.state(3n, DEPOSIT, 0n);
    await challengeWith(c, stale);
    const final = c.state(7n, ALICE_GETS, BOB_GETS, { isFinal: true });
    const signedFinal = await c.byBoth(final);
    await expect(c.adjudicator.concludeAndTransferAllAssets(c.fixedPart, signedFinal))
      .to.be.revertedWithCustomError(c.adjudicator, "ChallengeOngoing")
      .withArgs(c.id);
    const registered = { stateHash: stateHash(c.id, stale), outcomeHash: outcomeHash(stale.outcome), heldEth: DEPOSIT };
    await expect(c.adjudicator.conclude(c.fixedPart, signedFinal, registered))
      .to.emit(c.adjudicator, "Concluded")
      .withArgs(c.id, BigInt(await time.latest()) + 1n, DEPOSIT);
    await expect(
      c.adjudicator.transferAllAssets(c.id, stateHash(c.id, final), final.outcome, DEPOSIT),
    ).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [ALICE_GETS, BOB_GETS, -DEPOSIT]);
  });

  it("when the state is not final or not unanimous: StateNotFinal / NotUnanimous, nobody is paid", async () => {
    const c = await loadFixture(fundedFixture);
    await expect(c.adjudicator.concludeAndTransferAllAssets(c.fixedPart, await c.byBoth(c.state(7n, 0n, DEPOSIT))))
      .to.be.revertedWithCustomError(c.adjudicator, "StateNotFinal")
      .withArgs(7n);
    const final = c.state(7n, 0n, DEPOSIT, { isFinal: true });
    await expect(
      c.adjudicator.concludeAndTransferAllAssets(c.fixedPart, await signed(c.fixedPart, c.id, final, [c.bob])),
    )
      .to.be.revertedWithCustomError(c.adjudicator, "NotUnanimous")
      .withArgs(2n, 3n);
    expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
  });
});
