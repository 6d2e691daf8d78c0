// docs/security.md row 2: a valid state or voucher replayed on another chain id, another adjudicator deployment or
// another channel is rejected. Every signature names the channel id, and the channel id binds the chain id, the
// adjudicator's address and the fixed part; so a signature made for one of them recovers to a stranger on another.
// Each case first shows that the signature is good where it was made, then that it moves nothing here.
import { expect } from "chai";
import { getBytes, hashMessage, parseEther, recoverAddress, ZeroAddress } from "ethers";
import { challengeHash, channelId, signChallenge, signVoucher, stateHash, toDestination } from "../../../sdk/index.js";
import { Adjudicator__factory } from "../../../typechain-types/index.js";
import { DURATION, ethers, ethState, networkHelpers, signed, voucherState } from "../helpers/fixtures.js";
import { committedEthFor, ethHeldNow, registrationNow } from "../helpers/registration.js";
import {
  challengeAs,
  checkpointAs,
  DEPOSIT,
  fundedVoucherChannel,
  NONCE,
  PAYEE,
  sentByParticipant,
  stateSigner,
  stateWith,
  voucherData,
  voucherSigner,
} from "./helpers.js";

const { loadFixture, time } = networkHelpers;
const AMOUNT = parseEther("0.3");

/** The funded channel, a second adjudicator deployment, and the ids of the same channel elsewhere. */
async function replayFixture() {
  const c = await fundedVoucherChannel();
  const otherAdjudicator = await new Adjudicator__factory(c.deployer).deploy();
  const otherAdjudicatorAddress = await otherAdjudicator.getAddress();
  const elsewhere = {
    "another channel of the same payer and payee (next nonce)": c.channel({ channelNonce: NONCE + 1n }).id,
    "another adjudicator deployment": channelId(c.chainId, otherAdjudicatorAddress, c.fixedPart),
    "another chain id (chain id + 1)": channelId(c.chainId + 1n, c.adjudicatorAddress, c.fixedPart),
  };
  return { ...c, otherAdjudicator, otherAdjudicatorAddress, elsewhere };
}

type ReplayContext = Awaited<ReturnType<typeof replayFixture>>;
const TARGETS = [
  "another channel of the same payer and payee (next nonce)",
  "another adjudicator deployment",
  "another chain id (chain id + 1)",
] as const;

function voucherAllocations(c: ReplayContext, amount: bigint) {
  return [
    { destination: toDestination(c.alice.address), amount: DEPOSIT - amount },
    { destination: toDestination(c.bob.address), amount },
  ];
}

/** Nothing was registered in the real channel and its deposit is untouched. */
async function expectUntouched(c: ReplayContext) {
  expect(await c.adjudicator.statusOf(c.id)).to.deep.equal([0n, 0n, 0n]);
  expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
}

