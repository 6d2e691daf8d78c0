// docs/security.md row 12 for tokens whose balances move by another amount than the one transferred: a rebasing token
// (RebasingToken: its owner scales every balance, or makes every transfer rebase first) and a token that charges
// the sender a fee on top (SenderFeeToken). The adjudicator measures its own balance around every token call:
// a deposit is credited what arrived, and refused if its balance fell or the depositor's balance fell by another
// amount than sent (a sender fee, a rebase during the transfer); a payout whose balance change differs from the
// amount debited reverts with TokenBalanceMismatch(asset, expected, actual), and nothing is lost.
import { expect } from "chai";
import { ethers, networkHelpers } from "../helpers/fixtures.js";
import { concludeWith, depositToken, exit, MINTED, type TokensContext, tokensFixture, totalHeld } from "./helpers.js";

const { loadFixture } = networkHelpers;

/** Channel 0 holds 1000 rebasing tokens from bob, concluded to pay alice 400 and bob 600. */
async function rebasingChannel(c: TokensContext) {
  const [channel] = c.channels;
  const asset = await c.rebasing.getAddress();
  await depositToken(c, c.rebasing, c.bob, channel.id, 1000n);
  const outcome = [
    exit(asset, [
      [c.alice.address, 400n],
      [c.bob.address, 600n],
    ]),
  ];
  const hash = await concludeWith(c, channel, outcome);
  return { channel, asset, outcome, hash };
}

