// deposit, ETH and ERC-20 (docs/security.md rows 13 and 14, ADRs 0002 and 0004): a deposit is credited exactly what it
// brings, to a channel id only, and only if the holdings are what the depositor saw; ETH only while the channel is
// open; a refused deposit moves nothing.
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import { outcomeHash, stateHash, toDestination } from "../../../sdk/index.js";
import { ethers, networkHelpers } from "../helpers/fixtures.js";
import { ethHeldNow } from "../helpers/registration.js";
import { challengeWith, DEPOSIT, type Funded, finalizeWith, fundedFixture, payOut } from "./helpers.js";

const { loadFixture } = networkHelpers;

/** The ETH balance of `account` and the channel's ETH holdings stay exactly as they were. */
async function expectNothingMoved(c: Funded, account: string, before: bigint) {
  expect(await ethers.provider.getBalance(account)).to.equal(before);
  expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
}

describe("Adjudicator.deposit", () => {
  describe("when ETH is deposited into a channel", () => {
    it("the first deposit: the depositor pays exactly the amount, the channel holds it (HoldingsUpdated)", async () => {
      const c = await loadFixture(fundedFixture);
      const { id } = c.channel({ channelNonce: 2n });
      const tx = c.adjudicator.connect(c.bob).deposit(ZeroAddress, id, 0n, 123n, { value: 123n });
      await expect(tx).to.emit(c.adjudicator, "HoldingsUpdated").withArgs(id, ZeroAddress, 123n);
      await expect(tx).to.changeEtherBalances(ethers, [c.bob, c.adjudicator], [-123n, 123n]);
      expect(await ethHeldNow(c.adjudicator, id)).to.equal(123n);
    });

    it("a second deposit with the holdings it saw: the channel holds both deposits, 1 ETH + 1 wei", async () => {
      const c = await loadFixture(fundedFixture);
      const tx = c.adjudicator.connect(c.bob).deposit(ZeroAddress, c.id, DEPOSIT, 1n, { value: 1n });
      await expect(tx)
        .to.emit(c.adjudicator, "HoldingsUpdated")
        .withArgs(c.id, ZeroAddress, DEPOSIT + 1n);
      await expect(tx).to.changeEtherBalances(ethers, [c.bob, c.adjudicator], [-1n, 1n]);
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT + 1n);
    });

    it("anyone may fund any channel id (a stranger's deposit is the channel's like any other)", async () => {
      const c = await loadFixture(fundedFixture);
      await expect(
        c.adjudicator.connect(c.eve).deposit(ZeroAddress, c.id, DEPOSIT, 5n, { value: 5n }),
      ).to.changeEtherBalances(ethers, [c.eve, c.adjudicator], [-5n, 5n]);
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT + 5n);
    });

    const wrongValues: [string, bigint][] = [
      ["1 wei less than the amount", 99n],
      ["1 wei more than the amount", 101n],
      ["nothing", 0n],
    ];
    for (const [what, value] of wrongValues) {
      it(`sending ${what}: IncorrectEthAmount(${value}, 100), the depositor keeps its ETH`, async () => {
        const c = await loadFixture(fundedFixture);
        const before = await ethers.provider.getBalance(c.bob.address);
        await expect(c.adjudicator.connect(c.bob).deposit(ZeroAddress, c.id, DEPOSIT, 100n, { value }))
          .to.be.revertedWithCustomError(c.adjudicator, "IncorrectEthAmount")
          .withArgs(value, 100n);
        await expectNothingMoved(c, c.bob.address, before);
      });
    }

    it("an amount of 0 with no value: ZeroDeposit, nothing moves", async () => {
      const c = await loadFixture(fundedFixture);
      await expect(c.adjudicator.connect(c.bob).deposit(ZeroAddress, c.id, DEPOSIT, 0n)).to.be.revertedWithCustomError(
        c.adjudicator,
        "ZeroDeposit",
      );
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
    });
  });

  describe("when expectedHeld is stale (security row 14: a double deposit, or a re-org dropped a deposit)", () => {
    const stale: [string, bigint][] = [
      ["0 while the channel holds 1 ETH (another deposit landed first)", 0n],
      ["2 ETH while it holds 1 ETH (a deposit the depositor saw was re-orged away)", 2n * DEPOSIT],
      ["1 wei less than what it holds", DEPOSIT - 1n],
    ];
    for (const [what, expectedHeld] of stale) {
      it(`expectedHeld ${what}: HoldingsChanged, the depositor keeps every wei, the holdings stay 1 ETH`, async () => {
        const c = await loadFixture(fundedFixture);
        const before = await ethers.provider.getBalance(c.bob.address);
        await expect(c.adjudicator.connect(c.bob).deposit(ZeroAddress, c.id, expectedHeld, DEPOSIT, { value: DEPOSIT }))
          .to.be.revertedWithCustomError(c.adjudicator, "HoldingsChanged")
          .withArgs(c.id, ZeroAddress, expectedHeld, DEPOSIT);
        await expectNothingMoved(c, c.bob.address, before);
      });
    }

    it("the same deposit sent twice with the same expectedHeld: the second is refused, the channel gets it once", async () => {
      const c = await loadFixture(fundedFixture);
      const { id } = c.channel({ channelNonce: 2n });
      await c.adjudicator.connect(c.bob).deposit(ZeroAddress, id, 0n, DEPOSIT, { value: DEPOSIT });
      await expect(c.adjudicator.connect(c.bob).deposit(ZeroAddress, id, 0n, DEPOSIT, { value: DEPOSIT }))
        .to.be.revertedWithCustomError(c.adjudicator, "HoldingsChanged")
        .withArgs(id, ZeroAddress, 0n, DEPOSIT);
      expect(await ethHeldNow(c.adjudicator, id)).to.equal(DEPOSIT);
      expect(await ethers.provider.getBalance(c.adjudicatorAddress)).to.equal(2n * DEPOSIT);
    });
  });

  describe("when the destination is an external address, not a channel id (security row 13)", () => {
    it("ETH: DepositToExternalDestination, the depositor keeps its ETH", async () => {
      const c = await loadFixture(fundedFixture);
      const destination = toDestination(c.bob.address);
      const before = await ethers.provider.getBalance(c.bob.address);
      await expect(c.adjudicator.connect(c.bob).deposit(ZeroAddress, destination, 0n, 100n, { value: 100n }))
        .to.be.revertedWithCustomError(c.adjudicator, "DepositToExternalDestination")
        .withArgs(destination);
      expect(await ethers.provider.getBalance(c.bob.address)).to.equal(before);
      expect(await ethHeldNow(c.adjudicator, destination)).to.equal(0n);
    });

    it("ERC-20: DepositToExternalDestination, the depositor keeps its tokens", async () => {
      const c = await loadFixture(fundedFixture);
      const asset = await c.token.getAddress();
      const destination = toDestination(c.alice.address);
      await c.token.connect(c.alice).approve(c.adjudicatorAddress, 100n);
      await expect(c.adjudicator.connect(c.alice).deposit(asset, destination, 0n, 100n))
        .to.be.revertedWithCustomError(c.adjudicator, "DepositToExternalDestination")
        .withArgs(destination);
      expect(await c.token.balanceOf(c.alice.address)).to.equal(1_000_000n);
      expect(await c.token.balanceOf(c.adjudicatorAddress)).to.equal(0n);
    });
  });

  describe("when an ERC-20 is deposited", () => {
    it("with an approval: the channel holds the tokens, apart from its ETH holdings", async () => {
      const c = await loadFixture(fundedFixture);
      const asset = await c.token.getAddress();
      await c.token.connect(c.alice).approve(c.adjudicatorAddress, 700n);
      const tx = c.adjudicator.connect(c.alice).deposit(asset, c.id, 0n, 700n);
      await expect(tx).to.emit(c.adjudicator, "HoldingsUpdated").withArgs(c.id, asset, 700n);
      await expect(tx).to.changeTokenBalances(ethers, c.token, [c.alice, c.adjudicator], [-700n, 700n]);
      expect([await c.adjudicator.holdings(asset, c.id), await ethHeldNow(c.adjudicator, c.id)]).to.deep.equal([
        700n,
        DEPOSIT,
      ]);
    });

    it("with ETH attached (security row 13): EthSentWithTokenDeposit, neither the ETH nor the tokens move", async () => {
      const c = await loadFixture(fundedFixture);
      const asset = await c.token.getAddress();
      await c.token.connect(c.alice).approve(c.adjudicatorAddress, 700n);
      const before = await ethers.provider.getBalance(c.alice.address);
      await expect(c.adjudicator.connect(c.alice).deposit(asset, c.id, 0n, 700n, { value: 700n }))
        .to.be.revertedWithCustomError(c.adjudicator, "EthSentWithTokenDeposit")
        .withArgs(700n);
      await expectNothingMoved(c, c.alice.address, before);
      expect(await c.token.balanceOf(c.alice.address)).to.equal(1_000_000n);
      expect(await c.adjudicator.holdings(asset, c.id)).to.equal(0n);
    });

    it("with a stale expectedHeld: HoldingsChanged, the tokens stay with the depositor", async () => {
      const c = await loadFixture(fundedFixture);
      const asset = await c.token.getAddress();
      await c.token.connect(c.alice).approve(c.adjudicatorAddress, 700n);
      await expect(c.adjudicator.connect(c.alice).deposit(asset, c.id, 1n, 700n))
        .to.be.revertedWithCustomError(c.adjudicator, "HoldingsChanged")
        .withArgs(c.id, asset, 1n, 0n);
      expect(await c.token.balanceOf(c.alice.address)).to.equal(1_000_000n);
    });

    it("an amount of 0: ZeroDeposit, nothing credited", async () => {
      const c = await loadFixture(fundedFixture);
      await expect(
        c.adjudicator.connect(c.alice).deposit(await c.token.getAddress(), c.id, 0n, 0n),
      ).to.be.revertedWithCustomError(c.adjudicator, "ZeroDeposit");
    });
  });

  describe("when the channel's ETH is committed in its fingerprint (ADR 0004)", () => {
    it("during a challenge: EthCommitted, the depositor keeps its ETH and the channel still holds 1 ETH", async () => {
      const c = await loadFixture(fundedFixture);
      await challengeWith(c, c.state(2n, parseEther("0.4"), parseEther("0.6")));
      await expect(c.adjudicator.connect(c.carol).deposit(ZeroAddress, c.id, DEPOSIT, 5n, { value: 5n }))
        .to.be.revertedWithCustomError(c.adjudicator, "EthCommitted")
        .withArgs(c.id);
      expect(await ethers.provider.getBalance(c.adjudicator.target)).to.equal(DEPOSIT);
      expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(DEPOSIT);
    });

    it("finalized with an outcome still owed: EthCommitted; bob's missing 0.2 stays owed and the depositor keeps its ETH", async () => {
      // The final outcome asks for 1.2 ETH, the channel holds 1: alice gets 0.4, bob 0.6 of his 0.8.
      const c = await loadFixture(fundedFixture);
      const vp = c.state(2n, parseEther("0.4"), parseEther("0.8"));
      await finalizeWith(c, vp);
      await expect(payOut(c, vp, c.carol)).to.changeEtherBalances(
        ethers,
        [c.alice, c.bob, c.adjudicator],
        [parseEther("0.4"), parseEther("0.6"), -DEPOSIT],
      );
      await expect(
        c.adjudicator.connect(c.carol).deposit(ZeroAddress, c.id, 0n, parseEther("0.5"), { value: parseEther("0.5") }),
      )
        .to.be.revertedWithCustomError(c.adjudicator, "EthCommitted")
        .withArgs(c.id);
      // What is owed and held is what the fingerprint commits: bob 0.2, no ETH.
      const owed = c.state(2n, 0n, parseEther("0.2")).outcome;
      const registration = { stateHash: stateHash(c.id, vp), outcomeHash: outcomeHash(owed), heldEth: 0n };
      expect(await c.adjudicator.ethHoldings(c.id, registration)).to.equal(0n);
      await expect(c.adjudicator.holdings(ZeroAddress, c.id))
        .to.be.revertedWithCustomError(c.adjudicator, "EthCommitted")
        .withArgs(c.id);
      expect(await ethers.provider.getBalance(c.adjudicator.target)).to.equal(0n);
    });

    it("finalized and paid out: EthCommitted too; nothing is held and no outcome can be paid again", async () => {
      const c = await loadFixture(fundedFixture);
      const vp = c.state(2n, parseEther("0.5"), parseEther("0.5"));
      await finalizeWith(c, vp);
      await payOut(c, vp, c.carol);
      await expect(c.adjudicator.connect(c.carol).deposit(ZeroAddress, c.id, 0n, 7n, { value: 7n }))
        .to.be.revertedWithCustomError(c.adjudicator, "EthCommitted")
        .withArgs(c.id);
      // Fingerprint 0: nothing owed, nothing held; holdings() can say so.
      expect(await c.adjudicator.holdings(ZeroAddress, c.id)).to.equal(0n);
      for (const outcome of [vp.outcome, c.state(2n, 0n, 0n).outcome, c.state(2n, 7n, 0n).outcome]) {
        await expect(c.adjudicator.transferAllAssets(c.id, stateHash(c.id, vp), outcome, 0n))
          .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
          .withArgs(c.id);
      }
    });
  });
});
