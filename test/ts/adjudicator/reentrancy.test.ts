// docs/security.md row 9: an ETH payee (ReentrantReceiver) that calls back into the adjudicator when it is paid.
// Payouts are guarded and run after every state change, so a re-entrant payout is refused, a re-entrant ETH deposit
// sees the holdings already debited, the holdings stay exact and nobody is paid twice. The receiver swallows the
// failure of its call, so the outer payout succeeds and the test reads what happened from the receiver.
import { expect } from "chai";
import { parseEther, ZeroAddress } from "ethers";
import { stateHash, toDestination, type VariablePart } from "../../../sdk/index.js";
import { ReentrantReceiver__factory } from "../../../typechain-types/index.js";
import { ethers, networkHelpers, signed } from "../helpers/fixtures.js";
import { committedEthFor, ethHeldNow } from "../helpers/registration.js";
import { DEPOSIT, finalizeWith, fundedFixture, payOut } from "./helpers.js";

const { loadFixture } = networkHelpers;
const RECEIVER_GETS = parseEther("0.4");
const BOB_GETS = parseEther("0.6");
const REENTRY_VALUE = parseEther("0.1");

/** Channel A (the funded one) pays [receiver 0.4, bob 0.6]; channel B is another channel of alice and bob. */
async function reentrancyFixture() {
  const c = await fundedFixture();
  const receiver = await new ReentrantReceiver__factory(c.deployer).deploy();
  const receiverAddress = await receiver.getAddress();
  const vp: VariablePart = {
    outcome: [
      {
        asset: ZeroAddress,
        allocations: [
          { destination: toDestination(receiverAddress), amount: RECEIVER_GETS },
          { destination: toDestination(c.bob.address), amount: BOB_GETS },
        ],
      },
    ],
    appData: "0x",
    turnNum: 2n,
    isFinal: false,
  };
  const b = c.channel({ channelNonce: 2n });
  return { ...c, receiver, receiverAddress, vp, b };
}

type Context = Awaited<ReturnType<typeof reentrancyFixture>>;

/** The receiver, when paid, calls the adjudicator with `payload` (and `value` wei, which it is given now). */
async function arm(c: Context, payload: string, value = 0n) {
  await c.receiver.arm(c.adjudicatorAddress, payload, value, { value });
}

/** The re-entrant call was tried and failed with `error(args)` from the adjudicator. */
async function expectReentryFailed(c: Context, error: string, args: unknown[] = []) {
  expect(await c.receiver.attempted()).to.equal(true);
  expect(await c.receiver.reentrySucceeded()).to.equal(false);
  expect(await c.receiver.reentryError()).to.equal(c.adjudicator.interface.encodeErrorResult(error, args));
}

/** After the payout: channel A holds nothing and its outcome cannot be paid again. */
async function expectPaidOnce(c: Context) {
  expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(0n);
  await expect(payOut(c, c.vp, c.bob))
    .to.be.revertedWithCustomError(c.adjudicator, "FingerprintMismatch")
    .withArgs(c.id);
}

