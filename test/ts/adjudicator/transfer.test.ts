// transfer and transferAllAssets: paying a finalized outcome, all of it or by allocation index, to addresses or to
// other channels (docs/security.md row 10 for a payee that refuses ETH). Anyone may send a payout; it pays only the
// outcome's payees, and each at most once.
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import {
  fingerprint,
  NO_REGISTRATION,
  type Outcome,
  outcomeHash,
  stateHash,
  toDestination,
  type VariablePart,
} from "../../../sdk/index.js";
import { RevertingReceiver__factory, SenderFeeToken__factory } from "../../../typechain-types/index.js";
import { ethers, networkHelpers, signed } from "../helpers/fixtures.js";
import { ethHeldNow, ethHeldOwing, registrationNow } from "../helpers/registration.js";
import {
  challengeWith,
  DEPOSIT,
  type Funded,
  finalizeWith,
  fundedFixture,
  payOut,
  sameVariablePart,
} from "./helpers.js";

const { loadFixture, time } = networkHelpers;
const ALICE_GETS = parseEther("0.3");
const BOB_GETS = parseEther("0.7");

/** The channel finalized by a challenge with alice 0.3, bob 0.7 ETH; returns the state and its hash. */
async function finalized(c: Funded, vp: VariablePart = c.state(2n, ALICE_GETS, BOB_GETS)) {
  await finalizeWith(c, vp);
  return { vp, hash: stateHash(c.id, vp) };
}

/** An ETH outcome paying `payees` (addresses or channel ids) in order. */
function ethOutcome(payees: [string, bigint][]): Outcome {
  return [
    {
      asset: ZeroAddress,
      allocations: payees.map(([to, amount]) => ({
        destination: to.length === 42 ? toDestination(to) : to,
        amount,
      })),
    },
  ];
}

