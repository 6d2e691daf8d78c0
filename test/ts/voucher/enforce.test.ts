// The voucher payment app end to end on the adjudicator: the payer [participant 0] deposits, both sign a funding
// state, the payer then signs only vouchers, and the payee [participant 1] alone can enforce its latest voucher.
// Every test says where the deposit goes: the payee gets exactly its voucher, the payer the rest, nobody twice.
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import { type ContractTransactionResponse, parseEther, ZeroAddress } from "ethers";
import {
  findRegistration,
  type SignedVariablePart,
  signChallenge,
  stateHash,
  type VariablePart,
} from "../../../sdk/index.js";
import { fingerprintOf, sameVariablePart } from "../adjudicator/helpers.js";
import {
  DURATION,
  deployFixture,
  ethers,
  ethState,
  networkHelpers,
  type Signer,
  signed,
  voucherState,
} from "../helpers/fixtures.js";
import { committedEthFor, ethHeldNow, registrationNow } from "../helpers/registration.js";
import {
  challengeAs,
  checkpointAs,
  DEPOSIT,
  fundedVoucherChannel,
  NONCE,
  PAYEE,
  PAYER,
  sentByParticipant,
  type VoucherChannel,
} from "./helpers.js";

const { loadFixture, time } = networkHelpers;

/** Pays out the registered outcome of `vp` once the channel finalized; sent by `caller`. */
async function payOut(c: VoucherChannel, vp: VariablePart, caller: Signer) {
  return c.adjudicator
    .connect(caller)
    .transferAllAssets(
      c.id,
      stateHash(c.id, vp),
      vp.outcome,
      await committedEthFor(c.adjudicator, c.id, stateHash(c.id, vp), vp.outcome),
    );
}

/** After a payout: the channel holds nothing and the same outcome cannot be paid a second time. */
async function expectPaidOnce(c: VoucherChannel, vp: VariablePart) {
  expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(0n);
  await expect(payOut(c, vp, c.bob))
    .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
    .withArgs(c.id);
}

interface SigningMode {
  how: string;
  /** The payee's challenge with `vp` on top of the funding state, in the way this mode signs and sends it. */
  challenge(c: VoucherChannel, vp: VariablePart): Promise<ContractTransactionResponse>;
}

const payeeSigningModes: SigningMode[] = [
  {
    how: "sends the challenge itself, its empty signature standing for its own",
    challenge: async (c, vp) => challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(vp, PAYEE)),
  },
  {
    how: "signs the voucher state and sends the challenge itself",
    challenge: async (c, vp) => challengeAs(c, c.bob, [c.fundingSigned], await signed(c.fixedPart, c.id, vp, [c.bob])),
  },
  {
    how: "signs the voucher state and a watchtower sends it with the payee's challenger signature",
    challenge: async (c, vp) =>
      c.adjudicator
        .connect(c.carol)
        .challenge(
          c.fixedPart,
          [c.fundingSigned],
          await signed(c.fixedPart, c.id, vp, [c.bob]),
          await signChallenge(c.bob, stateHash(c.id, vp)),
          await registrationNow(c.adjudicator, c.fixedPart),
        ),
  },
];