describe("Re-entrant ETH payee (security row 9)", () => {
  it("re-entering transferAllAssets for the same outcome: refused (ReentrancyGuardReentrantCall); receiver 0.4 and bob 0.6, once each", async () => {
    const c = await loadFixture(reentrancyFixture);
    await finalizeWith(c, c.vp);
    const hash = stateHash(c.id, c.vp);
    await arm(c, c.adjudicator.interface.encodeFunctionData("transferAllAssets", [c.id, hash, c.vp.outcome, DEPOSIT]));
    await expect(
      c.adjudicator
        .connect(c.carol)
        .transferAllAssets(c.id, hash, c.vp.outcome, await committedEthFor(c.adjudicator, c.id, hash, c.vp.outcome)),
    ).to.changeEtherBalances(ethers, [c.receiver, c.bob, c.adjudicator], [RECEIVER_GETS, BOB_GETS, -DEPOSIT]);
    await expectReentryFailed(c, "ReentrancyGuardReentrantCall");
    await expectPaidOnce(c);
  });

  it("re-entering transfer with the outcome still owed (bob's 0.6): refused; bob is paid once, by a later transfer", async () => {
    const c = await loadFixture(reentrancyFixture);
    await finalizeWith(c, c.vp);
    const hash = stateHash(c.id, c.vp);
    // The outer call pays the receiver only ([0]); inside, the receiver tries to pay bob's allocation too.
    const owed = structuredClone(c.vp.outcome);
    owed[0].allocations[0].amount = 0n;
    await arm(c, c.adjudicator.interface.encodeFunctionData("transfer", [0n, c.id, hash, owed, DEPOSIT, [1n]]));
    await expect(
      c.adjudicator.transfer(
        0n,
        c.id,
        hash,
        c.vp.outcome,
        await committedEthFor(c.adjudicator, c.id, hash, c.vp.outcome),
        [0n],
      ),
    ).to.changeEtherBalances(ethers, [c.receiver, c.bob, c.adjudicator], [RECEIVER_GETS, 0n, -RECEIVER_GETS]);
    await expectReentryFailed(c, "ReentrancyGuardReentrantCall");
    // Bob's allocation is still owed, and paid once when asked.
    await expect(
      c.adjudicator.transfer(0n, c.id, hash, owed, await committedEthFor(c.adjudicator, c.id, hash, owed), [1n]),
    ).to.changeEtherBalances(ethers, [c.receiver, c.bob, c.adjudicator], [0n, BOB_GETS, -BOB_GETS]);
    await expectPaidOnce(c);
  });

  it("re-entering concludeAndTransferAllAssets of another channel: refused; channel B keeps its 0.5 ETH", async () => {
    const c = await loadFixture(reentrancyFixture);
    await c.adjudicator
      .connect(c.bob)
      .deposit(ZeroAddress, c.b.id, 0n, parseEther("0.5"), { value: parseEther("0.5") });
    const finalB = c.state(1n, 0n, parseEther("0.5"), { isFinal: true });
    const finalBSigned = await signed(c.b.fixedPart, c.b.id, finalB, [c.alice, c.bob]);
    await arm(
      c,
      c.adjudicator.interface.encodeFunctionData("concludeAndTransferAllAssets", [c.b.fixedPart, finalBSigned]),
    );
    await finalizeWith(c, c.vp);
    await expect(payOut(c, c.vp, c.carol)).to.changeEtherBalances(
      ethers,
      [c.receiver, c.bob, c.adjudicator],
      [RECEIVER_GETS, BOB_GETS, -DEPOSIT],
    );
    await expectReentryFailed(c, "ReentrancyGuardReentrantCall");
    expect(await ethHeldNow(c.adjudicator, c.b.id)).to.equal(parseEther("0.5"));
    expect(await c.adjudicator.isFinalized(c.b.id)).to.equal(false);
  });

  it("a cooperative close whose payee re-enters transferAllAssets: refused; each paid once by the close", async () => {
    const c = await loadFixture(reentrancyFixture);
    const final = { ...c.vp, isFinal: true };
    const hash = stateHash(c.id, final);
    await arm(c, c.adjudicator.interface.encodeFunctionData("transferAllAssets", [c.id, hash, final.outcome, DEPOSIT]));
    await expect(c.adjudicator.concludeAndTransferAllAssets(c.fixedPart, await c.byBoth(final))).to.changeEtherBalances(
      ethers,
      [c.receiver, c.bob, c.adjudicator],
      [RECEIVER_GETS, BOB_GETS, -DEPOSIT],
    );
    await expectReentryFailed(c, "ReentrancyGuardReentrantCall");
    expect(await ethHeldNow(c.adjudicator, c.id)).to.equal(0n);
  });

  it("re-entering an ETH deposit into another channel: allowed (no funds leave); B holds exactly the 0.1 re-deposited, A nothing", async () => {
    const c = await loadFixture(reentrancyFixture);
    await finalizeWith(c, c.vp);
    await arm(
      c,
      c.adjudicator.interface.encodeFunctionData("deposit", [ZeroAddress, c.b.id, 0n, REENTRY_VALUE]),
      REENTRY_VALUE,
    );
    const tx = payOut(c, c.vp, c.carol);
    await expect(tx).to.changeEtherBalances(
      ethers,
      [c.receiver, c.bob, c.adjudicator],
      [RECEIVER_GETS - REENTRY_VALUE, BOB_GETS, REENTRY_VALUE - DEPOSIT],
    );
    await expect(tx).to.emit(c.adjudicator, "HoldingsUpdated").withArgs(c.b.id, ZeroAddress, REENTRY_VALUE);
    expect(await c.receiver.reentrySucceeded()).to.equal(true);
    expect(await ethHeldNow(c.adjudicator, c.b.id)).to.equal(REENTRY_VALUE);
    expect(await ethers.provider.getBalance(c.adjudicatorAddress)).to.equal(REENTRY_VALUE);
    await expectPaidOnce(c);
  });

  it("re-entering an ETH deposit into the paying channel: EthCommitted (its ETH is committed, the debit came first); each paid once", async () => {
    const c = await loadFixture(reentrancyFixture);
    await finalizeWith(c, c.vp);
    await arm(
      c,
      c.adjudicator.interface.encodeFunctionData("deposit", [ZeroAddress, c.id, DEPOSIT, REENTRY_VALUE]),
      REENTRY_VALUE,
    );
    await expect(payOut(c, c.vp, c.carol)).to.changeEtherBalances(
      ethers,
      [c.receiver, c.bob, c.adjudicator],
      [RECEIVER_GETS, BOB_GETS, -DEPOSIT],
    );
    await expectReentryFailed(c, "EthCommitted", [c.id]);
    await expectPaidOnce(c);
  });

  it("re-entering an ERC-20 deposit: refused by the guard (ReentrancyGuardReentrantCall); no token moves", async () => {
    const c = await loadFixture(reentrancyFixture);
    const asset = await c.token.getAddress();
    await finalizeWith(c, c.vp);
    await arm(c, c.adjudicator.interface.encodeFunctionData("deposit", [asset, c.b.id, 0n, 1n]));
    await expect(payOut(c, c.vp, c.carol)).to.changeEtherBalances(
      ethers,
      [c.receiver, c.bob],
      [RECEIVER_GETS, BOB_GETS],
    );
    await expectReentryFailed(c, "ReentrancyGuardReentrantCall");
    expect(await c.adjudicator.holdings(asset, c.b.id)).to.equal(0n);
  });
});