describe("Adjudicator.transfer and transferAllAssets", () => {
  describe("when the channel has not finalized", () => {
    it("open: ChannelNotFinalized, the deposit stays", async () => {
      const c = await loadFixture(fundedFixture);
      const vp = c.state(2n, ALICE_GETS, BOB_GETS);
      await expect(payOut(c, vp, c.bob))
        .to.be.revertedWithCustomError(c.adjudicator, "ChannelNotFinalized")
        .withArgs(c.id);
      await expect(c.adjudicator.transfer(0n, c.id, stateHash(c.id, vp), vp.outcome, DEPOSIT, []))
        .to.be.revertedWithCustomError(c.adjudicator, "ChannelNotFinalized")
        .withArgs(c.id);
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
    });

    it("during a challenge, one second before finalizesAt: ChannelNotFinalized; at finalizesAt: paid", async () => {
      const c = await loadFixture(fundedFixture);
      const vp = c.state(2n, ALICE_GETS, BOB_GETS);
      const finalizesAt = await challengeWith(c, vp);
      await time.setNextBlockTimestamp(finalizesAt - 1n);
      await expect(c.adjudicator.transfer(0n, c.id, stateHash(c.id, vp), vp.outcome, DEPOSIT, []))
        .to.be.revertedWithCustomError(c.adjudicator, "ChannelNotFinalized")
        .withArgs(c.id);
      await time.setNextBlockTimestamp(finalizesAt);
      await expect(
        c.adjudicator.transfer(0n, c.id, stateHash(c.id, vp), vp.outcome, DEPOSIT, []),
      ).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [ALICE_GETS, BOB_GETS, -DEPOSIT]);
    });
  });

  describe("when the channel has finalized", () => {
    it("transferAllAssets by a stranger: alice gets 0.3, bob 0.7 ETH, the stranger nothing (HoldingsUpdated to 0)", async () => {
      const c = await loadFixture(fundedFixture);
      const { vp } = await finalized(c);
      const tx = payOut(c, vp, c.carol);
      await expect(tx).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.carol, c.adjudicator],
        [ALICE_GETS, BOB_GETS, 0n, -DEPOSIT],
      );
      await expect(tx).to.emit(c.adjudicator, "HoldingsUpdated").withArgs(c.id, ZeroAddress, 0n);
      await expect(tx)
        .to.emit(c.adjudicator, "PaidOut")
        .withArgs(c.id, ZeroAddress, toDestination(c.alice.address), ALICE_GETS)
        .and.to.emit(c.adjudicator, "PaidOut")
        .withArgs(c.id, ZeroAddress, toDestination(c.bob.address), BOB_GETS);
      const [turnNumRecord, finalizesAt, fingerprint] = await c.adjudicator.statusOf(c.id);
      expect([turnNumRecord, fingerprint]).to.deep.equal([2n, 0n]);
      expect(finalizesAt).to.not.equal(0n);
    });

    it("paid twice: FingerprintMismatch the second time, nobody is paid twice", async () => {
      const c = await loadFixture(fundedFixture);
      const { vp } = await finalized(c);
      await payOut(c, vp, c.carol);
      await expect(payOut(c, vp, c.carol))
        .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
        .withArgs(c.id);
    });

    it("with the wrong state hash or an outcome off by 1 wei: FingerprintMismatch, nobody is paid", async () => {
      const c = await loadFixture(fundedFixture);
      const { vp, hash } = await finalized(c);
      const other = c.state(3n, ALICE_GETS, BOB_GETS);
      await expect(c.adjudicator.transferAllAssets(c.id, stateHash(c.id, other), vp.outcome, DEPOSIT))
        .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
        .withArgs(c.id);
      await expect(c.adjudicator.transferAllAssets(c.id, hash, c.state(2n, ALICE_GETS, BOB_GETS + 1n).outcome, DEPOSIT))
        .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
        .withArgs(c.id);
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
    });

    it("transfer with an asset index past the outcome: InvalidAssetIndex(index, assetCount)", async () => {
      const c = await loadFixture(fundedFixture);
      const { vp, hash } = await finalized(c);
      await expect(c.adjudicator.transfer(1n, c.id, hash, vp.outcome, DEPOSIT, []))
        .to.be.revertedWithCustomError(c.adjudicator, "InvalidAssetIndex")
        .withArgs(1n, 1n);
      await expect(c.adjudicator.transfer(0n, c.id, hash, [], DEPOSIT, []))
        .to.be.revertedWithCustomError(c.adjudicator, "InvalidAssetIndex")
        .withArgs(0n, 0n);
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
    });
  });

  describe("payout by allocation index", () => {
    it("[1] pays only bob 0.7; then [0] of the outcome still owed pays alice 0.3; nothing is left", async () => {
      const c = await loadFixture(fundedFixture);
      const { vp, hash } = await finalized(c);
      await expect(c.adjudicator.transfer(0n, c.id, hash, vp.outcome, DEPOSIT, [1n])).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [0n, BOB_GETS, -BOB_GETS],
      );
      // The registered outcome is now the one still owed.
      await expect(c.adjudicator.transfer(0n, c.id, hash, vp.outcome, ALICE_GETS, [0n]))
        .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
        .withArgs(c.id);
      const owed = c.state(2n, ALICE_GETS, 0n).outcome;
      await expect(c.adjudicator.transfer(0n, c.id, hash, owed, ALICE_GETS, [0n])).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [ALICE_GETS, 0n, -ALICE_GETS],
      );
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(0n);
      expect((await c.adjudicator.statusOf(c.id))[2]).to.equal(0n);
    });

    it("[0, 1] pays both, like an empty list", async () => {
      const c = await loadFixture(fundedFixture);
      const { vp, hash } = await finalized(c);
      await expect(c.adjudicator.transfer(0n, c.id, hash, vp.outcome, DEPOSIT, [0n, 1n])).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [ALICE_GETS, BOB_GETS, -DEPOSIT],
      );
    });

    it("an allocation paid by index cannot jump the queue: with 1 ETH for [alice 0.7, bob 0.7], [1] pays bob only the 0.3 alice leaves", async () => {
      const c = await loadFixture(fundedFixture);
      const vp = c.state(2n, parseEther("0.7"), parseEther("0.7"));
      const { hash } = await finalized(c, vp);
      await expect(c.adjudicator.transfer(0n, c.id, hash, vp.outcome, DEPOSIT, [1n])).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [0n, parseEther("0.3"), -parseEther("0.3")],
      );
      const owed = c.state(2n, parseEther("0.7"), parseEther("0.4")).outcome;
      await expect(c.adjudicator.transfer(0n, c.id, hash, owed, parseEther("0.7"), [0n])).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [parseEther("0.7"), 0n, -parseEther("0.7")],
      );
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(0n);
    });

    const badIndices: [string, bigint[], bigint, bigint][] = [
      ["out of range ([2] of 2 allocations)", [2n], 0n, 2n],
      ["out of range after a good one ([0, 5])", [0n, 5n], 1n, 5n],
      ["repeated ([1, 1])", [1n, 1n], 1n, 1n],
      ["decreasing ([1, 0])", [1n, 0n], 1n, 0n],
    ];
    for (const [what, indices, position, index] of badIndices) {
      it(`indices ${what}: InvalidAllocationIndex(${position}, ${index}), nobody is paid`, async () => {
        const c = await loadFixture(fundedFixture);
        const { vp, hash } = await finalized(c);
        await expect(c.adjudicator.transfer(0n, c.id, hash, vp.outcome, DEPOSIT, indices))
          .to.be.revertedWithCustomError(c.adjudicator, "InvalidAllocationIndex")
          .withArgs(position, index);
        expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
      });
    }
  });

  describe("channel to channel: a destination that is a channel id", () => {
    it("the target channel's holdings rise by its allocation, no ETH leaves; the target pays it out later", async () => {
      const c = await loadFixture(fundedFixture);
      const target = c.channel({ channelNonce: 2n });
      await c.adjudicator.connect(c.bob).deposit(ZeroAddress, target.id, 0n, 5n, { value: 5n });
      const outcome = ethOutcome([
        [c.alice.address, ALICE_GETS],
        [target.id, BOB_GETS],
      ]);
      const vp: VariablePart = { outcome, appData: "0x", turnNum: 2n, isFinal: false };
      await finalizeWith(c, vp);
      const tx = payOut(c, vp, c.carol);
      await expect(tx).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [ALICE_GETS, 0n, -ALICE_GETS]);
      await expect(tx).to.emit(c.adjudicator, "HoldingsUpdated").withArgs(c.id, ZeroAddress, 0n);
      await expect(tx)
        .to.emit(c.adjudicator, "HoldingsUpdated")
        .withArgs(target.id, ZeroAddress, BOB_GETS + 5n);
      expect(await ethHeldNow(c.adjudicator, target.id)).to.equal(BOB_GETS + 5n);

      // The target channel closes: bob gets all it holds.
      const final = c.state(1n, 0n, BOB_GETS + 5n, { isFinal: true });
      await expect(
        c.adjudicator.concludeAndTransferAllAssets(
          target.fixedPart,
          await signed(target.fixedPart, target.id, final, [c.alice, c.bob]),
        ),
      ).to.changeEtherBalances(ethers, [c.bob, c.adjudicator], [BOB_GETS + 5n, -(BOB_GETS + 5n)]);
    });

    /** A target channel holding 5 wei, challenged with `vp` (paying `bobGets` to bob): its ETH is committed. */
    async function committedTarget(c: Funded, bobGets: bigint) {
      const target = c.channel({ channelNonce: 2n });
      await c.adjudicator.connect(c.bob).deposit(ZeroAddress, target.id, 0n, 5n, { value: 5n });
      const vp = c.state(1n, 0n, bobGets);
      const signedVp = await signed(target.fixedPart, target.id, vp, [c.alice, c.bob]);
      await c.adjudicator.connect(c.alice).challenge(target.fixedPart, [], signedVp, "0x", NO_REGISTRATION);
      const registration = { stateHash: stateHash(target.id, vp), outcomeHash: outcomeHash(vp.outcome), heldEth: 5n };
      return { ...target, vp, registration };
    }

    /** A state of channel c paying alice ALICE_GETS and `target` BOB_GETS. */
    function paying(c: Funded, target: string): VariablePart {
      const outcome = ethOutcome([
        [c.alice.address, ALICE_GETS],
        [target, BOB_GETS],
      ]);
      return { outcome, appData: "0x", turnNum: 2n, isFinal: false };
    }

    it("into a target under challenge: kept apart (LateEthUpdated), its committed 5 wei untouched; a checkpoint replaces the target's state but keeps it apart, and the target's payout pays both", async () => {
      const c = await loadFixture(fundedFixture);
      const vp = paying(c, c.channel({ channelNonce: 2n }).id);
      await finalizeWith(c, vp);
      const target = await committedTarget(c, 5n);
      const [, targetDeadline, fingerprintBefore] = await c.adjudicator.statusOf(target.id);
      const tx = payOut(c, vp, c.carol);
      await expect(tx).to.changeEtherBalances(ethers, [c.alice, c.adjudicator], [ALICE_GETS, -ALICE_GETS]);
      await expect(tx).to.emit(c.adjudicator, "LateEthUpdated").withArgs(target.id, BOB_GETS);
      expect((await c.adjudicator.statusOf(target.id))[2]).to.equal(fingerprintBefore);
      await expect(c.adjudicator.holdings(ZeroAddress, target.id))
        .to.be.revertedWithCustomError(c.adjudicator, "EthCommitted")
        .withArgs(target.id);
      expect(await c.adjudicator.ethHoldings(target.id, target.registration)).to.equal(5n + BOB_GETS);

      // A wrong registration cannot answer the challenge; the right one replaces the registered state (with the
      // 5 wei committed) and keeps the deadline. Nothing reopens the target, so the late ETH stays apart.
      const newerVp = c.state(2n, 5n, BOB_GETS);
      const newer = await signed(target.fixedPart, target.id, newerVp, [c.alice, c.bob]);
      await expect(c.adjudicator.checkpoint(target.fixedPart, [], newer, { ...target.registration, heldEth: 6n }))
        .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
        .withArgs(target.id);
      const answer = c.adjudicator.checkpoint(target.fixedPart, [], newer, target.registration);
      await expect(answer)
        .to.emit(c.adjudicator, "ChallengeRegistered")
        .withArgs(target.id, targetDeadline, ...sameVariablePart(newerVp), 5n);
      await expect(answer).not.to.emit(c.adjudicator, "LateEthUpdated");
      await expect(answer).not.to.emit(c.adjudicator, "HoldingsUpdated");
      const newerRegistration = {
        stateHash: stateHash(target.id, newerVp),
        outcomeHash: outcomeHash(newerVp.outcome),
        heldEth: 5n,
      };
      expect(await c.adjudicator.statusOf(target.id)).to.deep.equal([
        2n,
        targetDeadline,
        fingerprint(newerRegistration.stateHash, newerRegistration.outcomeHash, 5n),
      ]);
      await expect(c.adjudicator.holdings(ZeroAddress, target.id))
        .to.be.revertedWithCustomError(c.adjudicator, "EthCommitted")
        .withArgs(target.id);
      expect(await c.adjudicator.ethHoldings(target.id, newerRegistration)).to.equal(5n + BOB_GETS);
      expect(await ethers.provider.getBalance(c.adjudicatorAddress)).to.equal(5n + BOB_GETS);

      // At the target's deadline its payout joins the late ETH to the committed: alice 5 wei, bob BOB_GETS.
      await time.increaseTo(targetDeadline);
      const payout = c.adjudicator
        .connect(c.carol)
        .transferAllAssets(target.id, newerRegistration.stateHash, newerVp.outcome, 5n);
      await expect(payout).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [5n, BOB_GETS, -(5n + BOB_GETS)],
      );
      await expect(payout).to.emit(c.adjudicator, "LateEthUpdated").withArgs(target.id, 0n);
      expect(await c.adjudicator.holdings(ZeroAddress, target.id)).to.equal(0n);
    });

    it("into a finalized target still owed: its payout pays from the committed and the credited ETH together", async () => {
      const c = await loadFixture(fundedFixture);
      // The target owes bob 5 wei + BOB_GETS but holds 5 wei: it waits for the source's payout.
      const target = await committedTarget(c, 5n + BOB_GETS);
      const vp = paying(c, target.id);
      await finalizeWith(c, vp); // the target's challenge runs out too
      await payOut(c, vp, c.carol);
      expect(await c.adjudicator.isFinalized(target.id)).to.equal(true);
      expect(await c.adjudicator.ethHoldings(target.id, target.registration)).to.equal(5n + BOB_GETS);
      const payout = c.adjudicator.transferAllAssets(
        target.id,
        target.registration.stateHash,
        target.vp.outcome,
        target.registration.heldEth,
      );
      await expect(payout).to.changeEtherBalances(ethers, [c.bob, c.adjudicator], [5n + BOB_GETS, -(5n + BOB_GETS)]);
      await expect(payout).to.emit(c.adjudicator, "LateEthUpdated").withArgs(target.id, 0n);
      await expect(payout).to.emit(c.adjudicator, "HoldingsUpdated").withArgs(target.id, ZeroAddress, 0n);
      // Nothing owed or held: fingerprint 0, and holdings() can say 0 again.
      expect((await c.adjudicator.statusOf(target.id))[2]).to.equal(0n);
      expect(await c.adjudicator.holdings(ZeroAddress, target.id)).to.equal(0n);
    });

    it("by index: [1] credits only the target channel; alice's allocation stays owed", async () => {
      const c = await loadFixture(fundedFixture);
      const target = c.channel({ channelNonce: 2n });
      const outcome = ethOutcome([
        [c.alice.address, ALICE_GETS],
        [target.id, BOB_GETS],
      ]);
      const vp: VariablePart = { outcome, appData: "0x", turnNum: 2n, isFinal: false };
      await finalizeWith(c, vp);
      await expect(
        c.adjudicator.transfer(0n, c.id, stateHash(c.id, vp), outcome, DEPOSIT, [1n]),
      ).to.changeEtherBalances(ethers, [c.alice, c.adjudicator], [0n, 0n]);
      const owed = [
        {
          asset: ZeroAddress,
          allocations: [
            { destination: toDestination(c.alice.address), amount: ALICE_GETS },
            { destination: target.id, amount: 0n },
          ],
        },
      ];
      expect([
        await ethHeldOwing(c.adjudicator, c.id, stateHash(c.id, vp), owed),
        await ethHeldNow(c.adjudicator, target.id),
      ]).to.deep.equal([ALICE_GETS, BOB_GETS]);
    });
  });

  describe("when an ETH payee refuses payment (security row 10)", () => {
    /** Channel finalized with [reverter 0.2, alice 0.3, bob 0.5]. */
    async function withRevertingPayee(c: Funded) {
      const reverter = await new RevertingReceiver__factory(c.deployer).deploy();
      const to = await reverter.getAddress();
      const outcome = ethOutcome([
        [to, parseEther("0.2")],
        [c.alice.address, parseEther("0.3")],
        [c.bob.address, parseEther("0.5")],
      ]);
      const vp: VariablePart = { outcome, appData: "0x", turnNum: 2n, isFinal: false };
      return { to, vp, outcome };
    }

    it("transferAllAssets reverts with EthPayoutFailed(payee, amount); nobody is paid, the channel keeps 1 ETH", async () => {
      const c = await loadFixture(fundedFixture);
      const { to, vp } = await withRevertingPayee(c);
      await finalizeWith(c, vp);
      await expect(payOut(c, vp, c.bob))
        .to.be.revertedWithCustomError(c.adjudicator, "EthPayoutFailed")
        .withArgs(to, parseEther("0.2"));
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
    });

    it("the others are paid by index ([1, 2]: alice 0.3, bob 0.5); the refuser's 0.2 stays owed in the channel", async () => {
      const c = await loadFixture(fundedFixture);
      const { to, vp, outcome } = await withRevertingPayee(c);
      await finalizeWith(c, vp);
      const hash = stateHash(c.id, vp);
      await expect(c.adjudicator.transfer(0n, c.id, hash, outcome, DEPOSIT, [1n, 2n])).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, to, c.adjudicator],
        [parseEther("0.3"), parseEther("0.5"), 0n, -parseEther("0.8")],
      );
      const owed = ethOutcome([
        [to, parseEther("0.2")],
        [c.alice.address, 0n],
        [c.bob.address, 0n],
      ]);
      expect(await ethHeldOwing(c.adjudicator, c.id, hash, owed)).to.equal(parseEther("0.2"));
      // Still refused, still owed: nothing is lost, and nobody else can take it.
      await expect(c.adjudicator.transfer(0n, c.id, hash, owed, parseEther("0.2"), [0n]))
        .to.be.revertedWithCustomError(c.adjudicator, "EthPayoutFailed")
        .withArgs(to, parseEther("0.2"));
      expect(await ethHeldOwing(c.adjudicator, c.id, hash, owed)).to.equal(parseEther("0.2"));
    });

    it("a cooperative close that pays it reverts as a whole; conclude, then transfer by index, pays the others", async () => {
      const c = await loadFixture(fundedFixture);
      const { to, vp, outcome } = await withRevertingPayee(c);
      const final = await c.byBoth({ ...vp, isFinal: true });
      await expect(c.adjudicator.concludeAndTransferAllAssets(c.fixedPart, final))
        .to.be.revertedWithCustomError(c.adjudicator, "EthPayoutFailed")
        .withArgs(to, parseEther("0.2"));
      expect(await c.adjudicator.isFinalized(c.id)).to.equal(false);
      await c.adjudicator.conclude(c.fixedPart, final, await registrationNow(c.adjudicator, c.fixedPart));
      await expect(
        c.adjudicator.transfer(0n, c.id, stateHash(c.id, final.variablePart), outcome, DEPOSIT, [1n, 2n]),
      ).to.changeEtherBalances(ethers, [c.alice, c.bob], [parseEther("0.3"), parseEther("0.5")]);
      const owed = ethOutcome([
        [to, parseEther("0.2")],
        [c.alice.address, 0n],
        [c.bob.address, 0n],
      ]);
      expect(await ethHeldOwing(c.adjudicator, c.id, stateHash(c.id, final.variablePart), owed)).to.equal(
        parseEther("0.2"),
      );
    });
  });

  describe("when a token moves another amount than the one paid", () => {
    it("a token that charges the payer 1% on top: TokenBalanceMismatch(asset, 1000, 1010), nobody is paid, the holdings stay", async () => {
      const c = await loadFixture(fundedFixture);
      const token = await new SenderFeeToken__factory(c.deployer).deploy();
      const asset = await token.getAddress();
      await token.mint(c.alice.address, 2000n);
      await token.connect(c.alice).approve(c.adjudicatorAddress, 2000n);
      // Deposits with the fee off; a second channel's 1000 gives the adjudicator enough to pay the fee from.
      await token.setFeeOn(false);
      await c.adjudicator.connect(c.alice).deposit(asset, c.id, 0n, 1000n);
      await c.adjudicator.connect(c.alice).deposit(asset, c.channel({ channelNonce: 2n }).id, 0n, 1000n);
      await token.setFeeOn(true);
      const outcome = [
        {
          asset,
          allocations: [{ destination: toDestination(c.bob.address), amount: 1000n }],
        },
      ];
      const vp: VariablePart = { outcome, appData: "0x", turnNum: 2n, isFinal: false };
      await finalizeWith(c, vp);
      await expect(payOut(c, vp, c.bob))
        .to.be.revertedWithCustomError(c.adjudicator, "TokenBalanceMismatch")
        .withArgs(asset, 1000n, 1010n);
      expect(await c.adjudicator.holdings(asset, c.id)).to.equal(1000n);
      expect(await token.balanceOf(c.bob.address)).to.equal(0n);
    });
  });
});