describe("VoucherPaymentApp", () => {
  describe("when the payer vanishes and the payee enforces its latest voucher alone", () => {
    for (const mode of payeeSigningModes) {
      it(`the payee ${mode.how}: after the challenge duration it gets exactly the voucher, the payer the rest`, async () => {
        const c = await loadFixture(fundedVoucherChannel);
        const amount = parseEther("0.3");
        const vp = await voucherState(c.alice, c.id, c.funding, 2n, amount);

        const tx = await mode.challenge(c, vp);
        const challengedAt = BigInt(await time.latest());
        await expect(tx)
          .to.emit(c.adjudicator, "ChallengeRegistered")
          .withArgs(c.id, challengedAt + DURATION, anyValue, anyValue, anyValue, DEPOSIT);
        const [turnNumRecord, finalizesAt] = await c.adjudicator.statusOf(c.id);
        expect([turnNumRecord, finalizesAt]).to.deep.equal([2n, challengedAt + DURATION]);

        // One second before finalizesAt nothing can be paid.
        await time.setNextBlockTimestamp(finalizesAt - 1n);
        await expect(payOut(c, vp, c.bob))
          .to.be.revertedWithCustomError(c.adjudicator, "ChannelNotFinalized")
          .withArgs(c.id);

        await time.increaseTo(finalizesAt);
        await expect(payOut(c, vp, c.bob)).to.changeEtherBalances(
          ethers,
          [c.alice, c.bob, c.adjudicator],
          [DEPOSIT - amount, amount, -DEPOSIT],
        );
        await expectPaidOnce(c, vp);
      });
    }

    const amounts: [string, bigint][] = [
      ["a voucher of 0", 0n],
      ["a voucher of 1 wei", 1n],
      ["a voucher of the deposit less 1 wei", DEPOSIT - 1n],
      ["a voucher of the whole deposit", DEPOSIT],
    ];
    for (const [what, amount] of amounts) {
      it(`with ${what}: the payee gets exactly ${amount} wei and the payer ${DEPOSIT - amount} wei`, async () => {
        const c = await loadFixture(fundedVoucherChannel);
        const vp = await voucherState(c.alice, c.id, c.funding, 2n, amount);
        await challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(vp, PAYEE));
        await time.increase(DURATION);
        await expect(payOut(c, vp, c.carol)).to.changeEtherBalances(
          ethers,
          [c.alice, c.bob, c.carol, c.adjudicator],
          [DEPOSIT - amount, amount, 0n, -DEPOSIT],
        );
        await expectPaidOnce(c, vp);
      });
    }

    it("the payer cannot take the deposit back: its funding state is older, its own states lack the payee", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      const amount = parseEther("0.4");
      const vp = await voucherState(c.alice, c.id, c.funding, 2n, amount);
      await challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(vp, PAYEE));

      // Checkpoint or re-challenge with the funding state: below the record.
      await expect(checkpointAs(c, c.alice, [], c.fundingSigned))
        .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
        .withArgs(c.id, 2n, 1n);
      await expect(challengeAs(c, c.alice, [], c.fundingSigned))
        .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
        .withArgs(c.id, 2n, 1n);
      // Respond with a state that gives everything back, signed by the payer alone.
      const back = ethState(c.alice.address, c.bob.address, 3n, DEPOSIT, 0n, { appData: vp.appData });
      await expect(
        c.adjudicator
          .connect(c.alice)
          .respond(
            c.fixedPart,
            c.id,
            vp,
            sentByParticipant(back, PAYER),
            (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
          ),
      )
        .to.be.revertedWithCustomError(c.app, "NotSignedByPayee")
        .withArgs(1n);
      // Claim the payee's empty signature while the payer sends: the adjudicator refuses it.
      await expect(
        c.adjudicator
          .connect(c.alice)
          .respond(
            c.fixedPart,
            c.id,
            vp,
            sentByParticipant(back, PAYEE),
            (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
          ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "InvalidSignature")
        .withArgs(PAYEE);

      await time.increase(DURATION);
      await expect(payOut(c, vp, c.alice)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [DEPOSIT - amount, amount, -DEPOSIT],
      );
    });
  });

  describe("when the payee holds a later, larger voucher than the one registered", () => {
    const first = parseEther("0.2");
    const later = parseEther("0.5");

    it("a checkpoint with the later voucher (higher turn) replaces the registered one, same deadline; the earlier cannot come back; the later voucher is paid", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      const v1 = await voucherState(c.alice, c.id, c.funding, 2n, first);
      const v2 = await voucherState(c.alice, c.id, c.funding, 3n, later);
      await challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(v1, PAYEE));
      const [, finalizesAt] = await c.adjudicator.statusOf(c.id);

      await expect(checkpointAs(c, c.bob, [c.fundingSigned], sentByParticipant(v2, PAYEE)))
        .to.emit(c.adjudicator, "ChallengeRegistered")
        .withArgs(c.id, finalizesAt, ...sameVariablePart(v2), DEPOSIT);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([3n, finalizesAt, fingerprintOf(c.id, v2)]);
      // The earlier voucher cannot come back.
      await expect(challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(v1, PAYEE)))
        .to.be.revertedWithCustomError(c.adjudicator, "TurnNumberTooLow")
        .withArgs(c.id, 3n, 2n);

      await time.increaseTo(finalizesAt);
      await expect(payOut(c, v1, c.bob))
        .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
        .withArgs(c.id);
      await expect(payOut(c, v2, c.bob)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [DEPOSIT - later, later, -DEPOSIT],
      );
      await expectPaidOnce(c, v2);
    });

    it("checkpoints raise the record voucher by voucher during the payee's challenge (never on an open channel), each keeping the deadline; the last one is paid", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      const amounts = [parseEther("0.1"), parseEther("0.25"), parseEther("0.7")];
      let last = await voucherState(c.alice, c.id, c.funding, 2n, amounts[0]);
      // On the open channel a checkpoint raises nothing (ADR 0005): the payee starts with a challenge.
      await expect(checkpointAs(c, c.bob, [c.fundingSigned], sentByParticipant(last, PAYEE)))
        .to.be.revertedWithCustomError(c.adjudicator, "NoOngoingChallenge")
        .withArgs(c.id);
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([0n, 0n, 0n]);
      await challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(last, PAYEE));
      const [, finalizesAt] = await c.adjudicator.statusOf(c.id);
      for (const [i, amount] of amounts.entries()) {
        if (i === 0) continue;
        last = await voucherState(c.alice, c.id, c.funding, BigInt(i + 2), amount);
        await time.increase(60n);
        await expect(checkpointAs(c, c.bob, [c.fundingSigned], sentByParticipant(last, PAYEE)))
          .to.emit(c.adjudicator, "ChallengeRegistered")
          .withArgs(c.id, finalizesAt, ...sameVariablePart(last), DEPOSIT);
        expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([
          BigInt(i + 2),
          finalizesAt,
          fingerprintOf(c.id, last),
        ]);
      }
      await time.increaseTo(finalizesAt);
      await expect(payOut(c, last, c.bob)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob],
        [DEPOSIT - amounts[2], amounts[2]],
      );
      await expectPaidOnce(c, last);
    });

    it("a response from the registered voucher moves only the difference and is registered, same deadline; the later voucher is paid", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      const v1 = await voucherState(c.alice, c.id, c.funding, 2n, first);
      const v2 = await voucherState(c.alice, c.id, v1, 3n, later, first);
      await challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(v1, PAYEE));
      const [, finalizesAt] = await c.adjudicator.statusOf(c.id);
      await expect(
        c.adjudicator
          .connect(c.bob)
          .respond(
            c.fixedPart,
            c.id,
            v1,
            sentByParticipant(v2, PAYEE),
            (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
          ),
      )
        .to.emit(c.adjudicator, "ChallengeRegistered")
        .withArgs(c.id, finalizesAt, ...sameVariablePart(v2), DEPOSIT);
      // The response is the registered state: the payee needs no challenge of its own.
      expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([3n, finalizesAt, fingerprintOf(c.id, v2)]);
      await time.increaseTo(finalizesAt);
      await expect(payOut(c, v2, c.bob)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [DEPOSIT - later, later, -DEPOSIT],
      );
      await expectPaidOnce(c, v2);
    });

    it("a new challenge with the later voucher replaces the registered one and keeps the deadline", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      const v1 = await voucherState(c.alice, c.id, c.funding, 2n, first);
      const v2 = await voucherState(c.alice, c.id, c.funding, 3n, later);
      await challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(v1, PAYEE));
      const firstDeadline = BigInt(await time.latest()) + DURATION;
      await time.increase(DURATION / 2n);
      await challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(v2, PAYEE));
      const [turnNumRecord, finalizesAt] = await c.adjudicator.statusOf(c.id);
      expect([turnNumRecord, finalizesAt]).to.deep.equal([3n, firstDeadline]);

      await time.increaseTo(finalizesAt);
      // The first voucher's outcome is no longer the registered one.
      await expect(payOut(c, v1, c.bob))
        .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
        .withArgs(c.id);
      await expect(payOut(c, v2, c.bob)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [DEPOSIT - later, later, -DEPOSIT],
      );
    });
  });

  describe("when the payer challenges with the funding state to take its deposit back", () => {
    const amount = parseEther("0.6");

    interface Answer {
      how: string;
      answer(c: VoucherChannel, vp: VariablePart): Promise<void>;
    }
    const answers: Answer[] = [
      {
        how: "checkpoints its voucher state",
        answer: async (c, vp) => {
          await checkpointAs(c, c.bob, [c.fundingSigned], sentByParticipant(vp, PAYEE));
        },
      },
      {
        how: "responds with its voucher state as the next move",
        answer: async (c, vp) => {
          await c.adjudicator
            .connect(c.bob)
            .respond(
              c.fixedPart,
              c.id,
              c.funding,
              sentByParticipant(vp, PAYEE),
              (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
            );
        },
      },
      {
        how: "counter-challenges with its voucher state",
        answer: async (c, vp) => {
          await challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(vp, PAYEE));
        },
      },
      {
        how: "has a watchtower respond with its signed voucher state",
        answer: async (c, vp) => {
          const candidate: SignedVariablePart = await signed(c.fixedPart, c.id, vp, [c.bob]);
          await c.adjudicator
            .connect(c.carol)
            .respond(
              c.fixedPart,
              c.id,
              c.funding,
              candidate,
              (await registrationNow(c.adjudicator, c.fixedPart)).heldEth,
            );
        },
      },
      {
        how: "has a watchtower counter-challenge with its signed voucher state and its challenger signature",
        answer: async (c, vp) => {
          await c.adjudicator
            .connect(c.carol)
            .challenge(
              c.fixedPart,
              [c.fundingSigned],
              await signed(c.fixedPart, c.id, vp, [c.bob]),
              await signChallenge(c.bob, stateHash(c.id, vp)),
              await registrationNow(c.adjudicator, c.fixedPart),
            );
        },
      },
    ];

    for (const { how, answer } of answers) {
      it(`the payee ${how}: the payer gains nothing, the payee gets exactly its voucher`, async () => {
        const c = await loadFixture(fundedVoucherChannel);
        const vp = await voucherState(c.alice, c.id, c.funding, 2n, amount);
        await challengeAs(c, c.alice, [], c.fundingSigned);
        const [, finalizesAt] = await c.adjudicator.statusOf(c.id);
        await time.increase(DURATION / 2n);

        // One answer registers the voucher state in place of the funding state (ChallengeRegistered), and the
        // payer's deadline stays (ADR 0005): the payee needs no second transaction.
        const bobNonce = await ethers.provider.getTransactionCount(c.bob.address);
        await answer(c, vp);
        expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([2n, finalizesAt, fingerprintOf(c.id, vp)]);
        const found = await findRegistration(c.adjudicator, c.id);
        expect(found && stateHash(c.id, found.variablePart)).to.equal(stateHash(c.id, vp));
        expect((await ethers.provider.getTransactionCount(c.bob.address)) - bobNonce).to.be.at.most(1);

        await time.increaseTo(finalizesAt);
        await expect(payOut(c, c.funding, c.alice))
          .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
          .withArgs(c.id);
        await expect(payOut(c, vp, c.alice)).to.changeEtherBalances(
          ethers,
          [c.alice, c.bob, c.adjudicator],
          [DEPOSIT - amount, amount, -DEPOSIT],
        );
        await expectPaidOnce(c, vp);
      });
    }

    it("the payee does not answer in time: the funding outcome is paid, the whole deposit back to the payer", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      const vp = await voucherState(c.alice, c.id, c.funding, 2n, amount);
      await challengeAs(c, c.alice, [], c.fundingSigned);
      await time.increase(DURATION);
      // Too late for the voucher.
      await expect(checkpointAs(c, c.bob, [c.fundingSigned], sentByParticipant(vp, PAYEE)))
        .to.be.revertedWithCustomError(c.adjudicator, "ChannelFinalized")
        .withArgs(c.id);
      await expect(payOut(c, c.funding, c.alice)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [DEPOSIT, 0n, -DEPOSIT],
      );
      await expectPaidOnce(c, c.funding);
    });
  });

  describe("when the payer deposited less than its allocation in the funding state", () => {
    /** The funding state allocates DEPOSIT to the payer, but only half of it was deposited. */
    async function underfundedChannel() {
      const f = await deployFixture();
      const { fixedPart, id } = f.channel({ channelNonce: NONCE });
      await f.adjudicator.connect(f.alice).deposit(ZeroAddress, id, 0n, DEPOSIT / 2n, { value: DEPOSIT / 2n });
      const funding = ethState(f.alice.address, f.bob.address, 1n, DEPOSIT, 0n);
      return { ...f, fixedPart, id, funding, fundingSigned: await signed(fixedPart, id, funding, [f.alice, f.bob]) };
    }

    it("a voucher within the allocation is accepted, but the payer's change is paid first: the payee gets only what is left", async () => {
      // The app bounds a voucher by the payer's allocation, not by the holdings, and the outcome pays [payer, payee]
      // in order. So the payee must check the holdings on chain before it serves anything (the SDK's job).
      const c = await loadFixture(underfundedChannel);
      const amount = parseEther("0.8");
      const vp = await voucherState(c.alice, c.id, c.funding, 2n, amount);
      await challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(vp, PAYEE));
      await time.increase(DURATION);
      await expect(payOut(c, vp, c.bob)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [DEPOSIT - amount, DEPOSIT / 2n - (DEPOSIT - amount), -DEPOSIT / 2n],
      );
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(0n);
    });
  });

  describe("when payer and payee close cooperatively with a final state signed by both", () => {
    const amount = parseEther("0.35");

    it("concludeAndTransferAllAssets pays the payee its voucher and the payer the rest at once", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      const final = ethState(c.alice.address, c.bob.address, 5n, DEPOSIT - amount, amount, { isFinal: true });
      const candidate = await signed(c.fixedPart, c.id, final, [c.alice, c.bob]);
      await expect(
        c.adjudicator.connect(c.bob).concludeAndTransferAllAssets(c.fixedPart, candidate),
      ).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [DEPOSIT - amount, amount, -DEPOSIT]);
      await expectPaidOnce(c, final);
    });

    it("conclude during the payee's challenge finalizes at once; transferAllAssets pays the final state", async () => {
      const c = await loadFixture(fundedVoucherChannel);
      const vp = await voucherState(c.alice, c.id, c.funding, 2n, parseEther("0.1"));
      await challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(vp, PAYEE));
      const final = ethState(c.alice.address, c.bob.address, 3n, DEPOSIT - amount, amount, { isFinal: true });
      await c.adjudicator
        .connect(c.alice)
        .conclude(
          c.fixedPart,
          await signed(c.fixedPart, c.id, final, [c.alice, c.bob]),
          await registrationNow(c.adjudicator, c.fixedPart),
        );

      // The voucher state can no longer be registered or paid.
      await expect(challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(vp, PAYEE)))
        .to.be.revertedWithCustomError(c.adjudicator, "ChannelFinalized")
        .withArgs(c.id);
      await expect(payOut(c, vp, c.bob))
        .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
        .withArgs(c.id);
      await expect(payOut(c, final, c.carol)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [DEPOSIT - amount, amount, -DEPOSIT],
      );
      await expectPaidOnce(c, final);
    });
  });
});