describe("Replay across chains, deployments and channels (security row 2)", () => {
  describe("when the payee presents a voucher that the payer signed for the same channel elsewhere", () => {
    for (const target of TARGETS) {
      it(`signed for ${target}: InvalidVoucherSignature, nothing registered, the deposit stays`, async () => {
        const c = await loadFixture(replayFixture);
        const otherId = c.elsewhere[target];
        const { signature } = await signVoucher(c.alice, otherId, AMOUNT);
        const vp = stateWith(c.funding, 2n, voucherData(AMOUNT, signature), voucherAllocations(c, AMOUNT));
        const candidate = sentByParticipant(vp, PAYEE);

        // Where it was signed, the voucher is good: the app accepts it for that channel id.
        await c.app.requireStateSupported(c.fixedPart, otherId, [c.fundingSigned], candidate);

        const recovered = voucherSigner(c.id, AMOUNT, signature);
        expect(recovered).to.not.equal(c.alice.address);
        await expect(challengeAs(c, c.bob, [c.fundingSigned], candidate))
          .to.be.revertedWithCustomError(c.app, "InvalidVoucherSignature")
          .withArgs(recovered);
        await expectUntouched(c);

        // Nor can it answer the payer's challenge with the funding state (a checkpoint only answers a challenge,
        // ADR 0005): refused the same way, and at the deadline the payer gets its whole deposit back.
        await challengeAs(c, c.alice, [], c.fundingSigned);
        const before = await c.adjudicator.statusOf(c.id);
        await expect(checkpointAs(c, c.bob, [c.fundingSigned], candidate))
          .to.be.revertedWithCustomError(c.app, "InvalidVoucherSignature")
          .withArgs(recovered);
        expect(await c.adjudicator.statusOf(c.id)).to.deep.equal(before);
        await time.increaseTo(before[1]);
        await expect(
          c.adjudicator
            .connect(c.carol)
            .transferAllAssets(c.id, stateHash(c.id, c.funding), c.funding.outcome, DEPOSIT),
        ).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [DEPOSIT, 0n, -DEPOSIT]);
      });
    }

    it("signed for another adjudicator deployment: it pays there, and only there", async () => {
      const c = await loadFixture(replayFixture);
      const otherId = c.elsewhere["another adjudicator deployment"];
      await c.otherAdjudicator.connect(c.alice).deposit(ZeroAddress, otherId, 0n, DEPOSIT, { value: DEPOSIT });
      const fundingThere = await signed(c.fixedPart, otherId, c.funding, [c.alice, c.bob]);
      const vp = await voucherState(c.alice, otherId, c.funding, 2n, AMOUNT);

      await c.otherAdjudicator
        .connect(c.bob)
        .challenge(
          c.fixedPart,
          [fundingThere],
          sentByParticipant(vp, PAYEE),
          "0x",
          await registrationNow(c.adjudicator, c.fixedPart),
        );
      await expect(challengeAs(c, c.bob, [c.fundingSigned], sentByParticipant(vp, PAYEE)))
        .to.be.revertedWithCustomError(c.app, "InvalidVoucherSignature")
        .withArgs(voucherSigner(c.id, AMOUNT, (await signVoucher(c.alice, otherId, AMOUNT)).signature));

      await time.increase(DURATION);
      await expect(
        c.otherAdjudicator
          .connect(c.bob)
          .transferAllAssets(
            otherId,
            stateHash(otherId, vp),
            vp.outcome,
            await committedEthFor(c.otherAdjudicator, otherId, stateHash(otherId, vp), vp.outcome),
          ),
      ).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.otherAdjudicator, c.adjudicator],
        [DEPOSIT - AMOUNT, AMOUNT, -DEPOSIT, 0n],
      );
      await expectUntouched(c);
    });
  });

  describe("when a state signed for the same channel elsewhere is presented here", () => {
    interface StateReplay {
      what: string;
      error: "InvalidSignature" | "NotAParticipant";
      /** Sends the replay to the real channel; returns the transaction and the expected error's args. */
      replay(c: ReplayContext, otherId: string): Promise<{ tx: Promise<unknown>; args: unknown[] }>;
    }

    const replays: StateReplay[] = [
      {
        what: "the funding state signed by both, as the payer's challenge",
        error: "InvalidSignature",
        replay: async (c, otherId) => {
          const there = await signed(c.fixedPart, otherId, c.funding, [c.alice, c.bob]);
          return {
            tx: challengeAs(c, c.alice, [], there),
            args: [0n],
          };
        },
      },
      {
        what: "the funding state signed by both, as the proof under the payee's valid voucher state",
        error: "InvalidSignature",
        replay: async (c, otherId) => {
          const there = await signed(c.fixedPart, otherId, c.funding, [c.alice, c.bob]);
          const vp = await voucherState(c.alice, c.id, c.funding, 2n, AMOUNT);
          return {
            tx: challengeAs(c, c.bob, [there], sentByParticipant(vp, PAYEE)),
            args: [0n],
          };
        },
      },
      {
        what: "a final state signed by both, to conclude and pay out",
        error: "InvalidSignature",
        replay: async (c, otherId) => {
          const final = ethState(c.alice.address, c.bob.address, 9n, 0n, DEPOSIT, { isFinal: true });
          const there = await signed(c.fixedPart, otherId, final, [c.alice, c.bob]);
          return {
            tx: c.adjudicator.connect(c.bob).concludeAndTransferAllAssets(c.fixedPart, there),
            args: [0n],
          };
        },
      },
      {
        what: "the payee's signed voucher state, sent by a watchtower",
        error: "InvalidSignature",
        replay: async (c, otherId) => {
          // The voucher inside is good for this channel; only the payee's state signature is from elsewhere.
          const vp = await voucherState(c.alice, c.id, c.funding, 2n, AMOUNT);
          const there = await signed(c.fixedPart, otherId, vp, [c.bob]);
          return {
            tx: c.adjudicator
              .connect(c.carol)
              .challenge(
                c.fixedPart,
                [c.fundingSigned],
                there,
                await signChallenge(c.bob, stateHash(c.id, vp)),
                await registrationNow(c.adjudicator, c.fixedPart),
              ),
            args: [BigInt(PAYEE)],
          };
        },
      },
      {
        what: "the payee's challenger signature, under a voucher state signed for this channel",
        error: "NotAParticipant",
        replay: async (c, otherId) => {
          const vp = await voucherState(c.alice, c.id, c.funding, 2n, AMOUNT);
          const here = await signed(c.fixedPart, c.id, vp, [c.bob]);
          const challengerSig = await signChallenge(c.bob, stateHash(otherId, vp));
          const recovered = recoverAddress(hashMessage(getBytes(challengeHash(stateHash(c.id, vp)))), challengerSig);
          return {
            tx: c.adjudicator
              .connect(c.carol)
              .challenge(
                c.fixedPart,
                [c.fundingSigned],
                here,
                challengerSig,
                await registrationNow(c.adjudicator, c.fixedPart),
              ),
            args: [recovered],
          };
        },
      },
    ];

    for (const target of TARGETS) {
      for (const { what, error, replay } of replays) {
        it(`${what}, signed for ${target}: ${error}, nothing registered or paid`, async () => {
          const c = await loadFixture(replayFixture);
          const otherId = c.elsewhere[target];
          const { tx, args } = await replay(c, otherId);
          await expect(tx)
            .to.be.revertedWithCustomError(c.adjudicator, error)
            .withArgs(...args);
          await expectUntouched(c);
        });
      }
    }

    it("the signatures used above are good where they were made (they recover to the signer there)", async () => {
      const c = await loadFixture(replayFixture);
      for (const target of TARGETS) {
        const otherId = c.elsewhere[target];
        const there = await signed(c.fixedPart, otherId, c.funding, [c.alice, c.bob]);
        expect(stateSigner(otherId, c.funding, there.sigs[0]), target).to.equal(c.alice.address);
        expect(stateSigner(otherId, c.funding, there.sigs[1]), target).to.equal(c.bob.address);
        expect(stateSigner(c.id, c.funding, there.sigs[0]), target).to.not.equal(c.alice.address);
      }
    });

    it("a funding state signed for the other deployment registers there, and the payer gets its deposit back there only", async () => {
      const c = await loadFixture(replayFixture);
      const otherId = c.elsewhere["another adjudicator deployment"];
      await c.otherAdjudicator.connect(c.alice).deposit(ZeroAddress, otherId, 0n, DEPOSIT, { value: DEPOSIT });
      const there = await signed(c.fixedPart, otherId, c.funding, [c.alice, c.bob]);
      await c.otherAdjudicator
        .connect(c.alice)
        .challenge(c.fixedPart, [], there, "0x", await registrationNow(c.otherAdjudicator, c.fixedPart));
      await expect(challengeAs(c, c.alice, [], there))
        .to.be.revertedWithCustomError(c.adjudicator, "InvalidSignature")
        .withArgs(0n);
      await time.increase(DURATION);
      await expect(
        c.otherAdjudicator.transferAllAssets(
          otherId,
          stateHash(otherId, c.funding),
          c.funding.outcome,
          await committedEthFor(c.otherAdjudicator, otherId, stateHash(otherId, c.funding), c.funding.outcome),
        ),
      ).to.changeEtherBalances(ethers, [c.alice, c.otherAdjudicator, c.adjudicator], [DEPOSIT, -DEPOSIT, 0n]);
      await expectUntouched(c);
    });
  });
});