describe("Adjudicator with tokens whose balances move by another amount", () => {
  describe("RebasingToken, rebasing during the transfer", () => {
    it("when a deposit's transferFrom shrinks the adjudicator's balance below where it was: TokenBalanceMismatch(token, amount, 0), nothing credited", async () => {
      const c = await loadFixture(tokensFixture);
      const [x, y] = c.channels;
      const asset = await c.rebasing.getAddress();
      await depositToken(c, c.rebasing, c.bob, x.id, 1000n);
      // -50%: the adjudicator's 1000 become 500, plus the 100 deposited: 600 < 1000.
      await c.rebasing.setRebaseOnTransfer(-5000n);
      await c.rebasing.connect(c.alice).approve(c.adjudicatorAddress, 100n);
      await expect(c.adjudicator.connect(c.alice).deposit(asset, y.id, 0n, 100n))
        .to.be.revertedWithCustomError(c.adjudicator, "TokenBalanceMismatch")
        .withArgs(asset, 100n, 0n);
      expect([await c.adjudicator.holdings(asset, x.id), await c.adjudicator.holdings(asset, y.id)]).to.deep.equal([
        1000n,
        0n,
      ]);
      expect(await c.rebasing.balanceOf(c.alice.address)).to.equal(MINTED);
      expect(await c.rebasing.balanceOf(c.adjudicatorAddress)).to.equal(1000n);
    });

    it("when a deposit's transferFrom rebases every balance by -1%: the depositor's balance falls by another amount than sent, so the deposit is refused (TokenBalanceMismatch), nothing credited", async () => {
      const c = await loadFixture(tokensFixture);
      const [x, y] = c.channels;
      const asset = await c.rebasing.getAddress();
      await depositToken(c, c.rebasing, c.bob, x.id, 1000n);
      await c.rebasing.setRebaseOnTransfer(-100n);
      await c.rebasing.connect(c.alice).approve(c.adjudicatorAddress, 100n);
      const aliceBefore = await c.rebasing.balanceOf(c.alice.address);
      const deposit = c.adjudicator.connect(c.alice).deposit(asset, y.id, 0n, 100n);
      await expect(deposit).to.be.revertedWithCustomError(c.adjudicator, "TokenBalanceMismatch");
      // Reverted as a whole: no credit, no rebase, the depositor keeps its tokens.
      expect([await c.adjudicator.holdings(asset, x.id), await c.adjudicator.holdings(asset, y.id)]).to.deep.equal([
        1000n,
        0n,
      ]);
      expect(await c.rebasing.balanceOf(c.alice.address)).to.equal(aliceBefore);
      expect(await totalHeld(c, asset, [x.id, y.id])).to.equal(await c.rebasing.balanceOf(c.adjudicatorAddress));
    });

    it("when a payout's transfer shrinks the balance (-50%): TokenBalanceMismatch(token, 400, 900), nothing paid, the channel still owes it", async () => {
      const c = await loadFixture(tokensFixture);
      const { channel, asset, outcome, hash } = await rebasingChannel(c);
      const status = await c.adjudicator.statusOf(channel.id);
      // Before 1000; the index halves (500); 400 leave as 800 shares; 200 shares are worth 100: moved 900.
      await c.rebasing.setRebaseOnTransfer(-5000n);
      await expect(c.adjudicator.transferAllAssets(channel.id, hash, outcome, 0n))
        .to.be.revertedWithCustomError(c.adjudicator, "TokenBalanceMismatch")
        .withArgs(asset, 400n, 900n);
      expect(await c.adjudicator.holdings(asset, channel.id)).to.equal(1000n);
      expect(await c.adjudicator.statusOf(channel.id)).to.deep.equal(status);
      expect(await c.rebasing.balanceOf(c.adjudicatorAddress)).to.equal(1000n);
      expect(await c.rebasing.balanceOf(c.alice.address)).to.equal(MINTED);
    });

    it("when a payout's transfer grows the balance (+25%): TokenBalanceMismatch(token, 400, 150), nothing paid", async () => {
      const c = await loadFixture(tokensFixture);
      const { channel, asset, outcome, hash } = await rebasingChannel(c);
      // Before 1000; the index grows to 1.25 (1250); 400 leave as 320 shares; 680 shares are worth 850: moved 150.
      await c.rebasing.setRebaseOnTransfer(2500n);
      await expect(c.adjudicator.transferAllAssets(channel.id, hash, outcome, 0n))
        .to.be.revertedWithCustomError(c.adjudicator, "TokenBalanceMismatch")
        .withArgs(asset, 400n, 150n);
      expect(await c.adjudicator.holdings(asset, channel.id)).to.equal(1000n);
      expect(await c.rebasing.balanceOf(c.adjudicatorAddress)).to.equal(1000n);
    });

    it("when the rebasing stops: the same payout goes through, exact to each payee", async () => {
      const c = await loadFixture(tokensFixture);
      const { channel, outcome, hash } = await rebasingChannel(c);
      await c.rebasing.setRebaseOnTransfer(-5000n);
      await expect(c.adjudicator.transferAllAssets(channel.id, hash, outcome, 0n)).to.be.revertedWithCustomError(
        c.adjudicator,
        "TokenBalanceMismatch",
      );
      await c.rebasing.setRebaseOnTransfer(0n);
      await expect(c.adjudicator.transferAllAssets(channel.id, hash, outcome, 0n)).to.changeTokenBalances(
        ethers,
        c.rebasing,
        [c.alice, c.bob, c.adjudicator],
        [400n, 600n, -1000n],
      );
    });
  });

  describe("RebasingToken, rebased by its owner between deposit and payout", () => {
    /** Channels 0 and 1 hold 1000 each; both concluded to pay alice 400 and bob 600. */
    async function twoChannels(c: TokensContext) {
      const asset = await c.rebasing.getAddress();
      const [a, b] = c.channels;
      await depositToken(c, c.rebasing, c.alice, a.id, 1000n);
      await depositToken(c, c.rebasing, c.bob, b.id, 1000n);
      const outcome = [
        exit(asset, [
          [c.alice.address, 400n],
          [c.bob.address, 600n],
        ]),
      ];
      const hashA = await concludeWith(c, a, outcome);
      const hashB = await concludeWith(c, b, outcome);
      return { asset, a, b, outcome, hashA, hashB };
    }

    it("when rebased down by half: the holdings (2000) exceed the balance (1000); the first channel out is paid in full, the last payout reverts in the token", async () => {
      // Row 12 cannot hold for a token that shrinks balances outside any call of ours: the adjudicator credits what
      // it measured at deposit and never sees the rebase. What it does guarantee: nothing leaves beyond its balance.
      const c = await loadFixture(tokensFixture);
      const { asset, a, b, outcome, hashA, hashB } = await twoChannels(c);
      await c.rebasing.rebase(1n, 2n);
      expect(await totalHeld(c, asset, [a.id, b.id])).to.equal(2000n);
      expect(await c.rebasing.balanceOf(c.adjudicatorAddress)).to.equal(1000n);

      await expect(c.adjudicator.transferAllAssets(a.id, hashA, outcome, 0n)).to.changeTokenBalances(
        ethers,
        c.rebasing,
        [c.alice, c.bob, c.adjudicator],
        [400n, 600n, -1000n],
      );
      await expect(c.adjudicator.transferAllAssets(b.id, hashB, outcome, 0n))
        .to.be.revertedWithCustomError(c.rebasing, "InsufficientBalance")
        .withArgs(c.adjudicatorAddress, 0n, 400n);
      expect(await c.adjudicator.holdings(asset, b.id)).to.equal(1000n);
      expect(await c.rebasing.balanceOf(c.adjudicatorAddress)).to.equal(0n);
    });

    it("when rebased up to double: each channel is paid exactly its outcome; the surplus (2000) stays in the adjudicator, credited to no channel", async () => {
      const c = await loadFixture(tokensFixture);
      const { asset, a, b, outcome, hashA, hashB } = await twoChannels(c);
      await c.rebasing.rebase(2n, 1n);
      for (const [id, hash] of [
        [a.id, hashA],
        [b.id, hashB],
      ]) {
        await expect(c.adjudicator.transferAllAssets(id, hash, outcome, 0n)).to.changeTokenBalances(
          ethers,
          c.rebasing,
          [c.alice, c.bob, c.adjudicator],
          [400n, 600n, -1000n],
        );
      }
      expect(await totalHeld(c, asset, [a.id, b.id])).to.equal(0n);
      expect(await c.rebasing.balanceOf(c.adjudicatorAddress)).to.equal(2000n);
    });
  });

  describe("SenderFeeToken: the sender pays 1% on top of every transfer", () => {
    it("when deposited: the depositor would pay 101%, so the deposit is refused (TokenBalanceMismatch(token, 1000, 1010)) and nothing moves; such tokens could never be paid out", async () => {
      const c = await loadFixture(tokensFixture);
      const [{ id }] = c.channels;
      const asset = await c.senderFee.getAddress();
      await c.senderFee.connect(c.alice).approve(c.adjudicatorAddress, 1000n);
      const deposit = c.adjudicator.connect(c.alice).deposit(asset, id, 0n, 1000n);
      await expect(deposit)
        .to.be.revertedWithCustomError(c.adjudicator, "TokenBalanceMismatch")
        .withArgs(asset, 1000n, 1010n);
      expect(await c.adjudicator.holdings(asset, id)).to.equal(0n);
      expect(await c.senderFee.balanceOf(c.alice.address)).to.equal(MINTED);
    });

    it("when paid out while the adjudicator holds other channels' tokens: TokenBalanceMismatch(token, 400, 404), nothing paid or lost", async () => {
      const c = await loadFixture(tokensFixture);
      const [a, b] = c.channels;
      const asset = await c.senderFee.getAddress();
      // Deposited while the fee was off; it is switched on afterwards (as an upgrade could).
      await c.senderFee.setFeeOn(false);
      await depositToken(c, c.senderFee, c.alice, a.id, 1000n);
      await depositToken(c, c.senderFee, c.bob, b.id, 1000n);
      await c.senderFee.setFeeOn(true);
      const outcome = [
        exit(asset, [
          [c.alice.address, 400n],
          [c.bob.address, 600n],
        ]),
      ];
      const hash = await concludeWith(c, a, outcome);
      await expect(c.adjudicator.transferAllAssets(a.id, hash, outcome, 0n))
        .to.be.revertedWithCustomError(c.adjudicator, "TokenBalanceMismatch")
        .withArgs(asset, 400n, 404n);
      expect(await totalHeld(c, asset, [a.id, b.id])).to.equal(2000n);
      expect(await c.senderFee.balanceOf(c.adjudicatorAddress)).to.equal(2000n);
    });

    it("when the adjudicator holds only this channel's tokens: the token itself refuses (ERC20InsufficientBalance), nothing paid", async () => {
      const c = await loadFixture(tokensFixture);
      const [a] = c.channels;
      const asset = await c.senderFee.getAddress();
      // Deposited while the fee was off; it is switched on afterwards (as an upgrade could).
      await c.senderFee.setFeeOn(false);
      await depositToken(c, c.senderFee, c.alice, a.id, 1000n);
      await c.senderFee.setFeeOn(true);
      const outcome = [exit(asset, [[c.bob.address, 1000n]])];
      const hash = await concludeWith(c, a, outcome);
      // The token burns its fee (10) first, then finds 990 for the 1000 to send.
      await expect(c.adjudicator.transferAllAssets(a.id, hash, outcome, 0n))
        .to.be.revertedWithCustomError(c.senderFee, "ERC20InsufficientBalance")
        .withArgs(c.adjudicatorAddress, 990n, 1000n);
      expect(await c.adjudicator.holdings(asset, a.id)).to.equal(1000n);
    });

    it("when a channel's outcome is a guarantee for another channel: nothing moves and nothing is credited; the 1000 stays owed in the paying channel, for reclaim", async () => {
      const c = await loadFixture(tokensFixture);
      const [a, b] = c.channels;
      const asset = await c.senderFee.getAddress();
      await c.senderFee.setFeeOn(false);
      await depositToken(c, c.senderFee, c.alice, a.id, 1000n);
      await c.senderFee.setFeeOn(true);
      const outcome = [exit(asset, [[b.id, 1000n]])];
      const hash = await concludeWith(c, a, outcome);
      await expect(c.adjudicator.transferAllAssets(a.id, hash, outcome, 0n)).to.changeTokenBalances(
        ethers,
        c.senderFee,
        [c.adjudicator],
        [0n],
      );
      expect([await c.adjudicator.holdings(asset, a.id), await c.adjudicator.holdings(asset, b.id)]).to.deep.equal([
        1000n,
        0n,
      ]);
    });
  });
});
