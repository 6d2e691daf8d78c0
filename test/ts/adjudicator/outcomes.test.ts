// docs/security.md row 8: outcomes that ask for more than the channel holds, amounts near 2^256 - 1 and long outcomes.
// Allocations are paid in order, each min(amount, what is left); the total paid never exceeds the holdings, and
// what could not be paid stays owed (the fingerprint commits it; an ETH top-up is refused, ADR 0004).
import { expect } from "chai";
import { MaxUint256, parseEther, Wallet, ZeroAddress, ZeroHash } from "ethers";
import { fingerprint, type Outcome, stateHash, toDestination, type VariablePart } from "../../../sdk/index.js";
import { ethers, networkHelpers } from "../helpers/fixtures.js";
import { committedEthFor, ethHeldNow, ethHeldOwing } from "../helpers/registration.js";
import { DEPOSIT, type Funded, finalizeWith, fundedFixture } from "./helpers.js";

const { loadFixture } = networkHelpers;

/** An ETH outcome paying `payees` in order. */
function ethExit(payees: [string, bigint][]): Outcome[number] {
  return {
    asset: ZeroAddress,
    allocations: payees.map(([to, amount]) => ({ destination: toDestination(to), amount })),
  };
}

function stateOf(outcome: Outcome): VariablePart {
  return { outcome, appData: "0x", turnNum: 2n, isFinal: false };
}

/** Finalizes the funded channel with `outcome` and pays it all out; returns the transaction and the state hash. */
async function finalizeAndPay(c: Funded, outcome: Outcome) {
  const vp = stateOf(outcome);
  await finalizeWith(c, vp);
  const hash = stateHash(c.id, vp);
  return {
    tx: c.adjudicator
      .connect(c.carol)
      .transferAllAssets(c.id, hash, outcome, await committedEthFor(c.adjudicator, c.id, hash, outcome)),
    hash,
  };
}

describe("Outcomes and holdings (security row 8)", () => {
  it("three allocations of 0.7 ETH from 1 ETH: alice 0.7, bob the 0.3 left, carol nothing; the adjudicator pays out exactly 1 ETH", async () => {
    const c = await loadFixture(fundedFixture);
    const seven = parseEther("0.7");
    const outcome = [
      ethExit([
        [c.alice.address, seven],
        [c.bob.address, seven],
        [c.carol.address, seven],
      ]),
    ];
    const { tx, hash } = await finalizeAndPay(c, outcome);
    await expect(tx).to.changeEtherBalances(
      ethers,
      [c.alice, c.bob, c.carol, c.adjudicator],
      [seven, parseEther("0.3"), 0n, -DEPOSIT],
    );
    expect(await ethers.provider.getBalance(c.adjudicatorAddress)).to.equal(0n);
    // Still owed: bob 0.4, carol 0.7, with nothing held. A top-up is refused: the depositor keeps its ETH.
    const owed = [
      ethExit([
        [c.alice.address, 0n],
        [c.bob.address, parseEther("0.4")],
        [c.carol.address, seven],
      ]),
    ];
    expect(await ethHeldOwing(c.adjudicator, c.id, hash, owed)).to.equal(0n);
    await expect(c.adjudicator.connect(c.alice).deposit(ZeroAddress, c.id, 0n, DEPOSIT, { value: DEPOSIT }))
      .to.be.revertedWithCustomError(c.adjudicator, "EthCommitted")
      .withArgs(c.id);
    expect(await ethers.provider.getBalance(c.adjudicatorAddress)).to.equal(0n);
  });

  it("allocations of 2^256 - 1 each: alice gets the whole 1 ETH, bob nothing; no overflow, and alice is still owed 2^256 - 1 - 1 ETH", async () => {
    const c = await loadFixture(fundedFixture);
    const outcome = [
      ethExit([
        [c.alice.address, MaxUint256],
        [c.bob.address, MaxUint256],
      ]),
    ];
    const { tx, hash } = await finalizeAndPay(c, outcome);
    await expect(tx).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [DEPOSIT, 0n, -DEPOSIT]);
    // Alice, first, is still owed almost everything, and nothing is held; presenting it again pays nothing.
    const owed = [
      ethExit([
        [c.alice.address, MaxUint256 - DEPOSIT],
        [c.bob.address, MaxUint256],
      ]),
    ];
    expect(await ethHeldOwing(c.adjudicator, c.id, hash, owed)).to.equal(0n);
    await expect(c.adjudicator.transferAllAssets(c.id, hash, owed, 0n)).to.changeEtherBalances(
      ethers,
      [c.alice, c.bob, c.adjudicator],
      [0n, 0n, 0n],
    );
  });

  it("a first allocation of 0 and a second of 2^256 - 1: bob gets the whole 1 ETH", async () => {
    const c = await loadFixture(fundedFixture);
    const outcome = [
      ethExit([
        [c.alice.address, 0n],
        [c.bob.address, MaxUint256],
      ]),
    ];
    const { tx } = await finalizeAndPay(c, outcome);
    await expect(tx).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [0n, DEPOSIT, -DEPOSIT]);
  });

  it("the same asset twice in one outcome: the second exit sees the holdings the first left; alice 1 ETH, bob nothing", async () => {
    const c = await loadFixture(fundedFixture);
    const outcome = [ethExit([[c.alice.address, DEPOSIT]]), ethExit([[c.bob.address, DEPOSIT]])];
    const { tx, hash } = await finalizeAndPay(c, outcome);
    await expect(tx).to.changeEtherBalances(ethers, [c.alice, c.bob, c.adjudicator], [DEPOSIT, 0n, -DEPOSIT]);
    const owed = [ethExit([[c.alice.address, 0n]]), ethExit([[c.bob.address, DEPOSIT]])];
    expect(await ethHeldOwing(c.adjudicator, c.id, hash, owed)).to.equal(0n);
  });

  it("an outcome that allocates nothing: nobody is paid, the 1 ETH stays in the channel and nothing is owed", async () => {
    const c = await loadFixture(fundedFixture);
    const outcome = [ethExit([[c.alice.address, 0n]])];
    const { tx, hash } = await finalizeAndPay(c, outcome);
    await expect(tx).to.changeEtherBalances(ethers, [c.alice, c.adjudicator], [0n, 0n]);
    // Nothing owed, 1 ETH held: the fingerprint commits just that.
    expect((await c.adjudicator.statusOf(c.id))[2]).to.equal(fingerprint(hash, ZeroHash, DEPOSIT));
    expect(
      await c.adjudicator.ethHoldings(c.id, { stateHash: hash, outcomeHash: ZeroHash, heldEth: DEPOSIT }),
    ).to.equal(DEPOSIT);
    await expect(
      c.adjudicator.transferAllAssets(c.id, hash, outcome, await committedEthFor(c.adjudicator, c.id, hash, outcome)),
    )
      .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
      .withArgs(c.id);
  });

  it("a long outcome, 100 allocations of 0.01 ETH to fresh accounts: each gets exactly 0.01 ETH, in one transaction", async () => {
    const c = await loadFixture(fundedFixture);
    const share = DEPOSIT / 100n;
    const payees = Array.from(
      { length: 100 },
      (_, i) => new Wallet(`0x${(0x1000 + i).toString(16).padStart(64, "0")}`).address,
    );
    const outcome = [ethExit(payees.map((p) => [p, share]))];
    const { tx } = await finalizeAndPay(c, outcome);
    await (await tx).wait();
    for (const payee of payees) expect(await ethers.provider.getBalance(payee)).to.equal(share);
    expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(0n);
    expect(await ethers.provider.getBalance(c.adjudicatorAddress)).to.equal(0n);
  });
});
