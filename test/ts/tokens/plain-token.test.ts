// A plain ERC-20 (TestToken) in the adjudicator: deposits need an approval and the holdings the depositor saw,
// payouts go to addresses or to other channels, and an outcome with ETH and a token is paid all at once or one
// asset at a time. Every test says where each token and wei goes.
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import type { Outcome } from "../../../sdk/index.js";
import { ethers, networkHelpers } from "../helpers/fixtures.js";
import { committedEthFor, ethHeldNow, ethHeldOwing } from "../helpers/registration.js";
import { concludeWith, depositToken, exit, finalState, MINTED, type TokensContext, tokensFixture } from "./helpers.js";

const { loadFixture } = networkHelpers;

describe("Adjudicator with a plain ERC-20 (TestToken)", () => {
  describe("deposit", () => {
    it("when the adjudicator is not approved: the token refuses (ERC20InsufficientAllowance), nothing credited", async () => {
      const c = await loadFixture(tokensFixture);
      const [{ id }] = c.channels;
      const asset = await c.plain.getAddress();
      await expect(c.adjudicator.connect(c.alice).deposit(asset, id, 0n, 1000n))
        .to.be.revertedWithCustomError(c.plain, "ERC20InsufficientAllowance")
        .withArgs(c.adjudicatorAddress, 0n, 1000n);
      expect(await c.adjudicator.holdings(asset, id)).to.equal(0n);
      expect(await c.plain.balanceOf(c.alice.address)).to.equal(MINTED);
    });

    it("when approved: the channel is credited exactly the amount, which moves from the depositor to the adjudicator", async () => {
      const c = await loadFixture(tokensFixture);
      const [{ id }] = c.channels;
      const asset = await c.plain.getAddress();
      const tx = depositToken(c, c.plain, c.alice, id, 1000n);
      await expect(tx).to.emit(c.adjudicator, "HoldingsUpdated").withArgs(id, asset, 1000n);
      await expect(tx).to.changeTokenBalances(ethers, c.plain, [c.alice, c.adjudicator], [-1000n, 1000n]);
      expect(await c.adjudicator.holdings(asset, id)).to.equal(1000n);
      expect(await ethHeldNow(c.adjudicator, id)).to.equal(0n);
    });

    it("when the approval is smaller than the amount: the token refuses, nothing credited", async () => {
      const c = await loadFixture(tokensFixture);
      const [{ id }] = c.channels;
      const asset = await c.plain.getAddress();
      await c.plain.connect(c.alice).approve(c.adjudicatorAddress, 999n);
      await expect(c.adjudicator.connect(c.alice).deposit(asset, id, 0n, 1000n))
        .to.be.revertedWithCustomError(c.plain, "ERC20InsufficientAllowance")
        .withArgs(c.adjudicatorAddress, 999n, 1000n);
      expect(await c.adjudicator.holdings(asset, id)).to.equal(0n);
    });

    it("when expectedHeld is stale (another deposit landed first): HoldingsChanged, the late depositor keeps its tokens", async () => {
      const c = await loadFixture(tokensFixture);
      const [{ id }] = c.channels;
      const asset = await c.plain.getAddress();
      await depositToken(c, c.plain, c.alice, id, 1000n);
      await c.plain.connect(c.bob).approve(c.adjudicatorAddress, 500n);
      await expect(c.adjudicator.connect(c.bob).deposit(asset, id, 0n, 500n))
        .to.be.revertedWithCustomError(c.adjudicator, "HoldingsChanged")
        .withArgs(id, asset, 0n, 1000n);
      expect(await c.plain.balanceOf(c.bob.address)).to.equal(MINTED);
      // With the holdings it now sees, it deposits.
      await expect(c.adjudicator.connect(c.bob).deposit(asset, id, 1000n, 500n)).to.changeTokenBalances(
        ethers,
        c.plain,
        [c.bob, c.adjudicator],
        [-500n, 500n],
      );
      expect(await c.adjudicator.holdings(asset, id)).to.equal(1500n);
    });

    it("when ETH is sent along with the token deposit: EthSentWithTokenDeposit, nothing moves", async () => {
      const c = await loadFixture(tokensFixture);
      const [{ id }] = c.channels;
      const asset = await c.plain.getAddress();
      await c.plain.connect(c.alice).approve(c.adjudicatorAddress, 1000n);
      await expect(c.adjudicator.connect(c.alice).deposit(asset, id, 0n, 1000n, { value: 1n }))
        .to.be.revertedWithCustomError(c.adjudicator, "EthSentWithTokenDeposit")
        .withArgs(1n);
      expect(await c.adjudicator.holdings(asset, id)).to.equal(0n);
    });

    it("when the amount is 0: ZeroDeposit", async () => {
      const c = await loadFixture(tokensFixture);
      const [{ id }] = c.channels;
      await expect(
        c.adjudicator.connect(c.alice).deposit(await c.plain.getAddress(), id, 0n, 0n),
      ).to.be.revertedWithCustomError(c.adjudicator, "ZeroDeposit");
    });
  });

  describe("transferAllAssets and transfer", () => {
    it("when the final outcome splits the deposit: each payee gets exactly its allocation, once", async () => {
      const c = await loadFixture(tokensFixture);
      const [channel] = c.channels;
      const asset = await c.plain.getAddress();
      await depositToken(c, c.plain, c.alice, channel.id, 1000n);
      const outcome = [
        exit(asset, [
          [c.alice.address, 300n],
          [c.bob.address, 700n],
        ]),
      ];
      const hash = await concludeWith(c, channel, outcome);
      await expect(
        c.adjudicator.transferAllAssets(
          channel.id,
          hash,
          outcome,
          await committedEthFor(c.adjudicator, channel.id, hash, outcome),
        ),
      ).to.changeTokenBalances(ethers, c.plain, [c.alice, c.bob, c.adjudicator], [300n, 700n, -1000n]);
      expect(await c.adjudicator.holdings(asset, channel.id)).to.equal(0n);
      await expect(
        c.adjudicator.transferAllAssets(
          channel.id,
          hash,
          outcome,
          await committedEthFor(c.adjudicator, channel.id, hash, outcome),
        ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
        .withArgs(channel.id);
    });

    it("when one allocation is paid by index: only that payee is paid; the rest is paid later from the outcome still owed", async () => {
      const c = await loadFixture(tokensFixture);
      const [channel] = c.channels;
      const asset = await c.plain.getAddress();
      await depositToken(c, c.plain, c.alice, channel.id, 1000n);
      const outcome = [
        exit(asset, [
          [c.alice.address, 300n],
          [c.bob.address, 700n],
        ]),
      ];
      const hash = await concludeWith(c, channel, outcome);
      await expect(
        c.adjudicator.transfer(
          0n,
          channel.id,
          hash,
          outcome,
          await committedEthFor(c.adjudicator, channel.id, hash, outcome),
          [1n],
        ),
      ).to.changeTokenBalances(ethers, c.plain, [c.alice, c.bob, c.adjudicator], [0n, 700n, -700n]);
      const owed = [
        exit(asset, [
          [c.alice.address, 300n],
          [c.bob.address, 0n],
        ]),
      ];
      await expect(
        c.adjudicator.transfer(
          0n,
          channel.id,
          hash,
          outcome,
          await committedEthFor(c.adjudicator, channel.id, hash, outcome),
          [],
        ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
        .withArgs(channel.id);
      await expect(
        c.adjudicator.transfer(
          0n,
          channel.id,
          hash,
          owed,
          await committedEthFor(c.adjudicator, channel.id, hash, owed),
          [],
        ),
      ).to.changeTokenBalances(ethers, c.plain, [c.alice, c.bob, c.adjudicator], [300n, 0n, -300n]);
      expect(await c.adjudicator.holdings(asset, channel.id)).to.equal(0n);
    });

    it("a guarantee for another channel in a token: bob is paid 400, the 600 stays owed in the channel for reclaim, and the target is credited nothing", async () => {
      const c = await loadFixture(tokensFixture);
      const [a, b] = c.channels;
      const asset = await c.plain.getAddress();
      await depositToken(c, c.plain, c.alice, a.id, 1000n);
      const outcomeA = [
        exit(asset, [
          [c.bob.address, 400n],
          [b.id, 600n],
        ]),
      ];
      const hashA = await concludeWith(c, a, outcomeA);

      const tx = c.adjudicator.transferAllAssets(
        a.id,
        hashA,
        outcomeA,
        await committedEthFor(c.adjudicator, a.id, hashA, outcomeA),
      );
      await expect(tx).to.emit(c.adjudicator, "HoldingsUpdated").withArgs(a.id, asset, 600n);
      await expect(tx).to.changeTokenBalances(ethers, c.plain, [c.bob, c.adjudicator], [400n, -400n]);
      expect([await c.adjudicator.holdings(asset, a.id), await c.adjudicator.holdings(asset, b.id)]).to.deep.equal([
        600n,
        0n,
      ]);
      expect(await c.plain.balanceOf(c.adjudicatorAddress)).to.equal(600n);
    });
  });

  describe("an outcome with two assets (ETH and TestToken)", () => {
    const ETH = parseEther("1");

    async function twoAssetChannel(c: TokensContext) {
      const [channel] = c.channels;
      const asset = await c.plain.getAddress();
      await c.adjudicator.connect(c.alice).deposit(ZeroAddress, channel.id, 0n, ETH, { value: ETH });
      await depositToken(c, c.plain, c.alice, channel.id, 1000n);
      const outcome: Outcome = [
        exit(ZeroAddress, [
          [c.alice.address, parseEther("0.4")],
          [c.bob.address, parseEther("0.6")],
        ]),
        exit(asset, [
          [c.alice.address, 250n],
          [c.bob.address, 750n],
        ]),
      ];
      return { channel, asset, outcome };
    }

    it("when paid with transferAllAssets: both assets in one transaction, exact to each payee", async () => {
      const c = await loadFixture(tokensFixture);
      const { channel, asset, outcome } = await twoAssetChannel(c);
      const hash = await concludeWith(c, channel, outcome);
      const tx = c.adjudicator
        .connect(c.carol)
        .transferAllAssets(channel.id, hash, outcome, await committedEthFor(c.adjudicator, channel.id, hash, outcome));
      await expect(tx).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [parseEther("0.4"), parseEther("0.6"), -ETH],
      );
      await expect(tx).to.changeTokenBalances(ethers, c.plain, [c.alice, c.bob, c.adjudicator], [250n, 750n, -1000n]);
      expect([
        await ethHeldNow(c.adjudicator, channel.id),
        await c.adjudicator.holdings(asset, channel.id),
      ]).to.deep.equal([0n, 0n]);
    });

    it("when paid by concludeAndTransferAllAssets: the same, in the closing transaction", async () => {
      const c = await loadFixture(tokensFixture);
      const { channel, outcome } = await twoAssetChannel(c);
      const tx = c.adjudicator
        .connect(c.carol)
        .concludeAndTransferAllAssets(channel.fixedPart, await finalState(c, channel, outcome));
      await expect(tx).to.changeEtherBalances(ethers, [c.alice, c.bob], [parseEther("0.4"), parseEther("0.6")]);
      await expect(tx).to.changeTokenBalances(ethers, c.plain, [c.alice, c.bob], [250n, 750n]);
    });

    it("when paid by transfer(assetIndex): one asset per call, the other stays owed until its own call", async () => {
      const c = await loadFixture(tokensFixture);
      const { channel, asset, outcome } = await twoAssetChannel(c);
      const hash = await concludeWith(c, channel, outcome);

      await expect(
        c.adjudicator.transfer(
          2n,
          channel.id,
          hash,
          outcome,
          await committedEthFor(c.adjudicator, channel.id, hash, outcome),
          [],
        ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "InvalidAssetIndex")
        .withArgs(2n, 2n);

      // The token first: ETH does not move.
      const tokenTx = c.adjudicator
        .connect(c.carol)
        .transfer(1n, channel.id, hash, outcome, await committedEthFor(c.adjudicator, channel.id, hash, outcome), []);
      await expect(tokenTx).to.changeTokenBalances(
        ethers,
        c.plain,
        [c.alice, c.bob, c.adjudicator],
        [250n, 750n, -1000n],
      );
      await expect(tokenTx).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [0n, 0n, 0n]);

      // The outcome still owed has the token's allocations at 0; the original no longer matches.
      const owed: Outcome = [
        outcome[0],
        exit(asset, [
          [c.alice.address, 0n],
          [c.bob.address, 0n],
        ]),
      ];
      expect(await ethHeldOwing(c.adjudicator, channel.id, hash, owed)).to.equal(ETH);
      await expect(
        c.adjudicator.transfer(
          0n,
          channel.id,
          hash,
          outcome,
          await committedEthFor(c.adjudicator, channel.id, hash, outcome),
          [],
        ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
        .withArgs(channel.id);
      const ethTx = c.adjudicator
        .connect(c.carol)
        .transfer(0n, channel.id, hash, owed, await committedEthFor(c.adjudicator, channel.id, hash, owed), []);
      await expect(ethTx).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [parseEther("0.4"), parseEther("0.6"), -ETH],
      );
      await expect(ethTx).to.changeTokenBalances(ethers, c.plain, [c.adjudicator], [0n]);

      // Nothing is owed any more: no outcome matches.
      const paid: Outcome = [
        exit(ZeroAddress, [
          [c.alice.address, 0n],
          [c.bob.address, 0n],
        ]),
        owed[1],
      ];
      await expect(
        c.adjudicator.transfer(
          0n,
          channel.id,
          hash,
          paid,
          await committedEthFor(c.adjudicator, channel.id, hash, paid),
          [],
        ),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
        .withArgs(channel.id);
    });
  });
});
