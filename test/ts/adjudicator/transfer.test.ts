// transfer and transferAllAssets: paying a finalized outcome, all of it or by allocation index, to addresses; a
// destination that is a channel is a guarantee and never paid (docs/security.md row 10 for a payee that refuses ETH). Anyone may send a payout; it pays only the
// outcome's payees, and each at most once.
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import { type Outcome, stateHash, toDestination, type VariablePart } from "../../../sdk/index.js";
import { RevertingReceiver__factory, SenderFeeToken__factory } from "../../../typechain-types/index.js";
import { ethers, networkHelpers, signed } from "../helpers/fixtures.js";
import { ethHeldNow, ethHeldOwing, registrationNow } from "../helpers/registration.js";
import { challengeWith, DEPOSIT, type Funded, finalizeWith, fundedFixture, payOut } from "./helpers.js";

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

  describe("guarantees: a destination that is a channel id is never paid (ADR 0021)", () => {
    const GUARANTEE = parseEther("0.5");
    const BOB_AFTER = parseEther("0.2");

    /** The channel finalized with [alice 0.3, guarantee for `target` 0.5, bob 0.2] of its 1 ETH. */
    async function withGuarantee(c: Funded, target: string) {
      const outcome = ethOutcome([
        [c.alice.address, ALICE_GETS],
        [target, GUARANTEE],
        [c.bob.address, BOB_AFTER],
      ]);
      const vp: VariablePart = { outcome, appData: "0x", turnNum: 2n, isFinal: false };
      await finalizeWith(c, vp);
      return { vp, hash: stateHash(c.id, vp), outcome };
    }

    /** `outcome` with the allocation amounts replaced. */
    function owing(outcome: Outcome, amounts: bigint[]): Outcome {
      return [{ ...outcome[0], allocations: outcome[0].allocations.map((a, i) => ({ ...a, amount: amounts[i] })) }];
    }

    it("transferAllAssets pays alice and bob, leaves the guarantee's 0.5 ETH in the channel, owed; the target gets nothing", async () => {
      const c = await loadFixture(fundedFixture);
      const target = c.channel({ channelNonce: 2n });
      const { hash, outcome } = await withGuarantee(c, target.id);
      const tx = c.adjudicator.connect(c.carol).transferAllAssets(c.id, hash, outcome, DEPOSIT);
      await expect(tx).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [ALICE_GETS, BOB_AFTER, -(ALICE_GETS + BOB_AFTER)],
      );
      await expect(tx).to.emit(c.adjudicator, "HoldingsUpdated").withArgs(c.id, ZeroAddress, GUARANTEE);
      expect(await c.adjudicator.holdings(ZeroAddress, target.id)).to.equal(0n);
      expect(await ethHeldOwing(c.adjudicator, c.id, hash, owing(outcome, [0n, GUARANTEE, 0n]))).to.equal(GUARANTEE);
      // Paying again pays nobody: the guarantee is still owed, and only reclaim resolves it.
      await expect(
        c.adjudicator.transferAllAssets(c.id, hash, owing(outcome, [0n, GUARANTEE, 0n]), GUARANTEE),
      ).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [0n, 0n, 0n]);
    });

    it("transfer naming the guarantee: GuaranteeNotPayable(1), nobody is paid", async () => {
      const c = await loadFixture(fundedFixture);
      const { hash, outcome } = await withGuarantee(c, c.channel({ channelNonce: 2n }).id);
      for (const indices of [[1n], [0n, 1n], [1n, 2n]]) {
        await expect(c.adjudicator.transfer(0n, c.id, hash, outcome, DEPOSIT, indices))
          .to.be.revertedWithCustomError(c.adjudicator, "GuaranteeNotPayable")
          .withArgs(1n);
      }
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
    });

    it("transfer naming the balance after a guarantee ([2]) pays bob his 0.2, not the guarantee's amount", async () => {
      const c = await loadFixture(fundedFixture);
      const { hash, outcome } = await withGuarantee(c, c.channel({ channelNonce: 2n }).id);
      await expect(c.adjudicator.transfer(0n, c.id, hash, outcome, DEPOSIT, [2n])).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [0n, BOB_AFTER, -BOB_AFTER],
      );
      expect(await ethHeldOwing(c.adjudicator, c.id, hash, owing(outcome, [ALICE_GETS, GUARANTEE, 0n]))).to.equal(
        DEPOSIT - BOB_AFTER,
      );
    });

    it("a guarantee keeps its place: with 1 ETH for [guarantee 0.7, bob 0.7], bob gets only the 0.3 it leaves", async () => {
      const c = await loadFixture(fundedFixture);
      const target = c.channel({ channelNonce: 2n });
      const outcome = ethOutcome([
        [target.id, parseEther("0.7")],
        [c.bob.address, parseEther("0.7")],
      ]);
      const vp: VariablePart = { outcome, appData: "0x", turnNum: 2n, isFinal: false };
      await finalizeWith(c, vp);
      await expect(c.adjudicator.transferAllAssets(c.id, stateHash(c.id, vp), outcome, DEPOSIT)).to.changeEtherBalances(
        ethers,
        [c.bob, c.adjudicator],
        [parseEther("0.3"), -parseEther("0.3")],
      );
      expect(await ethHeldNow(c.adjudicator, target.id)).to.equal(0n);
    });

    it("a cooperative close with a guarantee pays the others and keeps the guarantee's ETH committed", async () => {
      const c = await loadFixture(fundedFixture);
      const target = c.channel({ channelNonce: 2n });
      const outcome = ethOutcome([
        [c.alice.address, ALICE_GETS],
        [target.id, GUARANTEE],
        [c.bob.address, BOB_AFTER],
      ]);
      const final: VariablePart = { outcome, appData: "0x", turnNum: 3n, isFinal: true };
      const tx = c.adjudicator.concludeAndTransferAllAssets(
        c.fixedPart,
        await signed(c.fixedPart, c.id, final, [c.alice, c.bob]),
      );
      await expect(tx).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [ALICE_GETS, BOB_AFTER, -(ALICE_GETS + BOB_AFTER)],
      );
      await expect(tx).to.emit(c.adjudicator, "Concluded");
      expect(
        await ethHeldOwing(c.adjudicator, c.id, stateHash(c.id, final), owing(outcome, [0n, GUARANTEE, 0n])),
      ).to.equal(GUARANTEE);
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
