// docs/security.md rows 11 and 12 for tokens that break the ERC-20 conventions: no return value, false instead of a
// revert, a fee burnt on every transfer. A deposit or payout either succeeds with exact accounting or reverts;
// it is never a silent "paid", and the sum of the channels' holdings never exceeds the adjudicator's balance.
import { expect } from "chai";
import { ethers, networkHelpers } from "../helpers/fixtures.js";
import { concludeWith, depositToken, exit, MINTED, tokensFixture, totalHeld } from "./helpers.js";

const { loadFixture } = networkHelpers;

/** What FeeOnTransferToken delivers of `amount` (1% burnt, rounded down). */
const afterFee = (amount: bigint) => amount - (amount * 100n) / 10_000n;

describe("Adjudicator with hostile ERC-20 tokens", () => {
  describe("NoReturnToken: transfer and transferFrom return nothing (like USDT)", () => {
    it("when deposited: the channel is credited exactly the amount", async () => {
      const c = await loadFixture(tokensFixture);
      const [{ id }] = c.channels;
      const asset = await c.noReturn.getAddress();
      const tx = depositToken(c, c.noReturn, c.alice, id, 1000n);
      await expect(tx).to.emit(c.adjudicator, "HoldingsUpdated").withArgs(id, asset, 1000n);
      await expect(tx).to.changeTokenBalances(ethers, c.noReturn, [c.alice, c.adjudicator], [-1000n, 1000n]);
    });

    it("when deposited without an approval: the token's own revert (underflow) comes through, nothing credited", async () => {
      const c = await loadFixture(tokensFixture);
      const [{ id }] = c.channels;
      const asset = await c.noReturn.getAddress();
      await expect(c.adjudicator.connect(c.alice).deposit(asset, id, 0n, 1000n)).to.be.revertedWithPanic(0x11);
      expect(await c.adjudicator.holdings(asset, id)).to.equal(0n);
      expect(await c.noReturn.balanceOf(c.alice.address)).to.equal(MINTED);
    });

    it("when paid out: each payee gets exactly its allocation, the holdings go to 0", async () => {
      const c = await loadFixture(tokensFixture);
      const [channel] = c.channels;
      const asset = await c.noReturn.getAddress();
      await depositToken(c, c.noReturn, c.alice, channel.id, 1000n);
      const outcome = [
        exit(asset, [
          [c.alice.address, 350n],
          [c.bob.address, 650n],
        ]),
      ];
      const hash = await concludeWith(c, channel, outcome);
      await expect(c.adjudicator.transferAllAssets(channel.id, hash, outcome, 0n)).to.changeTokenBalances(
        ethers,
        c.noReturn,
        [c.alice, c.bob, c.adjudicator],
        [350n, 650n, -1000n],
      );
      expect(await c.adjudicator.holdings(asset, channel.id)).to.equal(0n);
    });
  });

  describe("FalseReturningToken: transfer and transferFrom return false and move nothing", () => {
    it("when deposited: SafeERC20FailedOperation(token), nothing credited, nothing moved", async () => {
      const c = await loadFixture(tokensFixture);
      const [{ id }] = c.channels;
      const asset = await c.falseReturning.getAddress();
      await c.falseReturning.connect(c.alice).approve(c.adjudicatorAddress, 1000n);
      await expect(c.adjudicator.connect(c.alice).deposit(asset, id, 0n, 1000n))
        .to.be.revertedWithCustomError(c.adjudicator, "SafeERC20FailedOperation")
        .withArgs(asset);
      expect(await c.adjudicator.holdings(asset, id)).to.equal(0n);
      expect(await c.falseReturning.balanceOf(c.alice.address)).to.equal(MINTED);
      expect(await c.falseReturning.balanceOf(c.adjudicatorAddress)).to.equal(0n);
    });
  });

  describe("SwitchableFalseToken: returns false (moving nothing) once switched, like a paused token", () => {
    it("when a payout meets false: SafeERC20FailedOperation, nothing paid, the channel still owes it; paid exactly once the token works", async () => {
      const c = await loadFixture(tokensFixture);
      const [channel] = c.channels;
      const asset = await c.switchable.getAddress();
      await depositToken(c, c.switchable, c.alice, channel.id, 1000n);
      const outcome = [
        exit(asset, [
          [c.alice.address, 100n],
          [c.bob.address, 900n],
        ]),
      ];
      const hash = await concludeWith(c, channel, outcome);
      const status = await c.adjudicator.statusOf(channel.id);

      await c.switchable.setFailing(true);
      await expect(c.adjudicator.transferAllAssets(channel.id, hash, outcome, 0n))
        .to.be.revertedWithCustomError(c.adjudicator, "SafeERC20FailedOperation")
        .withArgs(asset);
      expect(await c.adjudicator.holdings(asset, channel.id)).to.equal(1000n);
      expect(await c.adjudicator.statusOf(channel.id)).to.deep.equal(status);
      expect(await c.switchable.balanceOf(c.bob.address)).to.equal(MINTED);

      await c.switchable.setFailing(false);
      await expect(c.adjudicator.transferAllAssets(channel.id, hash, outcome, 0n)).to.changeTokenBalances(
        ethers,
        c.switchable,
        [c.alice, c.bob, c.adjudicator],
        [100n, 900n, -1000n],
      );
    });

    it("when a deposit meets false: SafeERC20FailedOperation, nothing credited", async () => {
      const c = await loadFixture(tokensFixture);
      const [{ id }] = c.channels;
      const asset = await c.switchable.getAddress();
      await c.switchable.connect(c.alice).approve(c.adjudicatorAddress, 1000n);
      await c.switchable.setFailing(true);
      await expect(c.adjudicator.connect(c.alice).deposit(asset, id, 0n, 1000n))
        .to.be.revertedWithCustomError(c.adjudicator, "SafeERC20FailedOperation")
        .withArgs(asset);
      expect(await c.adjudicator.holdings(asset, id)).to.equal(0n);
    });
  });

  describe("FeeOnTransferToken: 1% of every transfer is burnt", () => {
    for (const amount of [1n, 99n, 100n, 1000n, 12_345n, MINTED]) {
      it(`when ${amount} is deposited: the channel is credited the measured ${afterFee(amount)}, not the amount sent`, async () => {
        const c = await loadFixture(tokensFixture);
        const [{ id }] = c.channels;
        const asset = await c.fee.getAddress();
        const tx = depositToken(c, c.fee, c.alice, id, amount);
        await expect(tx).to.emit(c.adjudicator, "HoldingsUpdated").withArgs(id, asset, afterFee(amount));
        await expect(tx).to.changeTokenBalances(ethers, c.fee, [c.alice, c.adjudicator], [-amount, afterFee(amount)]);
        expect(await c.adjudicator.holdings(asset, id)).to.equal(await c.fee.balanceOf(c.adjudicatorAddress));
      });
    }

    it("when a second depositor passes the nominal amount as expectedHeld: HoldingsChanged (the channel holds what was measured)", async () => {
      const c = await loadFixture(tokensFixture);
      const [{ id }] = c.channels;
      const asset = await c.fee.getAddress();
      await depositToken(c, c.fee, c.alice, id, 1000n);
      await c.fee.connect(c.bob).approve(c.adjudicatorAddress, 1000n);
      await expect(c.adjudicator.connect(c.bob).deposit(asset, id, 1000n, 1000n))
        .to.be.revertedWithCustomError(c.adjudicator, "HoldingsChanged")
        .withArgs(id, asset, 1000n, 990n);
    });

    it("when several channels are funded and paid out: the sum of the holdings equals the adjudicator's balance after every step", async () => {
      const c = await loadFixture(tokensFixture);
      const asset = await c.fee.getAddress();
      const ids = c.channels.map((ch) => ch.id);
      const expectBacked = async (step: string) =>
        expect(await totalHeld(c, asset, ids), step).to.equal(await c.fee.balanceOf(c.adjudicatorAddress));

      const deposits: [number, "alice" | "bob", bigint][] = [
        [0, "alice", 1000n],
        [1, "alice", 2_500n],
        [0, "bob", 777n],
        [2, "bob", 10_000n],
        [1, "bob", 3n],
      ];
      for (const [index, who, amount] of deposits) {
        await depositToken(c, c.fee, c[who], ids[index], amount);
        await expectBacked(`after ${who} deposits ${amount} into channel ${index}`);
      }

      for (const [index, channel] of c.channels.entries()) {
        const held = await c.adjudicator.holdings(asset, channel.id);
        const toBob = held / 3n;
        const outcome = [
          exit(asset, [
            [c.alice.address, held - toBob],
            [c.bob.address, toBob],
          ]),
        ];
        const hash = await concludeWith(c, channel, outcome);
        await expect(c.adjudicator.transferAllAssets(channel.id, hash, outcome, 0n)).to.changeTokenBalances(
          ethers,
          c.fee,
          [c.alice, c.bob, c.adjudicator],
          [afterFee(held - toBob), afterFee(toBob), -held],
        );
        await expectBacked(`after channel ${index} is paid out`);
      }
      expect(await c.fee.balanceOf(c.adjudicatorAddress)).to.equal(0n);
    });

    it("when paid out: the adjudicator's balance drops by exactly the amount sent, so the payout is accepted; each payee receives 99%", async () => {
      // The fee is burnt from what arrives, not added to what leaves, so the adjudicator's own balance check passes:
      // the payees bear the fee on the way out as the depositor did on the way in.
      const c = await loadFixture(tokensFixture);
      const [channel] = c.channels;
      const asset = await c.fee.getAddress();
      await depositToken(c, c.fee, c.alice, channel.id, 1000n);
      const outcome = [
        exit(asset, [
          [c.alice.address, 490n],
          [c.bob.address, 500n],
        ]),
      ];
      const hash = await concludeWith(c, channel, outcome);
      await expect(c.adjudicator.transferAllAssets(channel.id, hash, outcome, 0n)).to.changeTokenBalances(
        ethers,
        c.fee,
        [c.alice, c.bob, c.adjudicator],
        [afterFee(490n), afterFee(500n), -990n],
      );
      expect(await c.adjudicator.holdings(asset, channel.id)).to.equal(0n);
    });
  });
});
